"""Write-off (DESIGN Rule 15): time taken off a draft as "No charge" keeps its minutes and bills nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from core.errors import Conflict
from invoicing.services import invoice_create_from_order, invoice_post, invoice_write_off
from timesheets.approval import timesheet_reinstate
from timesheets.services import timesheet_log

from ..factories import days_ago

A = AuditEvent.Action


@pytest.fixture
def draft(agent, ticket, line_a):
    kept = timesheet_log(user=agent, date=days_ago(2), minutes=90, ticket=ticket)
    goodwill = timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    return invoice_create_from_order(order=line_a.order), kept, goodwill


def test_writing_off_takes_the_entry_off_as_no_charge(accountant, draft, line_a):
    invoice, kept, goodwill = draft
    assert invoice.amount_total == Decimal("180.00")

    invoice_write_off(invoice=invoice, entry_ids=[goodwill.pk], reason="Our mistake: the fix did not hold",
                      actor=accountant)

    invoice.refresh_from_db()
    goodwill.refresh_from_db()
    line_a.refresh_from_db()
    assert invoice.amount_total == Decimal("135.00") and invoice.lines.get().minutes == 90
    assert (goodwill.written_off, goodwill.minutes, goodwill.billable_minutes, goodwill.invoice_line) == (
        True, 30, 0, None)
    assert goodwill.write_off_reason == "Our mistake: the fix did not hold"
    assert (line_a.delivered_minutes, line_a.invoiced_minutes) == (90, 90)
    with pytest.raises(ValidationError, match="There is nothing to invoice"):
        invoice_create_from_order(order=line_a.order)  # never reaches an invoice again

    [event] = AuditEvent.objects.filter(action=A.INVOICE_WRITTEN_OFF)
    assert (event.actor, event.changes) == (accountant, {
        "written_off_timesheets": [goodwill.pk], "reason": "Our mistake: the fix did not hold",
        "amount_total": ["180.00", "135.00"], "minutes": [120, 90]})
    [entry_event] = AuditEvent.objects.filter(action=A.ENTRY_WRITTEN_OFF)
    assert entry_event.object_id == goodwill.pk and entry_event.changes["reason"].startswith("Our mistake")


def test_write_off_needs_a_reason_entries_of_the_draft_and_a_draft(accountant, draft, agent, ticket):
    invoice, kept, goodwill = draft
    other = timesheet_log(user=agent, date=days_ago(1), minutes=10, ticket=ticket)

    with pytest.raises(ValidationError, match="Give the reason for writing off"):
        invoice_write_off(invoice=invoice, entry_ids=[goodwill.pk], reason="", actor=accountant)
    with pytest.raises(ValidationError, match=f"not on Draft invoice #{invoice.pk}: {other.pk}"):
        invoice_write_off(invoice=invoice, entry_ids=[goodwill.pk, other.pk], reason="Goodwill", actor=accountant)
    invoice_post(invoice=invoice)
    with pytest.raises(Conflict, match="is posted and cannot be changed"):
        invoice_write_off(invoice=invoice, entry_ids=[goodwill.pk], reason="Goodwill", actor=accountant)

    goodwill.refresh_from_db()
    assert not goodwill.written_off and goodwill.invoice_line is not None


def test_a_manager_reinstates_written_off_time_to_invoice_again(accountant, manager, draft, line_a):
    invoice, kept, goodwill = draft
    invoice_write_off(invoice=invoice, entry_ids=[goodwill.pk], reason="Goodwill", actor=accountant)

    timesheet_reinstate(entry=goodwill, actor=manager)

    goodwill.refresh_from_db()
    line_a.refresh_from_db()
    assert (goodwill.written_off, goodwill.billable_minutes, line_a.delivered_minutes) == (False, 30, 120)
    with pytest.raises(Conflict, match="is not written off"):
        timesheet_reinstate(entry=goodwill, actor=manager)
    second = invoice_create_from_order(order=line_a.order)
    assert second.amount_total == Decimal("45.00")
    event = AuditEvent.objects.get(action=A.ENTRY_REINSTATED)
    assert (event.actor, event.changes["write_off_reason"]) == (manager, "Goodwill")
