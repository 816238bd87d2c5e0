"""Rounding per ticket and minimum charges (DESIGN Rule 14): the figures Odoo's and PSA tools give, exact."""

from decimal import Decimal

import pytest

from invoicing.models import TicketCharge
from invoicing.selectors import orders_to_invoice
from invoicing.services import (
    invoice_cancel,
    invoice_create_from_order,
    invoice_credit_note,
    invoice_post,
    invoice_remove_timesheets,
)
from sales.models import Rounding
from timesheets.services import timesheet_log

from ..factories import ProductFactory, TaskFactory, TicketFactory, confirmed_line, days_ago


def _line(*, rounding=Rounding.ENTRY, increment=1, minimum=0, price=Decimal("60.00")):
    product = ProductFactory(rounding=rounding, billing_increment_minutes=increment, minimum_minutes=minimum,
                             list_price=price)
    return confirmed_line(product=product, price_unit=price, quantity=0)


def _log(agent, ticket, *minutes):
    return [timesheet_log(user=agent, ticket=ticket, date=days_ago(1), minutes=m) for m in minutes]


@pytest.mark.parametrize("rounding, billed", [(Rounding.TICKET, 120), (Rounding.ENTRY, 180)])
def test_45_45_5_minutes_on_an_hourly_increment(agent, rounding, billed):
    line = _line(rounding=rounding, increment=60)
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    _log(agent, ticket, 45, 45, 5)
    line.refresh_from_db()
    # Delivered is the time as logged per ticket, rounded per entry otherwise.
    assert line.delivered_minutes == (95 if rounding == Rounding.TICKET else 180)
    assert orders_to_invoice()[0]["minutes"] == billed  # To Invoice says what Create Invoice will bill
    invoice = invoice_create_from_order(order=line.order)
    [inv_line] = invoice.lines.all()
    assert (inv_line.minutes, inv_line.quantity, invoice.amount_untaxed) == (billed, Decimal(billed / 60),
                                                                              Decimal(billed))
    line.refresh_from_db()
    assert line.invoiced == Decimal(billed / 60)
    assert line.to_invoice == Decimal("0.00")
    if rounding == Rounding.TICKET:
        assert inv_line.rounding_minutes == 25
        assert [(c.ticket_id, c.minutes, c.billed) for c in TicketCharge.objects.all()] == [(ticket.pk, 95, 120)]
        assert inv_line.explanation == "3 entries, 1:35 worked → 2:00 billed: per ticket, 60-min increment"
    else:
        assert inv_line.rounding_minutes == 0
        assert inv_line.explanation == "3 entries, 1:35 worked → 3:00 billed: per entry, 60-min increment"


def test_10_minutes_with_a_30_minute_minimum_bill_half_an_hour(agent):
    line = _line(rounding=Rounding.TICKET, minimum=30)
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    _log(agent, ticket, 10)
    invoice = invoice_create_from_order(order=line.order)
    [inv_line] = invoice.lines.all()
    assert (inv_line.minutes, inv_line.quantity, inv_line.rounding_minutes) == (30, Decimal("0.50"), 20)
    assert inv_line.explanation == "1 entry, 0:10 worked → 0:30 billed: per ticket, 30-min minimum"


def test_two_invoices_of_the_same_ticket_each_apply_the_minimum_once(agent):
    line = _line(rounding=Rounding.TICKET, increment=15, minimum=30)
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    other = TicketFactory(customer=line.order.customer, sale_line=line)
    _log(agent, ticket, 10, 5)
    _log(agent, other, 40)
    first = invoice_create_from_order(order=line.order)
    # Ticket 1: 15 → 30 (minimum); the other: 40 → 45 (increment).
    assert first.lines.get().minutes == 75
    _log(agent, ticket, 5)
    second = invoice_create_from_order(order=line.order)
    assert second.lines.get().minutes == 30
    line.refresh_from_db()
    assert (line.delivered_minutes, line.invoiced_minutes, line.rounding_minutes) == (60, 60, 45)
    assert line.invoiced == Decimal("1.75")


def test_a_credit_note_gives_back_the_rounding_that_no_longer_applies(agent):
    line = _line(rounding=Rounding.TICKET, increment=60)
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    a, b, c = _log(agent, ticket, 45, 45, 5)
    invoice = invoice_post(invoice=invoice_create_from_order(order=line.order))
    # The 5 minutes given back: 90 still round up to 2 h, so nothing is credited.
    note = invoice_credit_note(invoice=invoice, entry_ids=[c.pk])
    assert (note.lines.get().minutes, note.lines.get().rounding_minutes, note.amount_untaxed) == (0, -5, Decimal("0"))
    invoice_post(invoice=note)
    # One 45 more: 45 left round up to 1 h: 1 h back.
    note = invoice_post(invoice=invoice_credit_note(invoice=invoice, entry_ids=[b.pk]))
    assert (note.lines.get().minutes, note.amount_untaxed) == (60, Decimal("60.00"))
    # The last: all that was billed is back.
    note = invoice_post(invoice=invoice_credit_note(invoice=invoice))
    assert note.lines.get().minutes == 60
    line.refresh_from_db()
    assert (line.invoiced_minutes, line.rounding_minutes, line.qty_invoiced, line.invoiced) == (0, 0, 0, 0)
    # Invoiced again, the ticket's time is charged anew.
    again = invoice_create_from_order(order=line.order)
    assert again.lines.get().minutes == 120


def test_a_full_credit_note_returns_exactly_what_was_billed(agent):
    line = _line(rounding=Rounding.TICKET, increment=15, minimum=30)
    for minutes in ((10,), (20, 3), (50,)):
        _log(agent, TicketFactory(customer=line.order.customer, sale_line=line), *minutes)
    invoice = invoice_post(invoice=invoice_create_from_order(order=line.order))
    assert invoice.lines.get().minutes == 30 + 30 + 60
    note = invoice_post(invoice=invoice_credit_note(invoice=invoice))
    assert (note.lines.get().minutes, note.amount_total) == (120, invoice.amount_total)


def test_a_trimmed_draft_charges_its_tickets_again(agent):
    line = _line(rounding=Rounding.TICKET, increment=60)
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    a, b, c = _log(agent, ticket, 45, 45, 5)
    draft = invoice_create_from_order(order=line.order)
    invoice_remove_timesheets(invoice=draft, entry_ids=[a.pk])
    inv_line = draft.lines.get()
    assert (inv_line.minutes, inv_line.rounding_minutes, inv_line.entry_count) == (60, 10, 2)
    invoice_cancel(invoice=draft)
    line.refresh_from_db()
    assert (line.invoiced_minutes, line.rounding_minutes) == (0, 0)


def test_time_on_tasks_without_a_ticket_is_charged_per_task(agent):
    line = _line(rounding=Rounding.TICKET, increment=60)
    tasks = [TaskFactory(sale_line=line, customer=line.order.customer) for _ in range(2)]
    for task in tasks:
        timesheet_log(user=agent, task=task, date=days_ago(1), minutes=10)
        timesheet_log(user=agent, task=task, date=days_ago(2), minutes=5)
    assert orders_to_invoice()[0]["minutes"] == 120  # To Invoice says what Create Invoice bills
    inv_line = invoice_create_from_order(order=line.order).lines.get()
    assert inv_line.minutes == 120
    assert sorted((c.ticket_id, c.task_id, c.entries, c.minutes, c.billed) for c in TicketCharge.objects.all()) == [
        (None, task.pk, 2, 15, 60) for task in tasks]
