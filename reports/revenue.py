"""Revenue: posted invoices less posted credit notes (untaxed, in one currency), per month, customer,
team or sales order, over a period of invoice dates.

By customer or order it is the documents' own figures, two queries (the periods, which give the chart and
the totals, and the page of rows). By team, an invoice line's amount is shared among the teams of the time
entries it billed (those it still bills and those a credit note gave back), in proportion to their worked
minutes, to the cent by largest remainder; a line that billed no entry (prepaid, manual) is "No team".
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.roles import sees_everything
from invoicing.models import Invoice, InvoiceLine
from sales.identifiers import CURRENCIES
from sales.models import Company, Customer, SaleOrder
from tickets.models import HelpdeskTeam
from timesheets.models import TimeEntry

from .params import Params, bucket_label, buckets, parse
from .tables import EXPORT_ROWS, PAGE_SIZE, Chart, Column, Report, Row, Series

DIMENSIONS = ("customer", "team", "order")
LABELS = {"customer": gettext_lazy("Customer"), "team": gettext_lazy("Helpdesk Team"),
          "order": gettext_lazy("Sales Order")}
# A row whose key is none: a line that billed no time has no team.
NONE_LABELS = {"customer": gettext_lazy("No customer"), "team": gettext_lazy("No helpdesk team"),
               "order": gettext_lazy("No sales order")}
PERIODS = {"day": gettext_lazy("Day"), "week": gettext_lazy("Week"), "month": gettext_lazy("Month")}
TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
ZERO = Decimal("0.00")
FIGURES = [Column("invoiced", gettext_lazy("Invoiced"), "money"), Column("credited", gettext_lazy("Credited"), "money"),
           Column("net", gettext_lazy("Net"), "money")]
SUMS = {"invoiced": Sum("amount_untaxed", filter=Q(kind=Invoice.Kind.INVOICE)),
        "credited": Sum("amount_untaxed", filter=Q(kind=Invoice.Kind.CREDIT_NOTE)),
        "documents": Count("id")}


def revenue_params(data) -> Params:
    """from, to (the last 12 months by default), group_by (customer, team or order and/or month; month by
    default), customer (an id), currency (the company's by default), page."""
    currency = Company.current().currency
    return parse(data, dimensions=DIMENSIONS, filters=("customer",), default_group_by="month", default_days=365,
                 extra={"currency": (currency, *[code for code in CURRENCIES if code != currency])})


def documents_for(*, user, params: Params):
    if not sees_everything(user):
        return Invoice.objects.none()
    documents = Invoice.objects.filter(state=Invoice.State.POSTED, currency=params.extra["currency"],
                                       invoice_date__gte=params.start, invoice_date__lte=params.end)
    if "customer" in params.filters:
        documents = documents.filter(customer_id=params.filters["customer"])
    return documents


def _figures(invoiced, credited) -> dict:
    # SQLite sums decimals without their places: two places, as stored.
    invoiced, credited = Decimal(invoiced or ZERO).quantize(ZERO), Decimal(credited or ZERO).quantize(ZERO)
    return {"invoiced": invoiced, "credited": credited, "net": invoiced - credited}


def _chart(by_period: dict, params: Params, unit: str) -> tuple[Chart, dict]:
    axis = buckets(params.start, params.end, unit)
    net = [_figures(*by_period.get(day, (None, None)))["net"] for day in axis]
    totals = _figures(sum((v[0] or ZERO for v in by_period.values()), ZERO),
                      sum((v[1] or ZERO for v in by_period.values()), ZERO))
    return Chart(kind="bars", unit="money", categories=[bucket_label(day, unit) for day in axis],
                 series=[Series("net", _("Net revenue"), net)]), totals


def _names(dimension: str, ids) -> dict:
    model, field = {"customer": (Customer, "name"), "order": (SaleOrder, "name"), "team": (HelpdeskTeam, "name")}[
        dimension]
    return dict(model.objects.filter(pk__in=[pk for pk in ids if pk is not None]).values_list("pk", field))


def share(amount: Decimal, weights: dict) -> dict:
    """Split `amount` over the keys of `weights` in proportion, to the cent, the remainders to the largest."""
    total = sum(weights.values())
    if not total:
        return {None: amount}
    cents = int(amount * 100)
    parts = {key: cents * weight // total for key, weight in weights.items()}
    rest = cents - sum(parts.values())
    for key in sorted(weights, key=lambda k: (-(cents * weights[k] % total), str(k)))[:abs(rest)]:
        parts[key] += 1 if rest > 0 else -1
    return {key: Decimal(part) / 100 for key, part in parts.items()}


def _team_rows(documents, unit: str) -> dict:
    """{(team id, period): [invoiced, credited, documents]} from the documents' lines shared by their entries."""
    lines = list(InvoiceLine.objects.filter(invoice__in=documents)
                 .annotate(period=TRUNC[unit or "month"]("invoice__invoice_date"))
                 .values_list("pk", "origin", "invoice__kind", "amount_untaxed", "period", "invoice"))
    weights = defaultdict(lambda: defaultdict(int))  # {invoice line: {team: minutes}}
    billed = (TimeEntry.objects.filter(invoice_line__invoice__in=documents)
              .values_list("invoice_line", "ticket__team").annotate(minutes=Sum("minutes")))
    through = InvoiceLine.credited_timesheets.through
    given_back = (through.objects.filter(invoiceline__invoice__in=documents)
                  .values_list("invoiceline", "invoiceline__origin", "timeentry__ticket__team")
                  .annotate(minutes=Sum("timeentry__minutes")))
    for line, team, minutes in billed:
        weights[line][team] += minutes
    for line, origin, team, minutes in given_back:
        weights[line][team] += minutes  # the credit note's own entries
        weights[origin][team] += minutes  # freed from the invoice line it corrects
    rows = defaultdict(lambda: [ZERO, ZERO, set()])
    for pk, _origin, kind, amount, period, invoice in lines:
        for team, part in share(amount, weights.get(pk, {})).items():
            row = rows[(team, period if unit else None)]
            row[0 if kind == Invoice.Kind.INVOICE else 1] += part
            row[2].add(invoice)
    return rows


def _rows(documents, params: Params, size: int, offset: int) -> tuple[list, bool]:
    """[(key, period, invoiced, credited, documents)] of the page, and whether more follow."""
    unit, dimension = params.unit, params.dimension
    if dimension == "team":
        found = [(team, period, values[0], values[1], len(values[2]))
                 for (team, period), values in _team_rows(documents, unit).items()]
        found.sort(key=lambda r: (r[1] or 0, -(r[2] - r[3]), str(r[0])) if unit else (-(r[2] - r[3]), str(r[0])))
        return found[offset:offset + size], len(found) > offset + size
    grouped, keys = documents, []
    if dimension:
        grouped, keys = grouped.annotate(key=F({"customer": "customer_id", "order": "sale_order_id"}[dimension])), \
            ["key"]
    if unit:
        grouped, keys = grouped.annotate(period=TRUNC[unit]("invoice_date")), keys + ["period"]
    order = (["period"] if unit else []) + (["-invoiced", "key"] if dimension else [])
    found = list(grouped.values(*keys).annotate(**SUMS).order_by(*order)[offset:offset + size + 1])
    return [(row.get("key"), row.get("period"), row["invoiced"], row["credited"], row["documents"])
            for row in found[:size]], len(found) > size


def revenue_report(*, user, params: Params, all_rows: bool = False) -> Report:
    """Rows: `invoiced`, `credited`, `net` (money, in the report's currency), `documents`; a team's share of an
    invoice line follows its entries' minutes. Chart: net per month (bars). Totals over every row."""
    documents = documents_for(user=user, params=params)
    unit, dimension = params.unit, params.dimension
    chart_unit = unit or "month"
    by_period = {row["period"]: (row["invoiced"], row["credited"]) for row in
                 documents.annotate(period=TRUNC[chart_unit]("invoice_date")).values("period").annotate(**SUMS)}
    chart, totals = _chart(by_period, params, chart_unit)
    columns = ([Column(dimension, LABELS[dimension])] if dimension else []) + \
        ([Column("period", PERIODS[unit])] if unit else []) + FIGURES + \
        [Column("documents", gettext_lazy("Documents"), "number")]
    size = EXPORT_ROWS if all_rows else PAGE_SIZE
    found, has_next = _rows(documents, params, size, 0 if all_rows else (params.page - 1) * PAGE_SIZE)
    names = _names(dimension, {row[0] for row in found}) if dimension else {}
    rows = []
    for key, period, invoiced, credited, count in found:
        cells = {**_figures(invoiced, credited), "documents": count}
        if dimension:
            cells[dimension] = names.get(key, str(NONE_LABELS[dimension]))
        if unit:
            cells["period"] = bucket_label(period, unit)
        rows.append(Row(cells))
    return Report(name="revenue", title=_("Revenue"), columns=columns, rows=rows, totals=totals, chart=chart,
                  params=params.echo(), currency=params.extra["currency"], page=params.page, has_next=has_next)
