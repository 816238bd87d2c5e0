"""The Time report: where the time went, grouped by customer, team, agent, ticket, sales order or work
type and/or per day, week or month, split into billable, non-billable and no-charge time, invoiced and
to invoice. Managers and accountants see everyone's time, agents their own.

Three queries whatever the data: the chart's periods (whose sums are the totals), the page of rows, and
the names of the page's keys.
"""

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.roles import sees_everything
from sales.models import Customer, SaleOrder, SaleOrderLine, ServicePolicy, WorkType
from tickets.models import HelpdeskTeam, Ticket
from timesheets.models import TimeEntry

from .params import Params, bucket_end, bucket_label, buckets, parse
from .tables import EXPORT_ROWS, PAGE_SIZE, Chart, Column, Report, Row, Series

BILLABLE, NON_BILLABLE, NO_CHARGE = 0, 1, 2
# Which kind of time an entry is: written off or on a no-charge work type is no charge (shown to the
# customer at 0.00); billing no line, or rejected, is non-billable (it never reaches an invoice).
CATEGORY = Case(
    When(written_off=True, then=Value(NO_CHARGE)),
    When(sale_line__isnull=True, then=Value(NON_BILLABLE)),
    When(approval=TimeEntry.Approval.REJECTED, then=Value(NON_BILLABLE)),
    When(work_type__billing=WorkType.Billing.NO_CHARGE, then=Value(NO_CHARGE)),
    default=Value(BILLABLE), output_field=IntegerField(),
)
# An entry's customer: its ticket's, else its task's, else its project's.
CUSTOMER = Coalesce("ticket__customer_id", "task__customer_id", "project__customer_id")

# Counted now (billable minutes: approved where the team asks it, on a line), on no invoice, and not on a
# prepaid block (billed by its quantity; manual lines take no time). The few prepaid lines are a subquery
# PostgreSQL hashes once, rather than a join of every entry to its line and product.
TO_INVOICE = Q(invoice_line__isnull=True, billable_minutes__gt=0) & ~Q(sale_line__in=SaleOrderLine.objects.filter(
    product__service_policy=ServicePolicy.ORDERED_PREPAID).values("pk"))

DIMENSIONS = {  # name: (the entry's key, the column's label)
    "customer": (CUSTOMER, gettext_lazy("Customer")),
    "team": (F("ticket__team_id"), gettext_lazy("Helpdesk Team")),
    "agent": (F("user_id"), gettext_lazy("Agent")),
    "ticket": (F("ticket_id"), gettext_lazy("Ticket")),
    "order": (F("sale_line__order_id"), gettext_lazy("Sales Order")),
    "work_type": (F("work_type_id"), gettext_lazy("Work type")),
}
FILTERS = tuple(DIMENSIONS)
TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
SUMS = {
    "billable": Sum("minutes", filter=Q(category=BILLABLE)),
    "non_billable": Sum("minutes", filter=Q(category=NON_BILLABLE)),
    "no_charge": Sum("minutes", filter=Q(category=NO_CHARGE)),
    "total": Sum("minutes"),
    "invoiced": Sum("minutes", filter=Q(invoice_line__isnull=False)),
    # What Create Invoice would take now (Unbilled work's time, status=to_invoice): counted (approved where
    # the team asks it), on a line billed on timesheets (a prepaid block's time is billed by its quantity).
    "to_invoice": Sum("minutes", filter=Q(TO_INVOICE)),
}
FIGURES = [Column("billable", gettext_lazy("Billable"), "minutes"),
           Column("non_billable", gettext_lazy("Non-billable"), "minutes"),
           Column("no_charge", gettext_lazy("No charge"), "minutes"), Column("total", gettext_lazy("Total"), "minutes"),
           Column("invoiced", gettext_lazy("Invoiced"), "minutes"),
           Column("to_invoice", gettext_lazy("To invoice"), "minutes")]
STACKS = [("billable", gettext_lazy("Billable")), ("non_billable", gettext_lazy("Non-billable")),
          ("no_charge", gettext_lazy("No charge"))]
PERIODS = {"day": gettext_lazy("Day"), "week": gettext_lazy("Week"), "month": gettext_lazy("Month")}


STATUSES = ("all", "to_invoice", "invoiced")


def time_params(data) -> Params:
    """from, to, group_by (a dimension and/or a unit; customer,week by default), the dimensions' ids as
    filters, and status: all, invoiced, or to_invoice (what Create Invoice would take now)."""
    return parse(data, dimensions=tuple(DIMENSIONS), filters=FILTERS, default_group_by="customer,week",
                 extra={"status": STATUSES})


def entries_for(*, user, params: Params) -> QuerySet[TimeEntry]:
    """The entries the report counts: the user's own for an agent, within the period and the filters."""
    entries = TimeEntry.objects.all() if sees_everything(user) else TimeEntry.objects.filter(user=user.pk)
    entries = entries.filter(date__gte=params.start, date__lte=params.end)
    for name, value in params.filters.items():
        entries = entries.alias(**{f"f_{name}": DIMENSIONS[name][0]}).filter(**{f"f_{name}": value})
    status = params.extra.get("status", "all")
    if status == "invoiced":
        entries = entries.filter(invoice_line__isnull=False)
    elif status == "to_invoice":  # what Create Invoice would take (the Unbilled work report's drill-down)
        entries = entries.filter(TO_INVOICE)
    return entries


def time_entries(*, user, params: Params) -> QuerySet[TimeEntry]:
    """The drill-down: the entries a row of the report counts (its filters), newest first, ready to list."""
    return (entries_for(user=user, params=params)
            .select_related("user", "ticket__customer", "task", "project", "work_type", "sale_line__order",
                            "invoice_line__invoice")
            .order_by("-date", "-pk"))


def _names(dimension: str, ids: set) -> dict:
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return {}
    if dimension == "agent":
        return {user.pk: user.get_full_name() or user.username for user in get_user_model().objects.filter(pk__in=ids)}
    if dimension == "ticket":
        return {pk: f"#{pk} {title}" for pk, title in Ticket.objects.filter(pk__in=ids).values_list("pk", "title")}
    model, field = {"customer": (Customer, "name"), "team": (HelpdeskTeam, "name"), "order": (SaleOrder, "name"),
                    "work_type": (WorkType, "name")}[dimension]
    return dict(model.objects.filter(pk__in=ids).values_list("pk", field))


NONE_LABELS = {"customer": gettext_lazy("No customer"), "team": gettext_lazy("No team"),
               "ticket": gettext_lazy("No ticket (task only)"), "order": gettext_lazy("No sales order"),
               "work_type": gettext_lazy("No work type"), "agent": ""}


def _figures(row: dict) -> dict:
    return {column.key: row.get(column.key) or 0 for column in FIGURES}


def time_report(*, user, params: Params, all_rows: bool = False) -> Report:
    """The report's page of rows (`params.page`), or every row for an export (`all_rows`, up to EXPORT_ROWS)."""
    entries = entries_for(user=user, params=params).alias(category=CATEGORY)
    unit, dimension = params.unit, params.dimension
    chart_unit = unit or "week"
    by_period = {row["period"]: row for row in entries.annotate(period=TRUNC[chart_unit]("date"))
                 .values("period").annotate(**SUMS).order_by("period")}
    axis = buckets(params.start, params.end, chart_unit)
    chart = Chart(kind="bars", unit="minutes", categories=[bucket_label(day, chart_unit) for day in axis],
                  series=[Series(key, label, [(by_period.get(day) or {}).get(key) or 0 for day in axis])
                          for key, label in STACKS])
    totals = {column.key: sum((row.get(column.key) or 0) for row in by_period.values()) for column in FIGURES}

    columns, keys = [], []
    grouped = entries
    if unit:
        columns.append(Column("period", PERIODS[unit], "text"))
        grouped = grouped.annotate(period=TRUNC[unit]("date"))
        keys.append("period")
    if dimension:
        columns.insert(0, Column(dimension, DIMENSIONS[dimension][1], "text"))
        grouped = grouped.annotate(key=DIMENSIONS[dimension][0])
        keys.append("key")
    columns += FIGURES + [Column("entries", gettext_lazy("Entries"), "number")]
    # The most time first within each period; periods in order.
    order = (["period"] if unit else []) + ["-total"] + (["key"] if dimension else [])
    size = EXPORT_ROWS if all_rows else PAGE_SIZE
    offset = 0 if all_rows else (params.page - 1) * PAGE_SIZE
    found = list(grouped.values(*keys).annotate(**SUMS, entries=Count("id")).order_by(*order)
                 [offset:offset + size + 1])
    names = _names(dimension, {row["key"] for row in found}) if dimension else {}
    rows = []
    for row in found[:size]:
        cells, filters = {**_figures(row), "entries": row["entries"]}, {**params.filters}
        start, end = params.start, params.end
        if unit:
            start = max(row["period"], params.start)
            end = min(bucket_end(row["period"], unit), params.end)
            cells["period"] = bucket_label(row["period"], unit)
        if dimension:
            cells[dimension] = names.get(row["key"], str(NONE_LABELS[dimension])) if row["key"] is not None \
                else str(NONE_LABELS[dimension])
            if row["key"] is not None:
                filters[dimension] = row["key"]
        filters.update({"from": start.isoformat(), "to": end.isoformat()})
        # An entry with no key cannot be singled out by an id: its row has no drill-down.
        rows.append(Row(cells, filters if not dimension or row["key"] is not None else {}))
    return Report(name="time", title=_("Time"), columns=columns, rows=rows, totals=totals, chart=chart,
                  params=params.echo(), page=params.page, has_next=len(found) > size)

