"""Rules 2, 3 and 4: where time is logged, what is refused, which line it bills."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from sales.models import SaleOrder
from timesheets.models import TimeEntry
from timesheets.services import timesheet_delete, timesheet_log, timesheet_update

from ..factories import (
    CustomerFactory,
    ProductFactory,
    SaleOrderLineFactory,
    TaskFactory,
    TeamFactory,
    TicketFactory,
    confirmed_line,
    days_ago,
)


def refused(field, message, **kwargs):
    """Assert timesheet_log refuses with `message` on `field` and logs nothing."""
    before = TimeEntry.objects.count()
    with pytest.raises(ValidationError) as e:
        timesheet_log(**kwargs)
    messages = e.value.message_dict[field] if field else e.value.messages
    assert message in " ".join(messages)
    assert TimeEntry.objects.count() == before


# --- Rule 3 -------------------------------------------------------------------

def test_future_date_is_refused(agent, ticket):
    tomorrow = days_ago(-1)
    refused("date", "Time cannot be logged in the future.", user=agent, date=tomorrow, minutes=30, ticket=ticket)


@pytest.mark.parametrize("minutes, message", [
    (0, "A duration must be more than 0 minutes."),
    (-30, "A duration must be more than 0 minutes."),
    (24 * 60 + 1, "A single time entry cannot exceed 24 hours (24:00)."),
    ("90", "Enter the duration as whole minutes."),
    (1.5, "Enter the duration as whole minutes."),
])
def test_bad_durations_are_refused(agent, ticket, minutes, message):
    refused("minutes", message, user=agent, date=days_ago(0), minutes=minutes, ticket=ticket)


def test_a_full_day_is_accepted(agent, ticket):
    assert timesheet_log(user=agent, date=days_ago(0), minutes=24 * 60, ticket=ticket).minutes == 1440


def test_time_needs_a_ticket_or_a_task(agent):
    refused(None, "Log time on a ticket or on a task.", user=agent, date=days_ago(0), minutes=30)


def test_team_without_timesheet_on_ticket_refuses_time(agent):
    ticket = TicketFactory(team=TeamFactory(timesheet_on_ticket=False, time_reinvoicing=False))
    refused("ticket", "Timesheet on Ticket is off for the team", user=agent, date=days_ago(0), minutes=30,
            ticket=ticket)


def test_invoiced_time_cannot_be_edited_or_deleted(agent, line_a, ticket):
    from invoicing.services import invoice_create_from_order

    entry = timesheet_log(user=agent, date=days_ago(0), minutes=60, ticket=ticket)
    invoice_create_from_order(order=line_a.order)
    for change in (lambda: timesheet_update(entry=entry, minutes=30),
                   lambda: timesheet_update(entry=entry, description="less"),
                   lambda: timesheet_delete(entry=entry)):
        with pytest.raises(ValidationError, match="You cannot modify timesheets that are already invoiced."):
            change()
    entry.refresh_from_db()
    assert (entry.minutes, entry.description) == (60, "")


def test_edit_and_delete_unbilled_time(agent, line_a, ticket):
    entry = timesheet_log(user=agent, date=days_ago(1), minutes=60, ticket=ticket)
    timesheet_update(entry=entry, minutes=90, description="Replaced the toner", date=days_ago(2))
    entry.refresh_from_db()
    line_a.refresh_from_db()
    assert (entry.minutes, entry.description, entry.date) == (90, "Replaced the toner", days_ago(2))
    assert line_a.delivered_minutes == 90
    timesheet_delete(entry=entry)
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 0
    assert not TimeEntry.objects.exists()


# --- Rule 2: ticket and task show the same rows --------------------------------

def test_entry_on_ticket_carries_its_task_and_the_reverse(agent, line_a):
    team = TeamFactory()
    task = TaskFactory(project=team.project)
    ticket = TicketFactory(team=team, customer=line_a.order.customer, task=task, sale_line=line_a)
    on_ticket = timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    on_task = timesheet_log(user=agent, date=days_ago(0), minutes=45, task=task)
    assert (on_ticket.ticket, on_ticket.task, on_ticket.project) == (ticket, task, team.project)
    assert (on_task.ticket, on_task.task, on_task.project) == (ticket, task, team.project)
    assert set(ticket.time_entries.all()) == set(task.time_entries.all()) == {on_ticket, on_task}
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 75


def test_entry_naming_another_task_than_the_tickets_is_refused(agent, ticket):
    other = TaskFactory(project=ticket.team.project)
    refused("task", "is not the task linked to ticket", user=agent, date=days_ago(0), minutes=30,
            ticket=ticket, task=other)


# --- Rule 4: which line -----------------------------------------------------------

def test_ticket_line_when_team_reinvoices(agent, ticket, line_a):
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    assert (entry.sale_line, entry.sale_line_manual, entry.billable_minutes) == (line_a, False, 30)


def test_task_line_when_team_does_not_reinvoice(agent, line_a):
    team = TeamFactory(time_reinvoicing=False)
    task_line = confirmed_line(order=line_a.order)
    task = TaskFactory(project=team.project, sale_line=task_line, customer=line_a.order.customer)
    ticket = TicketFactory(team=team, customer=line_a.order.customer, task=task, sale_line=line_a)
    assert timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket).sale_line == task_line


def test_project_line_else_none(agent, line_a):
    customer = line_a.order.customer
    team = TeamFactory(time_reinvoicing=False, project__customer=customer, project__sale_line=line_a)
    ticket = TicketFactory(team=team, customer=customer)
    assert timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket).sale_line == line_a

    bare = TicketFactory(team=TeamFactory(time_reinvoicing=False), customer=customer)
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=bare)
    assert (entry.sale_line, entry.billable_minutes) == (None, 0)


def test_hand_set_line_must_be_same_customer_and_confirmed(agent, ticket, line_a):
    other_customer = confirmed_line(order__customer=CustomerFactory(name="Globex"))
    refused("sale_line", "belongs to Globex", user=agent, date=days_ago(0), minutes=30, ticket=ticket,
            sale_line=other_customer)
    quotation = SaleOrderLineFactory(order__customer=ticket.customer)
    assert quotation.order.state == SaleOrder.State.DRAFT
    refused("sale_line", "is not a confirmed sales order", user=agent, date=days_ago(0), minutes=30,
            ticket=ticket, sale_line=quotation)
    manual_product = confirmed_line(order=line_a.order, product=ProductFactory(service_policy="delivered_manual"))
    refused("sale_line", "is not billed on timesheets", user=agent, date=days_ago(0), minutes=30,
            ticket=ticket, sale_line=manual_product)

    second = confirmed_line(order=line_a.order)
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket, sale_line=second)
    assert (entry.sale_line, entry.sale_line_manual) == (second, True)


def test_billing_increment_rounds_up_and_keeps_raw_minutes(agent):
    line = confirmed_line(product=ProductFactory(billing_increment_minutes=15))
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=31, ticket=ticket)
    assert (entry.minutes, entry.billable_minutes) == (31, 45)
    timesheet_log(user=agent, date=days_ago(0), minutes=15, ticket=ticket)
    line.refresh_from_db()
    assert line.delivered_minutes == 60


def test_date_must_be_a_date(agent, ticket):
    refused("date", "Enter a valid date.", user=agent, date="2026-01-01", minutes=30, ticket=ticket)
    assert timesheet_log(user=agent, date=datetime.date(2026, 1, 1), minutes=30, ticket=ticket).pk
