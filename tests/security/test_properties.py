"""Property tests (hypothesis): the duration parser and the invoice maths hold for any input.

- `parse_duration` answers whatever it is given with minutes in (0, 24 h] or a ValidationError,
  never anything else, and what it accepts survives the round trip through `format_minutes`.
- For random order lines (minutes, prices, tax rates, units, billing increments), Create Invoice
  through the real services bills exactly the entries, lines sum to the totals, taxes add up per
  rate, and a full credit note negates the invoice to the cent.

The invoice examples run on the test database, each in a savepoint rolled back after it; few
examples, so `make test` stays quick.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoicing.models import Invoice
from invoicing.selectors import billing_drift, taxes_by_rate
from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from sales.models import SaleOrderLine
from sales.services import sale_order_confirm
from sales.units import amount, minutes_to_qty, tax_amount
from timesheets.durations import MAX_MINUTES, format_minutes, parse_duration
from timesheets.services import timesheet_log

from ..factories import (
    CustomerFactory,
    ProductFactory,
    SaleOrderFactory,
    SaleOrderLineFactory,
    TaxFactory,
    TicketFactory,
    UserFactory,
    days_ago,
)

# --- Durations ------------------------------------------------------------------------------------

DURATION_TEXT = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A\s*\d{0,4}([:.,hH]\s*\d{0,4})?\s*(m|min|mins|minutes|h|hrs|hours)?\s*\Z"),
    st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(0, 999), st.integers(0, 99)),
    st.builds(lambda x: str(x), st.decimals(allow_nan=True, allow_infinity=True)),
)
ANY_VALUE = st.one_of(DURATION_TEXT, st.none(), st.booleans(), st.integers(), st.floats(), st.binary(max_size=20),
                      st.lists(st.integers(), max_size=3))


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(ANY_VALUE)
def test_the_duration_parser_accepts_minutes_or_refuses_with_a_validation_error(value):
    try:
        minutes = parse_duration(value)
    except ValidationError as error:
        assert error.messages and all(isinstance(m, str) and m for m in error.messages)
        return
    assert type(minutes) is int and 0 < minutes <= MAX_MINUTES


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(DURATION_TEXT)
def test_what_the_parser_accepts_round_trips_through_format_minutes(text):
    try:
        minutes = parse_duration(text)
    except ValidationError:
        return
    shown = format_minutes(minutes)
    assert parse_duration(shown) == minutes
    assert format_minutes(parse_duration(shown)) == shown


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.integers(1, MAX_MINUTES))
def test_every_valid_minute_count_round_trips(minutes):
    assert parse_duration(format_minutes(minutes)) == minutes
    assert parse_duration(f"{minutes}m") == minutes


# --- Invoice maths ----------------------------------------------------------------------------------

RATES = [Decimal("0.00"), Decimal("5.50"), Decimal("6.00"), Decimal("21.00")]
LINE = st.fixed_dictionaries({
    "entries": st.lists(st.integers(1, MAX_MINUTES), min_size=1, max_size=4),
    "price": st.decimals(min_value=0, max_value=Decimal("9999.99"), places=2),
    "rate": st.sampled_from(RATES),
    "uom": st.sampled_from(["hour", "day"]),
    "increment": st.sampled_from([1, 6, 15, 30]),
})


def billable(minutes: int, increment: int) -> int:
    return -(-minutes // increment) * increment


def order_with_time(lines: list[dict]):
    """Return (order, {sale line id: spec}) with each spec's entries logged on a ticket of the line."""
    customer, agent = CustomerFactory(), UserFactory()
    order = SaleOrderFactory(customer=customer)
    taxes = {rate: TaxFactory(name=f"VAT {rate}%", rate=rate) for rate in RATES}
    sold = [(SaleOrderLineFactory(order=order, uom=spec["uom"], price_unit=spec["price"], tax=taxes[spec["rate"]],
                                  product=ProductFactory(uom=spec["uom"], billing_increment_minutes=spec["increment"])),
             spec) for spec in lines]
    sale_order_confirm(order=order)
    for line, spec in sold:
        ticket = TicketFactory(customer=customer, sale_line=line)
        for minutes in spec["entries"]:
            timesheet_log(user=agent, date=days_ago(1), minutes=minutes, ticket=ticket)
    return order, {line.pk: spec for line, spec in sold}


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(LINE, min_size=1, max_size=4))
@pytest.mark.django_db
def test_invoice_lines_bill_the_entries_and_add_up_to_the_totals_and_a_credit_note_negates_them(lines):
    with transaction.atomic():
        order, specs = order_with_time(lines)
        invoice = invoice_create_from_order(order=order)
        rows = list(invoice.lines.order_by("pk"))

        assert sorted(row.sale_line_id for row in rows) == sorted(specs)
        for row in rows:
            spec = specs[row.sale_line_id]
            minutes = sum(billable(m, spec["increment"]) for m in spec["entries"])
            assert row.minutes == minutes == sum(e.billable_minutes for e in row.timesheets.all())
            assert row.quantity == minutes_to_qty(minutes, spec["uom"])
            assert row.amount_untaxed == amount(row.quantity, spec["price"])
            assert row.amount_tax == tax_amount(row.amount_untaxed, spec["rate"])
        assert invoice.amount_untaxed == sum(row.amount_untaxed for row in rows)
        assert invoice.amount_tax == sum(row.amount_tax for row in rows)
        assert invoice.amount_total == invoice.amount_untaxed + invoice.amount_tax
        for tax in taxes_by_rate(invoice=invoice):
            same_rate = [row for row in rows if row.tax_rate == tax["tax_rate"]]
            assert tax["base"] == sum(row.amount_untaxed for row in same_rate)
            assert tax["tax"] == sum(row.amount_tax for row in same_rate)

        invoice = invoice_post(invoice=invoice)
        note = invoice_post(invoice=invoice_credit_note(invoice=invoice))
        credits = {line.origin_id: line for line in note.lines.all()}
        assert set(credits) == {row.pk for row in rows}
        for row in rows:
            credit = credits[row.pk]
            assert (credit.quantity, credit.amount_untaxed, credit.amount_tax, credit.minutes) == (
                row.quantity, row.amount_untaxed, row.amount_tax, row.minutes)
        assert (note.amount_untaxed, note.amount_tax, note.amount_total) == (
            invoice.amount_untaxed, invoice.amount_tax, invoice.amount_total)
        assert invoice.amount_total * invoice.sign + note.amount_total * note.sign == 0
        # The time is to invoice again, exactly as before.
        for line in SaleOrderLine.objects.filter(pk__in=specs):
            assert line.invoiced_minutes == 0 and line.qty_invoiced == 0
            assert line.delivered_minutes == sum(billable(m, specs[line.pk]["increment"])
                                                 for m in specs[line.pk]["entries"])
        assert billing_drift() == []
        assert Invoice.objects.filter(state=Invoice.State.POSTED).count() == 2
        transaction.set_rollback(True)
