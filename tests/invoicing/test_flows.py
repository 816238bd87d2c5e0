"""The figures of the flows people run (products in hours, no tax)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from invoicing.models import Invoice
from invoicing.services import invoice_create_from_order
from timesheets.services import timesheet_log, timesheet_update

from ..factories import ProductFactory, TicketFactory, confirmed_line, days_ago


def log(user, ticket, hours, days=0):
    return timesheet_log(user=user, date=days_ago(days), minutes=int(hours * 60), ticket=ticket)


def test_invoice_ten_and_a_half_hours_then_the_rest(agent, line_a, ticket):
    entry = log(agent, ticket, 10.5)
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("10.50")
    assert line_a.to_invoice == Decimal("10.50")

    invoice = invoice_create_from_order(order=line_a.order)
    [inv_line] = invoice.lines.all()
    assert inv_line.quantity == Decimal("10.50")
    assert invoice.amount_total == Decimal("945.00")
    entry.refresh_from_db()
    assert entry.invoice_line == inv_line
    with pytest.raises(ValidationError, match="You cannot modify timesheets that are already invoiced."):
        timesheet_update(entry=entry, minutes=60)

    # 39.5 h more, over four days (an entry holds at most 24 h).
    more = [log(agent, ticket, 10, days=d) for d in (1, 2, 3)] + [log(agent, ticket, 9.5, days=4)]
    second = invoice_create_from_order(order=line_a.order)
    line_a.refresh_from_db()
    assert line_a.invoiced == Decimal("50.00")
    assert line_a.to_invoice == Decimal("0.00")
    assert second.amount_total == Decimal("3555.00")
    for e in more:
        e.refresh_from_db()
        assert e.invoice_line.invoice == second
    entry.refresh_from_db()
    assert entry.invoice_line.invoice == invoice


def test_invoice_by_period(agent, line_a):
    line_b = confirmed_line(order=line_a.order, quantity=20, price_unit=20,
                            product=ProductFactory(name="Junior support", list_price=20))
    ticket_a = TicketFactory(customer=line_a.order.customer, sale_line=line_a)
    ticket_b = TicketFactory(customer=line_a.order.customer, sale_line=line_b)
    log(agent, ticket_a, 10, days=6)
    log(agent, ticket_a, 20, days=1)
    log(agent, ticket_a, 10, days=5)
    log(agent, ticket_b, 24, days=0)
    log(agent, ticket_b, 6, days=0)
    order = line_a.order

    with pytest.raises(ValidationError, match="There is nothing to invoice on S\\d{5} for timesheets from"):
        invoice_create_from_order(order=order, period_start=days_ago(16), period_end=days_ago(10))
    assert Invoice.objects.count() == 0

    invoice_create_from_order(order=order, period_start=days_ago(10), period_end=days_ago(6))
    line_a.refresh_from_db()
    assert line_a.invoiced == Decimal("10.00")

    invoice_create_from_order(order=order, period_start=days_ago(16), period_end=days_ago(4))
    line_a.refresh_from_db()
    assert line_a.invoiced == Decimal("20.00")

    last = invoice_create_from_order(order=order, period_start=days_ago(4), period_end=days_ago(0))
    line_a.refresh_from_db()
    line_b.refresh_from_db()
    assert line_a.invoiced == Decimal("40.00")
    assert line_b.invoiced == Decimal("30.00")
    assert [(il.sale_line_id, il.quantity) for il in last.lines.all()] == [
        (line_a.pk, Decimal("20.00")), (line_b.pk, Decimal("30.00"))]
    assert Invoice.objects.count() == 3


def test_line_sold_in_days(agent):
    line = confirmed_line(product=ProductFactory(name="Support day", uom="day", list_price=720),
                          quantity=5, price_unit=720)
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    log(agent, ticket, 8, days=1)
    log(agent, ticket, 8, days=0)
    line.refresh_from_db()
    assert line.delivered == Decimal("2.00")
    invoice = invoice_create_from_order(order=line.order)
    [inv_line] = invoice.lines.all()
    assert (inv_line.quantity, inv_line.uom, inv_line.amount_untaxed) == (Decimal("2.00"), "day", Decimal("1440.00"))
    assert invoice.amount_total == Decimal("1440.00")


def test_twenty_times_twenty_minutes_leaves_no_residue(agent, line_a, ticket):
    for _ in range(20):
        timesheet_log(user=agent, date=days_ago(0), minutes=20, ticket=ticket)
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 400
    assert line_a.delivered == Decimal("6.67")
    invoice = invoice_create_from_order(order=line_a.order)
    assert invoice.lines.get().quantity == Decimal("6.67")
    assert invoice.amount_total == Decimal("600.30")
    line_a.refresh_from_db()
    assert line_a.invoiced_minutes == 400
    assert line_a.to_invoice == Decimal("0.00")
    with pytest.raises(ValidationError, match="There is nothing to invoice"):
        invoice_create_from_order(order=line_a.order)


def test_taxes_are_per_line_and_totals_sum_rounded_lines(agent, line_a, ticket):
    from sales.models import Tax

    line_a.tax = Tax.objects.create(name="VAT 21%", rate=Decimal("21"))
    line_a.save()
    timesheet_log(user=agent, date=days_ago(0), minutes=20, ticket=ticket)  # 0.33 h × 90 = 29.70
    invoice = invoice_create_from_order(order=line_a.order)
    assert (invoice.amount_untaxed, invoice.amount_tax, invoice.amount_total) == (
        Decimal("29.70"), Decimal("6.24"), Decimal("35.94"))
