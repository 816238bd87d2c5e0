"""The Timesheets lock date and the agents' grace window (DESIGN Rule 12)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tickets.services import team_save
from timesheets.models import LockDate, TimeEntry
from timesheets.services import timesheet_delete, timesheet_log, timesheet_update

from ..factories import days_ago


def lock(date=None, grace=None):
    LockDate.objects.update_or_create(pk=1, defaults={"lock_date": date, "agent_grace_days": grace})


def log(user, ticket, days, actor):
    return timesheet_log(user=user, date=days_ago(days), minutes=30, ticket=ticket, actor=actor)


def test_agents_cannot_log_change_or_delete_time_on_or_before_the_lock_date(agent, manager, ticket, line_a):
    old = log(agent, ticket, 10, agent)
    lock(days_ago(10))
    message = f"Timesheets up to {days_ago(10)} are locked."

    with pytest.raises(ValidationError) as refused:
        log(agent, ticket, 10, agent)
    assert refused.value.message_dict == {"date": [message]}
    with pytest.raises(ValidationError, match=message):
        timesheet_update(entry=old, minutes=45, actor=agent)
    recent = log(agent, ticket, 9, agent)
    with pytest.raises(ValidationError, match=message):
        timesheet_update(entry=recent, date=days_ago(12), actor=agent)  # nor moved into the locked past
    with pytest.raises(ValidationError, match=message):
        timesheet_delete(entry=old, actor=agent)

    assert sorted(TimeEntry.objects.values_list("minutes", flat=True)) == [30, 30]
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 60


def test_managers_are_never_locked_out(agent, manager, ticket, line_a):
    lock(days_ago(1), grace=0)
    entry = log(agent, ticket, 5, manager)  # a manager logging an agent's time

    timesheet_update(entry=entry, minutes=50, actor=manager)
    timesheet_delete(entry=entry, actor=manager)

    assert not TimeEntry.objects.exists()


def test_a_teams_later_lock_date_wins(agent, ticket):
    lock(days_ago(20))
    ticket.team.timesheets_lock_date = days_ago(5)
    team_save(team=ticket.team)

    with pytest.raises(ValidationError, match=f"Timesheets up to {days_ago(5)} are locked."):
        log(agent, ticket, 5, agent)
    log(agent, ticket, 4, agent)


def test_agents_log_up_to_the_grace_window_back(agent, ticket):
    lock(grace=7)
    earliest = timezone.localdate() - datetime.timedelta(days=7)

    log(agent, ticket, 7, agent)
    with pytest.raises(ValidationError) as refused:
        log(agent, ticket, 8, agent)
    assert refused.value.message_dict == {"date": [
        f"Timesheets before {earliest} are locked: agents may log time up to 7 days back. Ask a manager."]}


def test_team_lock_changes_are_in_the_audit_log(manager, ticket):
    from audit.models import AuditEvent

    ticket.team.timesheets_lock_date = days_ago(3)
    team_save(team=ticket.team, actor=manager)

    event = AuditEvent.objects.get(action=AuditEvent.Action.LOCK_DATE_CHANGED)
    assert (event.actor, event.changes) == (manager, {"timesheets_lock_date": [None, days_ago(3).isoformat()]})
