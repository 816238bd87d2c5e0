"""Rule 1 (team options), Rule 2 (ticket ↔ task) and Rule 10 (moving Sales Order Items)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from invoicing.services import invoice_create_from_order
from projects.services import task_set_sale_line
from tickets.models import HelpdeskTeam
from tickets.services import team_save, ticket_link_task, ticket_set_sale_line
from timesheets.services import timesheet_log

from ..factories import (
    CustomerFactory,
    ProjectFactory,
    TaskFactory,
    TeamFactory,
    TicketFactory,
    confirmed_line,
    days_ago,
)

# --- Rule 1 -------------------------------------------------------------------

def test_timesheet_on_ticket_needs_a_project(db):
    with pytest.raises(ValidationError) as e:
        team_save(team=HelpdeskTeam(name="Support", timesheet_on_ticket=True))
    assert e.value.message_dict["project"] == ["Timesheet on Ticket needs a project where the time goes."]


def test_time_reinvoicing_needs_timesheet_on_ticket_and_a_billable_project(db):
    with pytest.raises(ValidationError, match="Time Reinvoicing needs Timesheet on Ticket."):
        team_save(team=HelpdeskTeam(name="Support", time_reinvoicing=True))
    internal = ProjectFactory(name="Internal", billable=False)
    with pytest.raises(ValidationError, match="Time Reinvoicing needs a Billable project: mark Internal Billable."):
        team_save(team=HelpdeskTeam(name="Support", timesheet_on_ticket=True, project=internal, time_reinvoicing=True))
    assert not HelpdeskTeam.objects.exists()
    team = team_save(team=HelpdeskTeam(name="Support", timesheet_on_ticket=True, project=ProjectFactory(),
                                       time_reinvoicing=True))
    assert team.pk


def test_database_refuses_reinvoicing_without_timesheets(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        HelpdeskTeam.objects.create(name="Broken", time_reinvoicing=True)


# --- Rule 2 -------------------------------------------------------------------

def test_task_must_belong_to_the_teams_project_and_link_one_ticket(ticket):
    stranger = TaskFactory()
    with pytest.raises(ValidationError, match="Choose a task of"):
        ticket_link_task(ticket=ticket, task=stranger)
    task = TaskFactory(project=ticket.team.project)
    ticket_link_task(ticket=ticket, task=task)
    other = TicketFactory(team=ticket.team, customer=ticket.customer)
    with pytest.raises(ValidationError, match="is already linked to another ticket"):
        ticket_link_task(ticket=other, task=task)


def test_relinking_moves_only_unbilled_entries(agent, ticket, line_a):
    first = TaskFactory(project=ticket.team.project)
    second = TaskFactory(project=ticket.team.project)
    ticket_link_task(ticket=ticket, task=first)
    billed = timesheet_log(user=agent, date=days_ago(1), minutes=60, ticket=ticket)
    invoice_create_from_order(order=line_a.order)
    unbilled = timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    early = timesheet_log(user=agent, date=days_ago(0), minutes=15, task=second)  # before the link

    ticket_link_task(ticket=ticket, task=second)
    for e in (billed, unbilled, early):
        e.refresh_from_db()
    assert billed.task == first
    assert unbilled.task == second
    assert early.ticket == ticket
    assert set(second.time_entries.all()) == {unbilled, early}
    assert set(ticket.time_entries.all()) == {billed, unbilled, early}


# --- Rule 10 ------------------------------------------------------------------

def test_changing_the_tickets_line_moves_unbilled_not_hand_set_entries(agent, ticket, line_a):
    line_b = confirmed_line(order=line_a.order)
    billed = timesheet_log(user=agent, date=days_ago(2), minutes=60, ticket=ticket)
    invoice_create_from_order(order=line_a.order)
    free = timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    pinned = timesheet_log(user=agent, date=days_ago(0), minutes=20, ticket=ticket, sale_line=line_a)

    ticket_set_sale_line(ticket=ticket, sale_line=line_b)
    for obj in (billed, free, pinned, line_a, line_b):
        obj.refresh_from_db()
    assert (billed.sale_line, free.sale_line, pinned.sale_line) == (line_a, line_b, line_a)
    assert (line_a.delivered_minutes, line_a.invoiced_minutes) == (80, 60)
    assert (line_b.delivered_minutes, line_b.invoiced_minutes) == (30, 0)


def test_ticket_line_of_another_customer_is_refused(ticket):
    foreign = confirmed_line(order__customer=CustomerFactory(name="Initech"))
    with pytest.raises(ValidationError, match="belongs to Initech"):
        ticket_set_sale_line(ticket=ticket, sale_line=foreign)
    ticket.refresh_from_db()
    assert ticket.sale_line != foreign


def test_changing_the_tasks_line_moves_its_entries(agent, line_a):
    customer = line_a.order.customer
    team = TeamFactory(time_reinvoicing=False)
    task = TaskFactory(project=team.project, customer=customer, sale_line=line_a)
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=40, task=task)
    line_b = confirmed_line(order=line_a.order)
    task_set_sale_line(task=task, sale_line=line_b)
    entry.refresh_from_db()
    line_a.refresh_from_db()
    line_b.refresh_from_db()
    assert entry.sale_line == line_b
    assert (line_a.delivered_minutes, line_b.delivered_minutes) == (0, 40)


def test_turning_reinvoicing_off_moves_time_off_the_ticket_line(agent, ticket, line_a):
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=40, ticket=ticket)
    team = ticket.team
    team.time_reinvoicing = False
    team_save(team=team)
    entry.refresh_from_db()
    line_a.refresh_from_db()
    assert entry.sale_line is None
    assert line_a.delivered_minutes == 0


def test_a_reinvoicing_teams_project_stays_billable(ticket):
    from projects.services import project_save

    project = ticket.team.project
    project.billable = False
    with pytest.raises(ValidationError, match="A team with Time Reinvoicing bills this project's time"):
        project_save(project=project)


def test_changing_a_teams_project_moves_its_unbilled_ticket_time(agent, ticket, line_a):
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=40, ticket=ticket)
    team = ticket.team
    team.project = ProjectFactory(name="Support 2027")
    team_save(team=team)
    entry.refresh_from_db()
    assert (entry.project, entry.sale_line) == (team.project, line_a)
