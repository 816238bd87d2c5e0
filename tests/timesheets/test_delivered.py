"""Rule 5: Delivered is the sum of billable minutes, kept on every save and delete."""

from decimal import Decimal

import pytest
from django.db import connection

from timesheets.models import TimeEntry
from timesheets.services import timesheet_delete, timesheet_log, timesheet_update

from ..conftest import requires_postgres
from ..factories import UserFactory, billable_ticket, confirmed_line, days_ago
from ..threads import run_together


def test_moving_an_entry_by_hand_updates_both_lines(agent, ticket, line_a):
    line_b = confirmed_line(order=line_a.order)
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=50, ticket=ticket)
    timesheet_update(entry=entry, sale_line=line_b)
    line_a.refresh_from_db()
    line_b.refresh_from_db()
    assert (line_a.delivered_minutes, line_b.delivered_minutes) == (0, 50)
    timesheet_update(entry=entry, sale_line=None)  # back to the ticket's line
    entry.refresh_from_db()
    line_a.refresh_from_db()
    line_b.refresh_from_db()
    assert (entry.sale_line, entry.sale_line_manual) == (line_a, False)
    assert (line_a.delivered_minutes, line_b.delivered_minutes) == (50, 0)


def test_a_plain_save_and_delete_keep_delivered(agent, ticket, line_a):
    """Code that bypasses the services (shell, admin) still keeps the stored sum true."""
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=50, ticket=ticket)
    entry.minutes = entry.billable_minutes = 70
    entry.save()
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 70
    entry.delete()
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 0


def entries(line, ticket, user, count):
    TimeEntry.objects.bulk_create(
        TimeEntry(date=days_ago(1), user=user, minutes=5, billable_minutes=5, project=ticket.team.project,
                  ticket=ticket, sale_line=line) for _ in range(count))


@pytest.mark.parametrize("existing", [1, 1000])
def test_saving_an_entry_costs_the_same_queries_whatever_the_line_holds(
        agent, ticket, line_a, existing, django_assert_num_queries):
    entries(line_a, ticket, agent, existing)
    entry = TimeEntry.objects.filter(sale_line=line_a).first()
    entry.minutes = entry.billable_minutes = 10
    # UPDATE entry; lock the line (SELECT ... FOR UPDATE); on PostgreSQL, the sum from the checkpoint storing
    # the line's totals in the same statement; on SQLite, the SUM of its entries, then UPDATE the line.
    # No savepoint: the save's own transaction rolls back whole (test_log_queries.py has them all, named).
    with django_assert_num_queries(3 if connection.vendor == "postgresql" else 4):
        entry.save()
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 5 * existing + 5


@pytest.mark.parametrize("existing", [1, 1000])
def test_logging_time_costs_the_same_queries_whatever_the_line_holds(
        agent, ticket, line_a, existing, django_assert_num_queries):
    entries(line_a, ticket, agent, existing)
    ticket = type(ticket).objects.select_related("team__project", "customer", "sale_line__order",
                                                 "sale_line__product", "task").get(pk=ticket.pk)
    # SAVEPOINT (the test's transaction around the service's); share the links lock (PostgreSQL only: SQLite has
    # one writer); read the ticket as stored, with its team, task, project, customer and the lock date; read and
    # lock its candidate lines; INSERT the entry; then the receiver: on PostgreSQL the sum from the checkpoint
    # storing the line's totals, on SQLite SUM then UPDATE; INSERT the audit event; RELEASE
    with django_assert_num_queries(8):
        timesheet_log(user=agent, date=days_ago(0), minutes=15, ticket=ticket)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_agents_logging_at_once_lose_nothing():
    line, ticket, _ = billable_ticket()
    users = [UserFactory() for _ in range(20)]
    results = run_together(*[
        lambda u=u: timesheet_log(user=u, date=days_ago(0), minutes=15, ticket=ticket) for u in users])
    assert [r for r in results if isinstance(r, Exception)] == []
    line.refresh_from_db()
    assert line.delivered_minutes == 300
    assert line.delivered == Decimal("5.00")
    assert connection.vendor == "postgresql"


def test_deleting_removes_from_delivered(agent, ticket, line_a):
    keep = timesheet_log(user=agent, date=days_ago(0), minutes=50, ticket=ticket)
    gone = timesheet_log(user=agent, date=days_ago(0), minutes=25, ticket=ticket)
    timesheet_delete(entry=gone)
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == keep.minutes == 50
