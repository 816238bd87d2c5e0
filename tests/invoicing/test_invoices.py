"""Rules 7-9: drafts, posting, numbering, credit notes, and the billing invariant."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from core.errors import Conflict
from invoicing.models import Invoice
from invoicing.selectors import billing_drift
from invoicing.services import (
    invoice_cancel,
    invoice_create_from_order,
    invoice_credit_note,
    invoice_post,
    invoice_remove_timesheets,
)
from sales.models import ServicePolicy
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log, timesheet_update

from ..factories import ProductFactory, SaleOrderLineFactory, confirmed_line, days_ago


@pytest.fixture
def billed(agent, ticket, line_a):
    """Three entries (1 h, 2 h, 30 min) on line A, on a draft invoice."""
    entries = [timesheet_log(user=agent, date=days_ago(d), minutes=m, ticket=ticket)
               for d, m in ((3, 60), (2, 120), (1, 30))]
    return invoice_create_from_order(order=line_a.order), entries


def refresh(*objs):
    for obj in objs:
        obj.refresh_from_db()


def test_removing_an_entry_from_a_draft_rebills_the_line(billed, line_a):
    invoice, (one, two, half) = billed
    invoice_remove_timesheets(invoice=invoice, entry_ids=[two.pk])
    refresh(invoice, two, line_a)
    assert two.invoice_line is None
    assert invoice.lines.get().quantity == Decimal("1.50")
    assert invoice.amount_total == Decimal("135.00")
    assert (line_a.invoiced, line_a.to_invoice) == (Decimal("1.50"), Decimal("2.00"))
    timesheet_update(entry=two, minutes=100)  # editable again
    with pytest.raises(ValidationError, match="These timesheets are not on"):
        invoice_remove_timesheets(invoice=invoice, entry_ids=[two.pk])


def test_cancelling_a_draft_frees_its_entries(billed, line_a):
    invoice, entries = billed
    invoice_cancel(invoice=invoice)
    refresh(invoice, line_a)
    assert invoice.state == Invoice.State.CANCELLED
    assert not TimeEntry.objects.filter(invoice_line__isnull=False).exists()
    assert line_a.to_invoice == Decimal("3.50")
    again = invoice_create_from_order(order=line_a.order)
    assert again.amount_total == Decimal("315.00")


def test_posting_numbers_gapless_per_year_and_freezes(billed, agent, ticket, line_a):
    invoice, _ = billed
    with time_machine.travel(datetime.datetime(2026, 12, 31, 12, 0), tick=False):
        invoice_post(invoice=invoice)
    refresh(invoice)
    assert (invoice.number, invoice.state, invoice.invoice_date) == (
        "INV/2026/00001", "posted", datetime.date(2026, 12, 31))
    with pytest.raises(Conflict, match="is posted and cannot be posted"):
        invoice_post(invoice=invoice)
    with pytest.raises(Conflict, match="cannot be cancelled"):
        invoice_cancel(invoice=invoice)
    with pytest.raises(Conflict, match="never deleted"):
        invoice.delete()

    numbers = []
    with time_machine.travel(datetime.datetime(2027, 1, 2, 12, 0), tick=False):
        for _ in range(2):
            timesheet_log(user=agent, date=days_ago(0), minutes=15, ticket=ticket)
            numbers.append(invoice_post(invoice=invoice_create_from_order(order=line_a.order)).number)
    assert numbers == ["INV/2027/00001", "INV/2027/00002"]


def test_a_cancelled_draft_takes_no_number(billed, agent, ticket, line_a):
    invoice, _ = billed
    invoice_cancel(invoice=invoice)
    fresh = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    assert fresh.number == f"INV/{fresh.invoice_date.year}/00001"


def test_posted_invoice_keeps_its_customer_snapshot(billed):
    invoice, _ = billed
    invoice_post(invoice=invoice)
    customer = invoice.customer
    customer.name, customer.address = "Renamed Ltd", "Elsewhere"
    customer.save()
    refresh(invoice)
    assert invoice.customer_name != "Renamed Ltd"
    assert invoice.customer_address == "1 Main Street\n1000 Brussels"
    assert invoice.customer_vat == "BE0123456789"


def test_full_credit_note_negates_and_frees_everything(billed, line_a):
    invoice, entries = billed
    invoice_post(invoice=invoice)
    note = invoice_credit_note(invoice=invoice)
    refresh(line_a)
    assert line_a.invoiced == Decimal("3.50")  # a draft credit note gives nothing back yet
    note = invoice_post(invoice=note)
    refresh(note, line_a, invoice)
    assert note.number == f"RINV/{note.invoice_date.year}/00001"
    assert note.refers == invoice
    assert (note.amount_untaxed, note.amount_total) == (invoice.amount_untaxed, invoice.amount_total)
    assert [(line.quantity, line.origin.pk) for line in note.lines.all()] == [
        (Decimal("3.50"), invoice.lines.get().pk)]
    assert (line_a.invoiced, line_a.to_invoice) == (Decimal("0.00"), Decimal("3.50"))
    assert not TimeEntry.objects.filter(invoice_line__isnull=False).exists()
    assert billing_drift() == []
    with pytest.raises(ValidationError, match="nothing left to credit"):
        invoice_credit_note(invoice=invoice)


def test_partial_credit_note_frees_exactly_the_named_entries(billed, line_a):
    invoice, (one, two, half) = billed
    invoice_post(invoice=invoice)
    note = invoice_credit_note(invoice=invoice, entry_ids=[two.pk])
    with pytest.raises(ValidationError, match="already on a credit note"):
        invoice_credit_note(invoice=invoice, entry_ids=[two.pk])
    invoice_post(invoice=note)
    refresh(note, one, two, half, line_a)
    assert note.amount_total == Decimal("180.00")
    assert (one.invoice_line.invoice, two.invoice_line, half.invoice_line.invoice) == (invoice, None, invoice)
    assert (line_a.invoiced, line_a.to_invoice) == (Decimal("1.50"), Decimal("2.00"))
    rebill = invoice_create_from_order(order=line_a.order)
    refresh(two)
    assert two.invoice_line.invoice == rebill
    with pytest.raises(ValidationError, match="not billed by"):
        invoice_credit_note(invoice=invoice, entry_ids=[two.pk])
    assert billing_drift() == []


def test_credit_notes_only_for_posted_invoices(billed):
    invoice, (one, *_) = billed
    with pytest.raises(Conflict, match="is draft and cannot be credited"):
        invoice_credit_note(invoice=invoice, entry_ids=[one.pk])


def test_prepaid_and_manual_lines_bill_quantities(agent, ticket, line_a):
    prepaid = confirmed_line(order=line_a.order, quantity=10, price_unit=80,
                             product=ProductFactory(name="Prepaid pack", service_policy=ServicePolicy.ORDERED_PREPAID))
    manual = SaleOrderLineFactory(order=line_a.order, quantity=5, price_unit=50, qty_delivered_manual=2,
                                  product=ProductFactory(name="On-site visit",
                                                         service_policy=ServicePolicy.DELIVERED_MANUAL))
    timesheet_log(user=agent, date=days_ago(0), minutes=90, ticket=ticket, sale_line=prepaid)
    prepaid.refresh_from_db()
    assert prepaid.remaining == Decimal("8.50")
    invoice = invoice_create_from_order(order=line_a.order)
    assert [(line.sale_line_id, line.quantity, line.amount_untaxed) for line in invoice.lines.all()] == [
        (prepaid.pk, Decimal("10.00"), Decimal("800.00")), (manual.pk, Decimal("2.00"), Decimal("100.00"))]
    assert [line.explanation for line in invoice.lines.all()] == [
        "10.00 of 10.00 hours ordered (Prepaid/Fixed Price)", "2.00 of 2.00 hours delivered (entered by hand)"]
    refresh(prepaid, manual)
    assert (prepaid.to_invoice, manual.to_invoice) == (Decimal("0.00"), Decimal("0.00"))
    invoice_post(invoice=invoice)
    note = invoice_post(invoice=invoice_credit_note(invoice=invoice))
    assert [line.explanation for line in note.lines.all()] == [
        "gives back 10.00 of 10.00 hours invoiced", "gives back 2.00 of 2.00 hours invoiced"]
    refresh(prepaid, manual)
    assert (prepaid.to_invoice, manual.to_invoice) == (Decimal("10.00"), Decimal("2.00"))
    assert billing_drift() == []


def test_unconfirmed_order_and_bad_period_are_refused(line_a):
    quotation = SaleOrderLineFactory().order
    with pytest.raises(ValidationError, match="is not a confirmed sales order"):
        invoice_create_from_order(order=quotation)
    with pytest.raises(ValidationError, match="The period ends before it starts."):
        invoice_create_from_order(order=line_a.order, period_start=days_ago(1), period_end=days_ago(5))
    assert not Invoice.objects.exists()
