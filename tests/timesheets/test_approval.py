"""Approval before billing (DESIGN Rule 11): what counts in Delivered, who approves, what an edit does."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from core.errors import Conflict
from invoicing.services import invoice_cancel, invoice_create_from_order
from tickets.models import HelpdeskTeam
from tickets.services import team_save
from timesheets.approval import timesheets_approve, timesheets_reject
from timesheets.models import TimeEntry
from timesheets.selectors import awaiting_minutes, to_approve_for
from timesheets.services import APPROVED_MESSAGE, timesheet_delete, timesheet_log, timesheet_update

from ..factories import ProductFactory, TaskFactory, UserFactory, confirmed_line, days_ago

A = AuditEvent.Action


def approved_only(team, actor=None):
    team = HelpdeskTeam.objects.get(pk=team.pk)
    team.invoiced_timesheets = HelpdeskTeam.Invoicing.APPROVED
    return team_save(team=team, actor=actor)


def all_recorded(team, actor=None):
    team = HelpdeskTeam.objects.get(pk=team.pk)
    team.invoiced_timesheets = HelpdeskTeam.Invoicing.ALL
    return team_save(team=team, actor=actor)


def delivered(line) -> int:
    line.refresh_from_db()
    return line.delivered_minutes


def log(agent, ticket, minutes, days=1, **kwargs):
    return timesheet_log(user=agent, date=days_ago(days), minutes=minutes, ticket=ticket, actor=agent, **kwargs)


def test_all_recorded_timesheets_is_the_default_and_counts_time_awaiting_approval(agent, ticket, line_a):
    entry = log(agent, ticket, 90)

    assert ticket.team.invoiced_timesheets == "all"
    assert entry.approval == "to_approve" and entry.billable_minutes == 90
    assert delivered(line_a) == 90 and awaiting_minutes(line_ids=[line_a.pk]) == {}


def test_approved_only_counts_approved_time_and_shows_the_rest_awaiting(agent, manager, ticket, line_a):
    approved_only(ticket.team)
    first = log(agent, ticket, 90)
    log(agent, ticket, 40)

    assert (first.billable_minutes, delivered(line_a)) == (0, 0)
    assert awaiting_minutes(line_ids=[line_a.pk]) == {line_a.pk: 130}

    assert timesheets_approve(ids=[first.pk], actor=manager) == 1
    assert delivered(line_a) == 90 and awaiting_minutes(line_ids=[line_a.pk]) == {line_a.pk: 40}
    first.refresh_from_db()
    assert (first.approval, first.reviewed_by, first.billable_minutes) == ("approved", manager, 90)

    invoice = invoice_create_from_order(order=line_a.order)
    assert list(TimeEntry.objects.filter(invoice_line__invoice=invoice)) == [first]
    assert invoice.amount_untaxed == 135  # 1:30 at 90.00, the 0:40 awaiting approval left out
    with pytest.raises(ValidationError, match="There is nothing to invoice"):
        invoice_create_from_order(order=line_a.order)


def test_awaiting_approval_is_rounded_as_the_line_bills(agent, ticket):
    line = confirmed_line(product=ProductFactory(billing_increment_minutes=15))
    ticket.customer, ticket.sale_line = line.order.customer, line
    ticket.save()
    approved_only(ticket.team)
    log(agent, ticket, 20)
    log(agent, ticket, 1)

    assert awaiting_minutes(line_ids=[line.pk]) == {line.pk: 45}


def test_switching_the_policy_recomputes_delivered_and_leaves_invoiced_time_alone(agent, manager, ticket, line_a):
    billed = log(agent, ticket, 60, days=3)
    invoice = invoice_create_from_order(order=line_a.order)
    waiting, approved = log(agent, ticket, 30), log(agent, ticket, 45)
    timesheets_approve(ids=[approved.pk], actor=manager)
    assert delivered(line_a) == 135

    approved_only(ticket.team, actor=manager)
    assert delivered(line_a) == 105  # 60 invoiced + 45 approved; the 30 awaits approval
    line_a.refresh_from_db()
    assert line_a.invoiced_minutes == 60
    billed.refresh_from_db()
    assert billed.billable_minutes == 60 and billed.invoice_line.invoice == invoice

    all_recorded(ticket.team, actor=manager)
    assert delivered(line_a) == 135
    waiting.refresh_from_db()
    assert waiting.billable_minutes == 30
    changes = [e.changes for e in AuditEvent.objects.filter(action=A.TEAM_INVOICING_CHANGED).order_by("pk")]
    assert changes == [{"invoiced_timesheets": ["all", "approved"]}, {"invoiced_timesheets": ["approved", "all"]}]


def test_time_freed_from_a_cancelled_draft_follows_the_policy_of_now(agent, manager, ticket, line_a):
    entry = log(agent, ticket, 60)
    invoice = invoice_create_from_order(order=line_a.order)
    approved_only(ticket.team)
    assert delivered(line_a) == 60  # on the draft: billed as it was

    invoice_cancel(invoice=invoice)

    entry.refresh_from_db()
    assert (entry.billable_minutes, delivered(line_a)) == (0, 0)
    assert awaiting_minutes(line_ids=[line_a.pk]) == {line_a.pk: 60}


def test_time_on_a_task_without_ticket_follows_its_projects_team(agent, manager, ticket):
    line = confirmed_line()
    task = TaskFactory(project=ticket.team.project, customer=line.order.customer, sale_line=line)
    approved_only(ticket.team)

    entry = timesheet_log(user=agent, date=days_ago(1), minutes=50, task=task, actor=agent)

    assert entry.ticket is None and (entry.billable_minutes, delivered(line)) == (0, 0)
    timesheets_approve(ids=[entry.pk], actor=manager)
    assert delivered(line) == 50


def test_rejected_time_never_counts_and_goes_back_to_approval_when_edited(agent, manager, ticket, line_a):
    entry = log(agent, ticket, 90)
    with pytest.raises(ValidationError, match="Give the reason for rejecting"):
        timesheets_reject(ids=[entry.pk], reason="  ", actor=manager)

    assert timesheets_reject(ids=[entry.pk], reason="Not this customer's printer", actor=manager) == 1

    entry.refresh_from_db()
    assert (entry.approval, entry.approval_note, entry.billable_minutes) == ("rejected",
                                                                            "Not this customer's printer", 0)
    assert delivered(line_a) == 0  # even under "All recorded timesheets": rejected is not billed
    timesheet_update(entry=entry, minutes=60, description="Fuser, on their own printer", actor=agent)
    entry.refresh_from_db()
    assert (entry.approval, entry.approval_note, entry.billable_minutes) == ("to_approve", "", 60)
    assert delivered(line_a) == 60


def test_only_managers_change_approved_time_and_it_stays_approved(agent, manager, ticket, line_a):
    entry = log(agent, ticket, 90)
    timesheets_approve(ids=[entry.pk], actor=manager)

    with pytest.raises(Conflict, match=APPROVED_MESSAGE):
        timesheet_update(entry=entry, minutes=120, actor=agent)
    with pytest.raises(Conflict, match=APPROVED_MESSAGE):
        timesheet_delete(entry=entry, actor=agent)
    timesheet_update(entry=entry, minutes=120, actor=manager)

    entry.refresh_from_db()
    assert (entry.approval, entry.minutes, delivered(line_a)) == ("approved", 120, 120)


def test_review_is_all_or_nothing_and_names_what_cannot_change(agent, manager, ticket, line_a):
    approved_only(ticket.team)
    mine = log(manager, ticket, 15)
    theirs = log(agent, ticket, 30)
    billed = log(agent, ticket, 45)
    timesheets_approve(ids=[billed.pk], actor=manager)
    invoice_create_from_order(order=line_a.order)

    with pytest.raises(ValidationError) as refused:
        timesheets_approve(ids=[theirs.pk, mine.pk, 999_999], actor=manager)
    assert refused.value.message_dict == {"ids": [
        f"These timesheets cannot be approved: 999999 (not found); {mine.pk} (your own time: another manager "
        "reviews it)."]}
    with pytest.raises(ValidationError, match=rf"cannot be rejected: {billed.pk} \(already invoiced\)"):
        timesheets_reject(ids=[theirs.pk, billed.pk], reason="Wrong", actor=manager)
    with pytest.raises(ValidationError, match="Choose at least one timesheet"):
        timesheets_approve(ids=[], actor=manager)
    with pytest.raises(ValidationError, match="list of ids"):
        timesheets_approve(ids="12", actor=manager)

    theirs.refresh_from_db()
    assert theirs.approval == "to_approve" and delivered(line_a) == 45
    assert not AuditEvent.objects.filter(action__in=[A.ENTRY_APPROVED, A.ENTRY_REJECTED], object_id=theirs.pk)


def test_reviews_are_in_the_audit_log_and_approving_twice_changes_nothing(agent, manager, ticket):
    entry = log(agent, ticket, 30)
    timesheets_reject(ids=[entry.pk], reason="Which ticket?", actor=manager)
    timesheets_approve(ids=[entry.pk], actor=manager)

    assert timesheets_approve(ids=[entry.pk], actor=manager) == 0
    events = AuditEvent.objects.filter(object_type="timesheets.timeentry", object_id=entry.pk).order_by("pk")
    assert [(e.action, e.actor_name, e.changes) for e in events][1:] == [
        (A.ENTRY_REJECTED, "manager", {"approval": ["to_approve", "rejected"], "reason": "Which ticket?"}),
        (A.ENTRY_APPROVED, "manager", {"approval": ["rejected", "approved"]}),
    ]


def test_bulk_approval_costs_the_same_queries_for_5_and_50_entries(manager, ticket, line_a):
    agent = UserFactory()
    approved_only(ticket.team)

    def approve(count):
        ids = [log(agent, ticket, 10).pk for _ in range(count)]
        manager._role_names = None  # roles read afresh, as in a new request
        with CaptureQueriesContext(connection) as captured:
            timesheets_approve(ids=ids, actor=manager)
        return len(captured)

    assert approve(5) == approve(50)
    assert delivered(line_a) == 550


def test_to_approve_lists_others_time_with_filters(agent, manager, ticket):
    other = UserFactory(username="other")
    old, new = log(agent, ticket, 30, days=9), log(agent, ticket, 20, days=1)
    theirs = log(other, ticket, 10)
    log(manager, ticket, 5)
    timesheets_approve(ids=[theirs.pk], actor=manager)

    assert list(to_approve_for(user=manager)) == [old, new]
    assert list(to_approve_for(user=manager, start=days_ago(2))) == [new]
    assert list(to_approve_for(user=manager, customer=ticket.customer, agent=agent, team=ticket.team)) == [old, new]
    assert list(to_approve_for(user=manager, agent=other)) == []
