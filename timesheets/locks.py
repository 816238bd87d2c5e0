"""The Timesheets lock date and the agents' grace window (DESIGN Rule 12).

Entries dated on or before the lock date (the global one, or the team's when later) cannot be
logged, changed or deleted, except by managers; agents also cannot reach further back than the
grace window. Asked by the services with the date before and after a change; set by managers in
the admin (`lock_date_set`), each change in the audit log.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.models import AuditEvent
from audit.services import audit_record, field_changes
from core.l10n import day
from projects.models import Project
from tickets.models import HelpdeskTeam, Ticket

from .models import LockDate


def _team_lock(ticket: Ticket | None, project: Project) -> datetime.date | None:
    """The team's lock date: the ticket's team's, else the latest of the teams working in the project."""
    if ticket is not None:
        return ticket.team.timesheets_lock_date
    dates = HelpdeskTeam.objects.filter(project=project).exclude(timesheets_lock_date=None)
    return max(dates.values_list("timesheets_lock_date", flat=True), default=None)


def locked_until(*, ticket: Ticket | None, project: Project, lock: LockDate | None = None) -> datetime.date | None:
    """Return the last locked date for time on this ticket (else in this project), or None."""
    lock = lock or LockDate.current()
    dates = [d for d in (lock.lock_date, _team_lock(ticket, project)) if d is not None]
    return max(dates, default=None)


def with_lock_date(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """`tickets` with the global lock date and grace window read in the same query (`lock_of` gives them back):
    logging time reads them with its ticket."""
    row = LockDate.objects.filter(pk=1)
    return tickets.annotate(global_lock_date=Subquery(row.values("lock_date")),
                            agent_grace_days=Subquery(row.values("agent_grace_days")))


def lock_of(ticket: Ticket) -> LockDate:
    """The LockDate as read with a ticket of `with_lock_date`."""
    return LockDate(pk=1, lock_date=ticket.global_lock_date, agent_grace_days=ticket.agent_grace_days)


def lock_check(*, dates, ticket: Ticket | None, project: Project, actor, lock: LockDate | None = None) -> None:
    """Refuse, on the date field, a change touching a locked date; managers (and commands) pass.

    `lock`, the LockDate when the caller read it already (`lock_of`)."""
    if actor is None or actor.has_perm("timesheets.change_locked_time"):
        return
    lock = lock or LockDate.current()
    until = locked_until(ticket=ticket, project=project, lock=lock)
    oldest = min(dates)
    if until is not None and oldest <= until:
        raise ValidationError({"date": _("Timesheets up to {date} are locked.").format(date=day(until))})
    if lock.agent_grace_days is not None:
        earliest = timezone.localdate() - datetime.timedelta(days=lock.agent_grace_days)
        if oldest < earliest:
            raise ValidationError({"date": ngettext(
                "Timesheets before {date} are locked: agents may log time up to {days} day back. Ask a manager.",
                "Timesheets before {date} are locked: agents may log time up to {days} days back. Ask a manager.",
                lock.agent_grace_days).format(date=day(earliest), days=lock.agent_grace_days)})


@transaction.atomic
def lock_date_set(*, lock_date: datetime.date | None, agent_grace_days: int | None, actor=None) -> LockDate:
    """Set the global lock date and the agents' grace window (managers, in the admin); the change is audited."""
    if agent_grace_days is not None and (isinstance(agent_grace_days, bool) or not isinstance(agent_grace_days, int)
                                         or agent_grace_days < 0):
        raise ValidationError({"agent_grace_days": _("Enter a number of days, 0 or more, or leave it empty.")})
    if lock_date is not None and lock_date > timezone.localdate():
        raise ValidationError({"lock_date": _("The lock date cannot be in the future: time of today is still "
                                              "logged.")})
    lock = LockDate.objects.select_for_update().filter(pk=1).first() or LockDate(pk=1)
    before = {"lock_date": lock.lock_date, "agent_grace_days": lock.agent_grace_days}
    lock.lock_date, lock.agent_grace_days = lock_date, agent_grace_days
    lock.save()
    if changes := field_changes(before, {"lock_date": lock_date, "agent_grace_days": agent_grace_days}):
        audit_record(action=AuditEvent.Action.LOCK_DATE_CHANGED, obj=lock, actor=actor, changes=changes)
    return lock
