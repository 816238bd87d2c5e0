"""Rule 12: a ticket's customer is fixed once time is logged on it; a manager moves it with its time.

And Rule 4 from the customer's side: whatever is relinked, time never bills another customer's order.
"""

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from core.errors import Conflict
from invoicing.services import invoice_cancel, invoice_create_from_order, invoice_post
from projects.services import task_set_sale_line
from tickets.services import ticket_link_task, ticket_set_customer, ticket_set_sale_line
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log

from ..conftest import requires_postgres
from ..factories import CustomerFactory, TaskFactory, TeamFactory, TicketFactory, confirmed_line, days_ago
from ..threads import run_together


def minutes(*lines):
    for line in lines:
        line.refresh_from_db()
    return [line.delivered_minutes for line in lines]


@pytest.fixture
def other_line(db):
    """A line of another customer's confirmed order: Globex, 120/h."""
    return confirmed_line(order__customer=CustomerFactory(name="Globex"), price_unit=120)


def test_only_a_manager_changes_the_customer_once_time_is_logged(agent, manager, ticket):
    assert agent.has_perm("tickets.change_ticket_customer", ticket)  # no time yet: still being triaged
    timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    assert not agent.has_perm("tickets.change_ticket_customer", ticket)
    assert manager.has_perm("tickets.change_ticket_customer", ticket)


def test_a_manager_moves_the_ticket_and_its_time_to_the_other_customer(agent, manager, ticket, line_a, other_line):
    second_a = confirmed_line(order=line_a.order)
    free = timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    by_hand = timesheet_log(user=agent, date=days_ago(0), minutes=45, ticket=ticket, sale_line=second_a)
    assert minutes(line_a, second_a, other_line) == [30, 45, 0]

    ticket_set_customer(ticket=ticket, customer=other_line.order.customer, sale_line=other_line, actor=manager)

    ticket.refresh_from_db()
    assert (ticket.customer.name, ticket.sale_line) == ("Globex", other_line)
    # The line set by hand sold to the old customer: that entry follows the ticket too.
    assert set(TimeEntry.objects.values_list("pk", "sale_line", "sale_line_manual")) == {
        (free.pk, other_line.pk, False), (by_hand.pk, other_line.pk, False)}
    assert minutes(line_a, second_a, other_line) == [0, 0, 75]
    event = AuditEvent.objects.get(action=AuditEvent.Action.TICKET_CUSTOMER_CHANGED)
    assert (event.actor, event.object_id) == (manager, ticket.pk)
    assert event.changes == {"customer": [line_a.order.customer.name, "Globex"],
                             "sale_line": [line_a.pk, other_line.pk], "timesheets": [free.pk, by_hand.pk]}


def test_without_a_line_of_the_new_customer_the_time_is_not_billed(agent, manager, ticket, line_a, other_line):
    timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    ticket_set_customer(ticket=ticket, customer=other_line.order.customer, actor=manager)
    ticket.refresh_from_db()
    assert ticket.sale_line is None
    assert list(TimeEntry.objects.values_list("sale_line", "billable_minutes")) == [(None, 0)]
    assert minutes(line_a) == [0]


@pytest.mark.parametrize("posted", [False, True])
def test_invoiced_time_keeps_its_customer(agent, manager, ticket, line_a, other_line, posted):
    timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    invoice = invoice_create_from_order(order=line_a.order)
    if posted:
        invoice = invoice_post(invoice=invoice)
    timesheet_log(user=agent, date=days_ago(0), minutes=15, ticket=ticket)
    customer = ticket.customer

    with pytest.raises(Conflict) as refusal:
        ticket_set_customer(ticket=ticket, customer=other_line.order.customer, sale_line=other_line, actor=manager)

    number = invoice.number if posted else "a draft"
    assert refusal.value.messages == [
        f"Time on {ticket} is invoiced ({number}): it stays with its customer. Cancel the draft or credit "
        "the invoice first, or open a new ticket for the other customer."]
    ticket.refresh_from_db()
    assert (ticket.customer, ticket.sale_line) == (customer, line_a)
    assert minutes(line_a, other_line) == [45, 0]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TICKET_CUSTOMER_CHANGED).exists()
    if not posted:  # cancelled, the draft frees the time: the ticket can move with all of it
        invoice_cancel(invoice=invoice)
        ticket_set_customer(ticket=ticket, customer=other_line.order.customer, sale_line=other_line, actor=manager)
        assert minutes(line_a, other_line) == [0, 45]


def test_a_plain_save_cannot_carry_invoiced_time_away(agent, ticket, line_a, other_line):
    """The refusal sits where the time moves, so the admin, the API and the shell all meet it."""
    timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    invoice_create_from_order(order=line_a.order)
    ticket.customer, ticket.sale_line = other_line.order.customer, other_line
    with pytest.raises(Conflict, match="is invoiced"):
        ticket.save()
    assert minutes(line_a, other_line) == [30, 0]


def test_a_line_of_another_customer_is_refused_for_the_new_one(manager, ticket, line_a, other_line):
    with pytest.raises(ValidationError, match=f"{line_a.order.name} belongs to"):
        ticket_set_customer(ticket=ticket, customer=other_line.order.customer, sale_line=line_a, actor=manager)
    ticket.refresh_from_db()
    assert ticket.customer == line_a.order.customer


def test_a_task_of_another_customer_never_bills_the_tickets_time(agent, ticket, line_a, other_line):
    """A ticket linked to a task sold to Globex: its time bills its own line, else nothing."""
    task = TaskFactory(project=ticket.team.project, customer=other_line.order.customer, sale_line=other_line)
    ticket_link_task(ticket=ticket, task=task)
    timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    assert minutes(line_a, other_line) == [30, 0]
    ticket_set_sale_line(ticket=ticket, sale_line=None)
    assert list(TimeEntry.objects.values_list("sale_line", flat=True)) == [None]
    assert minutes(line_a, other_line) == [0, 0]
    task_set_sale_line(task=task, sale_line=confirmed_line(order=other_line.order))
    assert list(TimeEntry.objects.values_list("sale_line", flat=True)) == [None]


def test_a_tasks_time_joining_another_customers_ticket_leaves_its_hand_set_line(agent, ticket, line_a, other_line):
    """Time logged on a task sold to Globex, billed by hand to Globex's line; the task is then
    linked to our customer's ticket: that time is now our customer's, and bills our line."""
    task = TaskFactory(project=ticket.team.project, customer=other_line.order.customer)
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=30, task=task, sale_line=other_line)
    assert minutes(line_a, other_line) == [0, 30]
    ticket_link_task(ticket=ticket, task=task)
    entry.refresh_from_db()
    assert (entry.ticket, entry.sale_line, entry.sale_line_manual) == (ticket, line_a, False)
    assert minutes(line_a, other_line) == [30, 0]


def test_the_projects_line_bills_only_its_customers_time(agent, line_a, other_line):
    team = TeamFactory(time_reinvoicing=False, project__customer=other_line.order.customer,
                       project__sale_line=other_line)
    globex = TicketFactory(team=team, customer=other_line.order.customer)
    ours = TicketFactory(team=team, customer=line_a.order.customer)
    assert timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=globex).sale_line == other_line
    assert timesheet_log(user=agent, date=days_ago(0), minutes=20, ticket=ours).sale_line is None
    assert minutes(other_line) == [30]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_create_invoice_racing_the_move_bills_the_time_once_on_one_side():
    """Either the invoice takes the time first and the move is refused, or the move wins and
    the old order has nothing left to invoice."""
    from ..factories import UserFactory

    for _ in range(8):
        line = confirmed_line()
        other = confirmed_line(order__customer=CustomerFactory())
        ticket = TicketFactory(customer=line.order.customer, sale_line=line)
        timesheet_log(user=UserFactory(), date=days_ago(0), minutes=40, ticket=ticket)

        invoiced, moved = run_together(
            lambda: invoice_create_from_order(order=line.order),
            lambda: ticket_set_customer(ticket=ticket, customer=other.order.customer, sale_line=other))

        assert isinstance(invoiced, ValidationError) != isinstance(moved, ValidationError), (invoiced, moved)
        if isinstance(moved, ValidationError):
            assert "is invoiced" in moved.messages[0]
            assert minutes(line, other) == [40, 0]
        else:
            assert "There is nothing to invoice" in invoiced.messages[0]
            assert minutes(line, other) == [0, 40]
