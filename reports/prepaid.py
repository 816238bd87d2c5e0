"""Prepaid lines: ordered, used, remaining, the last four weeks' rate and the day the block runs out.

Used is the line's Delivered (the billable minutes counted against it, DESIGN Rule 6). The rate is the time
logged on the line over the last 28 days; at that rate the remaining time lasts remaining / rate days.
Two queries for a page whatever the number of lines: the page, and the page's rates.
"""

import datetime
import math
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.roles import sees_everything
from sales.models import SaleOrder, SaleOrderLine, ServicePolicy
from sales.units import minutes_per_unit, minutes_per_unit_expression, minutes_to_qty
from timesheets.models import TimeEntry

from .params import Params, bucket_end, parse, week_start
from .tables import EXPORT_ROWS, PAGE_SIZE, Chart, Column, Report, Row, Series

RATE_DAYS = 28
HORIZON_WEEKS = 52  # the projection stops a year ahead
COLUMNS = [Column("order", gettext_lazy("Sales Order")), Column("customer", gettext_lazy("Customer")),
           Column("line", gettext_lazy("Sales Order Item")), Column("unit", gettext_lazy("Unit")),
           Column("ordered", gettext_lazy("Ordered"), "quantity"), Column("used", gettext_lazy("Used"), "quantity"),
           Column("remaining", gettext_lazy("Remaining"), "quantity"),
           Column("used_percent", gettext_lazy("Used (%)"), "percent"),
           Column("weekly_rate", gettext_lazy("Per week (last 4 weeks)"), "minutes"),
           Column("runs_out", gettext_lazy("Runs out"), "date")]


def prepaid_params(data) -> Params:
    """customer, order (ids), page."""
    return parse(data, filters=("customer", "order"), default_days=1)


def prepaid_lines(*, user, params: Params | None = None):
    """The prepaid lines of confirmed orders, with `remaining_minutes`, the least remaining first."""
    if not sees_everything(user):
        return SaleOrderLine.objects.none()
    remaining = ExpressionWrapper(F("quantity") * minutes_per_unit_expression() - F("delivered_minutes"),
                                  output_field=DecimalField(max_digits=24, decimal_places=2))
    lines = (SaleOrderLine.objects.filter(product__service_policy=ServicePolicy.ORDERED_PREPAID,
                                          order__state=SaleOrder.State.SALE)
             .select_related("order__customer", "product")
             .annotate(remaining_minutes=remaining)
             .order_by("remaining_minutes", "pk"))
    filters = (params.filters if params else {})
    if "customer" in filters:
        lines = lines.filter(order__customer_id=filters["customer"])
    if "order" in filters:
        lines = lines.filter(order_id=filters["order"])
    return lines


def rates(line_ids, today: datetime.date) -> dict[int, int]:
    """{line: minutes counted on it over the last RATE_DAYS days}."""
    since = today - datetime.timedelta(days=RATE_DAYS - 1)
    return dict(TimeEntry.objects.filter(sale_line__in=list(line_ids), date__gte=since, date__lte=today)
                .values_list("sale_line").annotate(minutes=Sum("billable_minutes")).order_by())


def ordered_minutes(line: SaleOrderLine) -> int:
    return int(line.quantity * minutes_per_unit(line.uom))


def runs_out(remaining: int, recent: int, today: datetime.date) -> datetime.date | None:
    """The day `remaining` minutes run out at `recent` minutes per RATE_DAYS days; None when nothing is used.
    Used up already: today."""
    if remaining <= 0:
        return today
    if not recent:
        return None
    return today + datetime.timedelta(days=math.ceil(remaining * RATE_DAYS / recent))


def prepaid_report(*, user, params: Params, all_rows: bool = False) -> Report:
    """Rows per prepaid line of a confirmed order (least remaining first): order, customer, line, ordered,
    used, remaining (quantities in the line's unit), used_percent, weekly_rate (minutes per week over the
    last four weeks), runs_out (a date, or None when nothing is being used). Each row's filters: {"line": id}
    (the burn-down)."""
    today = timezone.localdate()
    size = EXPORT_ROWS if all_rows else PAGE_SIZE
    offset = 0 if all_rows else (params.page - 1) * PAGE_SIZE
    found = list(prepaid_lines(user=user, params=params)[offset:offset + size + 1])
    recent = rates([line.pk for line in found[:size]], today)
    rows = []
    for line in found[:size]:
        ordered, used = ordered_minutes(line), line.delivered_minutes
        rows.append(Row({
            "order": line.order.name, "customer": line.order.customer.name, "line": line.name or str(line.product),
            "unit": line.get_uom_display(), "ordered": line.quantity, "used": minutes_to_qty(used, line.uom),
            "remaining": line.remaining,
            "used_percent": (Decimal(used * 100) / ordered).quantize(Decimal("0.1")) if ordered else None,
            "weekly_rate": recent.get(line.pk, 0) * 7 // RATE_DAYS,
            "runs_out": runs_out(ordered - used, recent.get(line.pk, 0), today)}, {"line": line.pk}))
    return Report(name="prepaid", title=_("Prepaid lines"), columns=COLUMNS, rows=rows, totals={}, chart=None,
                  params={key: value for key, value in params.echo().items() if key not in ("from", "to", "group_by")},
                  page=params.page, has_next=len(found) > size)


def _hours(minutes: int) -> Decimal:
    return minutes_to_qty(minutes, "hour")


def burndown(*, line) -> Chart:
    """The line's remaining hours at the end of each week since its first entry (or its order's date) and today,
    then, at the last four weeks' rate, at the end of each week until it runs out: a "lines" chart of two
    series, `remaining` and `projected` (None where a series has no point), both through today's point.
    Projected points fall where `runs_out` says: the rate is per day, from today."""
    today = timezone.localdate()
    weekly = dict(TimeEntry.objects.filter(sale_line=line, billable_minutes__gt=0)
                  .annotate(week=TruncWeek("date")).values_list("week").annotate(minutes=Sum("billable_minutes"))
                  .order_by())
    opened = line.order.confirmed_at.date() if line.order.confirmed_at else line.order.date_order
    ordered, used = ordered_minutes(line), 0
    days, remaining = [], []
    week = week_start(min([opened, today, *weekly]))
    while week <= today:
        used += weekly.get(week, 0)
        days.append(min(bucket_end(week, "week"), today))  # this week's point is today's
        remaining.append(_hours(ordered - used))
        week += datetime.timedelta(days=7)
    left = ordered - line.delivered_minutes  # what Delivered counts now (the sums above, entries moved aside)
    remaining[-1] = _hours(left)
    per_day = rates([line.pk], today).get(line.pk, 0) / RATE_DAYS
    projected = [None] * (len(days) - 1) + [_hours(left)]
    end = bucket_end(week_start(today), "week")
    end = end if end > today else end + datetime.timedelta(days=7)
    while per_day and left > 0 and end <= today + datetime.timedelta(weeks=HORIZON_WEEKS):
        days.append(end)
        remaining.append(None)
        projected.append(_hours(max(round(left - per_day * (end - today).days), 0)))
        if projected[-1] == 0:
            break
        end += datetime.timedelta(days=7)
    return Chart(kind="lines", unit="hours", categories=[day.isoformat() for day in days],
                 series=[Series("remaining", _("Remaining"), remaining),
                         Series("projected", _("Projected"), projected)])
