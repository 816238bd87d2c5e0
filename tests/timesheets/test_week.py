"""Issue 17: My Timesheets, an agent's week as a grid (timesheets.week); each cell goes through the services."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from core.errors import Conflict
from invoicing.services import invoice_create_from_order
from tickets.selectors import tickets_for
from timesheets.models import LockDate, TimeEntry
from timesheets.selectors import time_entries_for
from timesheets.services import timesheet_log
from timesheets.week import parse_row, week_cell_set, week_grid, week_start

from ..factories import TaskFactory, TicketFactory, UserFactory, days_ago

MONDAY = week_start(days_ago(7))  # last week: every day of it is past, whatever today is
DAY = [MONDAY + datetime.timedelta(days=n) for n in range(7)]


@pytest.fixture
def member(agent, ticket):
    ticket.team.members.add(agent)
    return agent


def grid(agent, viewer=None, **kwargs):
    viewer = viewer or agent
    return week_grid(agent=agent, start=kwargs.pop("start", MONDAY), viewer=viewer,
                     entries=time_entries_for(user=viewer), tickets=tickets_for(user=viewer), **kwargs)


def put(agent, day, minutes, ticket=None, task=None, actor=None):
    actor = actor or agent
    return week_cell_set(agent=agent, day=day, minutes=minutes, ticket=ticket, task=task, actor=actor,
                         tickets=tickets_for(user=actor))


def test_rows_are_the_tickets_and_tasks_worked_on_with_totals(member, ticket):
    other = TicketFactory(team=ticket.team, customer=ticket.customer)
    task = TaskFactory(project=ticket.team.project)
    timesheet_log(user=member, date=DAY[0], minutes=90, ticket=ticket)
    timesheet_log(user=member, date=DAY[2], minutes=30, ticket=ticket)
    timesheet_log(user=member, date=DAY[1], minutes=45, ticket=other)
    timesheet_log(user=member, date=DAY[1], minutes=15, task=task)
    timesheet_log(user=member, date=DAY[0] - datetime.timedelta(days=1), minutes=60, ticket=ticket)  # week before
    timesheet_log(user=UserFactory(), date=DAY[0], minutes=60, ticket=ticket)  # someone else's

    week = grid(member)
    assert [row.key for row in week.rows] == [f"ticket-{other.pk}", f"ticket-{ticket.pk}", f"task-{task.pk}"]
    assert [[cell.minutes for cell in row.cells] for row in week.rows] == [
        [0, 45, 0, 0, 0, 0, 0], [90, 0, 30, 0, 0, 0, 0], [0, 15, 0, 0, 0, 0, 0]]
    assert [row.total for row in week.rows] == [45, 120, 15]
    assert week.day_totals == [90, 60, 30, 0, 0, 0, 0]
    assert week.total == 180
    assert all(cell.editable for row in week.rows for cell in row.cells)
    assert (week.previous, week.next) == (MONDAY - datetime.timedelta(days=7), MONDAY + datetime.timedelta(days=7))


def test_a_cell_logs_changes_and_removes_the_days_entry(member, ticket, line_a):
    entry = put(member, DAY[3], 90, ticket=ticket)
    assert (entry.minutes, entry.date, entry.sale_line) == (90, DAY[3], line_a)
    line_a.refresh_from_db()
    assert line_a.delivered == 1.5

    assert put(member, DAY[3], 45, ticket=ticket).pk == entry.pk
    line_a.refresh_from_db()
    assert line_a.delivered == 0.75
    assert put(member, DAY[3], 45, ticket=ticket).pk == entry.pk  # the same duration changes nothing

    assert put(member, DAY[3], 0, ticket=ticket) is None
    assert not TimeEntry.objects.exists()
    line_a.refresh_from_db()
    assert line_a.delivered == 0
    actions = list(AuditEvent.objects.filter(object_id=entry.pk, object_type="timesheets.timeentry")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["entry.created", "entry.edited", "entry.deleted"]
    assert put(member, DAY[3], None, ticket=ticket) is None  # an empty cell stays empty


def test_a_day_with_two_entries_is_changed_on_the_ticket(member, ticket):
    timesheet_log(user=member, date=DAY[0], minutes=30, ticket=ticket, description="Call")
    timesheet_log(user=member, date=DAY[0], minutes=20, ticket=ticket, description="Fix")
    [row] = grid(member).rows
    assert row.cells[0].minutes == 50
    assert row.cells[0].reason == "2 timesheets on this day: change them one by one on the ticket."
    with pytest.raises(Conflict, match="Several timesheets on"):
        put(member, DAY[0], 60, ticket=ticket)
    assert sorted(TimeEntry.objects.values_list("minutes", flat=True)) == [20, 30]


def test_invoiced_time_is_read_only(member, ticket, line_a):
    timesheet_log(user=member, date=DAY[0], minutes=60, ticket=ticket)
    invoice = invoice_create_from_order(order=line_a.order)
    [row] = grid(member).rows
    assert row.cells[0].reason == f"Invoiced on {invoice}: invoiced time cannot be changed."
    assert row.cells[1].editable  # another day of the same row still logs
    with pytest.raises(Conflict, match="already invoiced"):
        put(member, DAY[0], 30, ticket=ticket)
    assert TimeEntry.objects.get().minutes == 60


def test_locked_days_say_why_except_to_managers(member, ticket, manager):
    LockDate.objects.create(pk=1, lock_date=DAY[1])
    [row] = grid(member, add=[ticket.pk]).rows
    assert [cell.reason for cell in row.cells[:3]] == [f"Locked: timesheets up to {DAY[1]} are locked."] * 2 + [""]
    with pytest.raises(ValidationError, match="are locked"):
        put(member, DAY[0], 30, ticket=ticket)
    [row] = grid(member, viewer=manager, add=[ticket.pk]).rows
    assert row.cells[0].editable
    assert put(member, DAY[0], 30, ticket=ticket, actor=manager).user == member


def test_future_days_are_read_only(member, ticket):
    today = days_ago(0)
    [row] = grid(member, start=today, add=[ticket.pk]).rows
    for cell in row.cells:
        assert cell.editable == (cell.date <= today)
        assert cell.reason == ("" if cell.date <= today else "Time cannot be logged in the future.")


def test_added_rows_are_only_tickets_the_viewer_sees(member, ticket):
    elsewhere = TicketFactory()
    week = grid(member, add=[ticket.pk, elsewhere.pk, 10**12])
    assert [row.key for row in week.rows] == [f"ticket-{ticket.pk}"]
    assert week.total == 0


def test_managers_see_an_agents_week_an_agent_only_their_own(member, ticket, manager):
    timesheet_log(user=member, date=DAY[0], minutes=60, ticket=ticket)
    [row] = grid(member, viewer=manager).rows
    assert row.cells[0].minutes == 60 and row.cells[0].editable
    teammate = UserFactory(role="Agents")
    ticket.team.members.add(teammate)
    [row] = grid(member, viewer=teammate).rows  # a teammate sees the entry on their team's ticket
    assert row.reason == "You may see agent's week, not change it."
    assert not any(cell.editable for cell in row.cells)


def test_a_team_without_timesheets_is_read_only(member, ticket):
    timesheet_log(user=member, date=DAY[0], minutes=60, ticket=ticket)
    ticket.team.time_reinvoicing = ticket.team.timesheet_on_ticket = False
    ticket.team.save()
    [row] = grid(member).rows
    assert row.cells[1].reason == f"Timesheet on Ticket is off for the team {ticket.team}."


def test_bad_cells_are_refused(member, ticket):
    with pytest.raises(ValidationError, match="Choose a ticket or a task"):
        put(member, DAY[0], 30)
    with pytest.raises(ValidationError, match="whole minutes"):
        put(member, DAY[0], "30", ticket=ticket)
    with pytest.raises(ValidationError, match="more than 24 hours|cannot exceed 24 hours"):
        put(member, DAY[0], 24 * 60 + 1, ticket=ticket)
    assert not TimeEntry.objects.exists()
    assert parse_row("ticket-12") == ("ticket", 12) and parse_row("task-3") == ("task", 3)
    for bad in ("ticket-", "order-1", "ticket-²", "ticket-1-2", "", "ticket-" + "9" * 19):
        with pytest.raises(ValidationError):
            parse_row(bad)


def test_week_grid_queries_do_not_grow_with_rows(member, ticket, django_assert_num_queries):
    for n in range(6):
        timesheet_log(user=member, date=DAY[n % 7], minutes=30,
                      ticket=TicketFactory(team=ticket.team, customer=ticket.customer))
    member = type(member).objects.get(pk=member.pk)
    grid(member)  # warm the roles
    with django_assert_num_queries(3):
        assert len(grid(member).rows) == 6
