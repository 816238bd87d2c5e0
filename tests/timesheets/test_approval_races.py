"""Approval racing the invoices and the agents: each race ends in one of its serial outcomes, and every
figure still matches the entries (billing_drift), on PostgreSQL with real threads."""

import pytest

from core.roles import sync_groups
from invoicing.models import Invoice
from invoicing.runs import run_start, step_work
from invoicing.selectors import billing_drift
from invoicing.services import invoice_create_from_order
from tickets.models import HelpdeskTeam
from tickets.services import team_save
from timesheets.approval import timesheets_approve, timesheets_reject
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log, timesheet_update

from ..conftest import requires_postgres
from ..factories import TicketFactory, UserFactory, confirmed_line, days_ago
from ..placement import misplaced
from ..threads import run_together
from .test_approval import approved_only

TRIALS = 10


def world(*, policy="approved"):
    line = confirmed_line(quantity=50, price_unit=90)
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    if policy == "approved":
        approved_only(ticket.team)
    return line, ticket


def errors(results) -> list[Exception]:
    return [r for r in results if isinstance(r, Exception)]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_approving_while_create_invoice_runs_bills_the_entry_once_or_leaves_it_to_invoice():
    sync_groups()  # a transactional test starts from empty tables, the migrations' groups gone
    agent, manager = UserFactory(), UserFactory(role="Managers")
    for _ in range(TRIALS):
        line, ticket = world()
        approved = timesheet_log(user=agent, date=days_ago(2), minutes=60, ticket=ticket)
        timesheets_approve(ids=[approved.pk], actor=manager)
        racing = timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)

        results = run_together(lambda: timesheets_approve(ids=[racing.pk], actor=manager),
                               lambda: invoice_create_from_order(order=line.order))

        assert errors(results) == []
        racing.refresh_from_db()
        line.refresh_from_db()
        invoice = results[1]
        billed = set(TimeEntry.objects.filter(invoice_line__invoice=invoice).values_list("pk", flat=True))
        assert racing.approval == "approved" and line.delivered_minutes == 90
        if racing.pk in billed:  # the approval first: the invoice bills both
            assert invoice.amount_untaxed == 135 and line.invoiced_minutes == 90
        else:  # the invoice first: the approved 0:30 is to invoice next time
            assert invoice.amount_untaxed == 90 and line.invoiced_minutes == 60
        assert billing_drift() == [] and misplaced() == []


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_rejecting_while_the_agent_edits_ends_rejected_or_back_to_approval():
    sync_groups()
    agent, manager = UserFactory(role="Agents"), UserFactory(role="Managers")
    for _ in range(TRIALS):
        line, ticket = world(policy="all")
        entry = timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)

        results = run_together(lambda: timesheets_reject(ids=[entry.pk], reason="Which printer?", actor=manager),
                               lambda: timesheet_update(entry=entry, minutes=45, actor=agent))

        assert errors(results) == []
        entry.refresh_from_db()
        line.refresh_from_db()
        assert entry.minutes == 45
        if entry.approval == "rejected":  # the edit first, then the rejection of the edited entry
            assert (entry.billable_minutes, line.delivered_minutes) == (0, 0)
        else:  # the rejection first: the agent's edit sent it back for approval, and it counts again
            assert (entry.approval, entry.approval_note, line.delivered_minutes) == ("to_approve", "", 45)
        assert billing_drift() == [] and misplaced() == []


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_switching_the_policy_during_a_billing_run():
    sync_groups()
    agent, manager = UserFactory(), UserFactory(role="Managers")
    for _ in range(TRIALS):
        line, ticket = world(policy="all")
        others = [confirmed_line(order__customer=ticket.customer) for _ in range(3)]
        for target in [line, *others]:
            on = TicketFactory(team=ticket.team, customer=ticket.customer, sale_line=target)
            timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=on)
        run = run_start(order_ids=[target.order_id for target in [line, *others]], actor=manager)
        step = run.steps.get()

        def switch():
            team = HelpdeskTeam.objects.get(pk=ticket.team_id)
            team.invoiced_timesheets = HelpdeskTeam.Invoicing.APPROVED
            team_save(team=team, actor=manager)

        results = run_together(lambda: step_work(step_id=step.pk), switch)

        assert errors(results) == []
        billed = TimeEntry.objects.filter(invoice_line__invoice__state=Invoice.State.DRAFT, ticket__team=ticket.team)
        waiting = TimeEntry.objects.filter(invoice_line=None, ticket__team=ticket.team)
        # Each order was invoiced before the switch (its entry billed) or after (its entry awaits approval).
        assert billed.count() + waiting.count() == 4
        assert set(waiting.values_list("billable_minutes", flat=True)) <= {0}
        assert billing_drift() == [] and misplaced() == []
