"""Unbilled work: every timesheet line's time to invoice, by customer, aged by entry date
(0-30, 31-60, 61-90, over 90 days before the `to` date), with its amount at the line's price.

Time to invoice is what Create Invoice would take: billable minutes (counted now) not on an invoice, on lines
"Based on Timesheets". Amounts follow DESIGN's units per line and age: the minutes in the line's unit rounded
HALF-UP to 0.01, times the price, rounded HALF-UP to the currency's minor unit; a customer's amount is the sum
of those. Per-ticket rounding and minimums (Rule 14) are added by Create Invoice, not here.

One query: the entries summed per (line, age) with their amounts in integer minor units (exact on both
databases), summed per customer, paged, with the grand totals beside each row (a window).
"""

import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import BigIntegerField, Case, Exists, F, IntegerField, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Cast, Round
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.money import places
from core.roles import sees_everything
from invoicing.selectors import rounded_to_invoice
from sales.models import Company, Customer, Rounding, SaleOrderLine, ServicePolicy
from sales.units import amount, minutes_per_unit_expression
from timesheets.models import TimeEntry

from .params import Params, parse
from .tables import EXPORT_ROWS, PAGE_SIZE, Chart, Column, Report, Row, Series

AGES = (("d0_30", gettext_lazy("0-30 days"), 0, 30), ("d31_60", gettext_lazy("31-60 days"), 31, 60),
        ("d61_90", gettext_lazy("61-90 days"), 61, 90), ("over_90", gettext_lazy("Over 90 days"), 91, None))
# Each age's amount column.
AMOUNT_LABELS = {"d0_30": gettext_lazy("0-30 days amount"), "d31_60": gettext_lazy("31-60 days amount"),
                 "d61_90": gettext_lazy("61-90 days amount"), "over_90": gettext_lazy("Over 90 days amount")}


def unbilled_params(data) -> Params:
    """to (the day ages count from; today by default), customer (an id), page."""
    return parse(data, filters=("customer",), default_days=1)


def _per_line_age(params: Params, currency: str, *, aged: bool = True, lines: Q | None = None):
    """The inner query: (customer, age, minutes, amount in minor units) per line and age (per line alone when
    not `aged`: age 0), of the entries whose line matches `lines`."""
    as_of = params.end
    age = Case(*[When(date__gte=as_of - datetime.timedelta(days=high), then=Value(index))
                 for index, (*_rest, high) in enumerate(AGES) if high is not None],
               default=Value(len(AGES) - 1), output_field=IntegerField()) if aged else Value(0)
    unit = minutes_per_unit_expression("sale_line__")
    entries = TimeEntry.objects.filter(invoice_line__isnull=True, billable_minutes__gt=0, date__lte=as_of,
                                       sale_line__product__service_policy=ServicePolicy.DELIVERED_TIMESHEET)
    if "customer" in params.filters:
        entries = entries.filter(sale_line__order__customer_id=params.filters["customer"])
    if lines is not None:
        entries = entries.filter(lines)
    # Integer arithmetic, HALF-UP: hundredths of the unit, then the amount in 1/10^4 of the currency's
    # unit, then its minor unit (cents; yen are whole).
    scale = 10 ** (4 - places(currency))
    centi = (F("minutes") * 200 + F("unit")) / (F("unit") * 2)
    price = Cast(Round(F("sale_line__price_unit") * 100), BigIntegerField())
    return (entries.annotate(age=age, unit=unit, customer=F("sale_line__order__customer_id"))
            .values("customer", "sale_line", "age", "unit", "sale_line__price_unit")
            .annotate(minutes=Sum("billable_minutes"))
            .annotate(minor=(Cast(centi, BigIntegerField()) * price * 2 + scale) / (2 * scale))
            .values("customer", "age", "minutes", "minor"))


def _sql(params: Params, currency: str, limit: int, offset: int) -> tuple[str, list]:
    inner, inner_params = _per_line_age(params, currency).query.sql_with_params()
    by_age = ", ".join(f"SUM(CASE WHEN t.age = {index} THEN t.minutes ELSE 0 END), "
                       f"SUM(CASE WHEN t.age = {index} THEN t.minor ELSE 0 END)" for index in range(len(AGES)))
    grand = ", ".join(f"SUM(SUM(CASE WHEN t.age = {index} THEN t.minutes ELSE 0 END)) OVER (), "
                      f"SUM(SUM(CASE WHEN t.age = {index} THEN t.minor ELSE 0 END)) OVER ()"
                      for index in range(len(AGES)))
    customers = connection.ops.quote_name(Customer._meta.db_table)
    sql = (f"SELECT t.customer, c.name, {by_age}, SUM(t.minutes), SUM(t.minor), COUNT(*) OVER (), {grand} "
           f"FROM ({inner}) t JOIN {customers} c ON c.id = t.customer "
           f"GROUP BY t.customer, c.name ORDER BY SUM(t.minor) DESC, SUM(t.minutes) DESC, c.name, t.customer "
           f"LIMIT {int(limit)} OFFSET {int(offset)}")
    return sql, list(inner_params)


def to_invoice_amount(currency: str) -> Decimal:
    """What Create Invoice would bill for time today, untaxed, as To Invoice totals it (the overview's figure):
    each line's time at its price, a line whose product rounds per ticket or has a minimum as Create Invoice
    charges it (Rule 14). One query for the lines billed per entry, summed in SQL; one for the others, few."""
    per_ticket = Q(sale_line__product__rounding=Rounding.TICKET) | Q(sale_line__product__minimum_minutes__gt=0)
    inner, args = _per_line_age(unbilled_params({}), currency, aged=False, lines=~per_ticket).query \
        .sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT SUM(t.minor) FROM ({inner}) t", list(args))
        total = _money(cursor.fetchone()[0], currency)
    rounded = list(SaleOrderLine.objects.filter(Exists(TimeEntry.objects.filter(
        sale_line=OuterRef("pk"), invoice_line__isnull=True, billable_minutes__gt=0)))
        .filter(Q(product__rounding=Rounding.TICKET) | Q(product__minimum_minutes__gt=0),
                product__service_policy=ServicePolicy.DELIVERED_TIMESHEET).select_related("product"))
    quantities = rounded_to_invoice(lines=rounded)
    return total + sum((amount(quantities[line.pk], line.price_unit, currency) for line in rounded),
                       Decimal("0.00"))


def _money(minor: int, currency: str) -> Decimal:
    return (Decimal(int(minor or 0)).scaleb(-places(currency))).quantize(Decimal("0.01"))


def unbilled_report(*, user, params: Params, all_rows: bool = False) -> Report:
    """Rows per customer (most money first): for each age, minutes (`d0_30`) and amount (`d0_30_amount`),
    then `total` and `total_amount`; totals over every customer; a bar chart of the amount per age.
    Each row's filters list its entries to invoice (the Time report's drill-down, status=to_invoice)."""
    currency = Company.current().currency
    columns = [Column("customer", gettext_lazy("Customer"))]
    for key, label, _low, _high in AGES:
        columns += [Column(key, label, "minutes"), Column(f"{key}_amount", AMOUNT_LABELS[key], "money")]
    columns += [Column("total", gettext_lazy("Total"), "minutes"),
                Column("total_amount", gettext_lazy("Total amount"), "money")]
    size = EXPORT_ROWS if all_rows else PAGE_SIZE
    found = []
    if sees_everything(user):
        sql, args = _sql(params, currency, size + 1, 0 if all_rows else (params.page - 1) * PAGE_SIZE)
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            found = cursor.fetchall()
    count = 2 + 2 * len(AGES)
    grand = found[0][count + 3:] if found else [0] * (2 * len(AGES))
    totals = {}
    for index, (key, *_rest) in enumerate(AGES):
        totals[key], totals[f"{key}_amount"] = int(grand[2 * index] or 0), _money(grand[2 * index + 1], currency)
    totals["total"] = sum(totals[key] for key, *_rest in AGES)
    totals["total_amount"] = sum((totals[f"{key}_amount"] for key, *_rest in AGES), Decimal("0.00"))
    rows = []
    for record in found[:size]:
        cells = {"customer": record[1]}
        for index, (key, *_rest) in enumerate(AGES):
            cells[key] = int(record[2 + 2 * index])
            cells[f"{key}_amount"] = _money(record[3 + 2 * index], currency)
        cells["total"], cells["total_amount"] = int(record[count]), _money(record[count + 1], currency)
        rows.append(Row(cells, {"customer": record[0], "to": params.end.isoformat(), "status": "to_invoice",
                                "from": (params.end - datetime.timedelta(days=3660)).isoformat()}))
    chart = Chart(kind="bars", unit="money", categories=[str(label) for _key, label, *_rest in AGES],
                  series=[Series("amount", _("To invoice"), [totals[f"{key}_amount"] for key, *_rest in AGES])])
    return Report(name="unbilled", title=_("Unbilled work"), columns=columns, rows=rows, totals=totals, chart=chart,
                  params={**params.echo(), "group_by": "customer"}, currency=currency, page=params.page,
                  has_next=len(found) > size)
