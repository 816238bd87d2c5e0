"""Writes of the timesheets app: logging, editing and deleting time, and the timer on a ticket.

Delivered follows every save (receivers.py, delivered.py); which line time bills is lines.py's;
moving entries when their ticket, task or project changes is relinks.py's. Lock order, everywhere
(sales.services): the links lock, then a sales order, then its lines (primary-key order), then
time entries. Taking them in one order is what keeps an agent saving time and an accountant
clicking "Create Invoice" on the same line from deadlocking.
"""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.models import AuditEvent
from audit.services import audit_record, field_changes
from core.db import one
from core.errors import Conflict
from projects.models import Project, Task
from sales.models import SaleOrderLine, WorkType
from sales.services import links_lock, sale_line_check_billable, sale_lines_lock
from tickets.models import Ticket

from .durations import check_minutes
from .lines import approval_needed, billable_minutes, counted, sale_line_for
from .locks import lock_check, lock_of, with_lock_date
from .models import TimeEntry, Timer

# In English, as the tests and the interfaces compare them; raised translated: Conflict(_(INVOICED_MESSAGE)).
INVOICED_MESSAGE = gettext_noop("You cannot modify timesheets that are already invoiced.")
GONE_MESSAGE = gettext_noop("This timesheet was deleted meanwhile.")
APPROVED_MESSAGE = gettext_noop("This timesheet is approved: only a manager may change it.")
_UNSET = object()


def _context(*, ticket: Ticket | None, task: Task | None,
             tickets: QuerySet[Ticket] | None = None) -> tuple[Ticket | None, Task | None, Project]:
    """Return (ticket, task, project) for time logged on a ticket and/or task: an entry carries both.

    Read from the database, under the links lock: a ticket or task the caller loaded a moment
    ago may have changed line since. The ticket among `tickets` when given (else Ticket.DoesNotExist),
    with everything logging asks of it, and the lock date, in one query.
    """
    if ticket is None and task is None:
        raise ValidationError(_("Log time on a ticket or on a task."))
    if ticket is not None:
        tickets = Ticket.objects.all() if tickets is None else tickets
        ticket = one(with_lock_date(tickets.select_related(None).select_related(
            "team__project", "team__default_work_type", "task__project", "customer")).filter(pk=ticket.pk))
        if ticket is None:
            raise Ticket.DoesNotExist("No such ticket, or not one of the caller's.")
        if not ticket.team.timesheet_on_ticket:
            raise ValidationError({"ticket": _("Timesheet on Ticket is off for the team {team}: time cannot be logged "
                                               "on its tickets.").format(team=ticket.team)})
        if task is not None and ticket.task_id != task.pk:
            raise ValidationError({"task": _("{task} is not the task linked to ticket {ticket}.").format(
                task=task, ticket=ticket)})
        task = ticket.task
    else:
        task = Task.objects.select_related("project").get(pk=task.pk)
        ticket = with_lock_date(Ticket.objects.filter(task=task).select_related("team")).first()
    project = task.project if task is not None else ticket.team.project
    return ticket, task, project


def _customer(ticket: Ticket | None, task: Task | None):
    return ticket.customer if ticket is not None else task.billing_customer


def _check_work_type(work_type, sale_line) -> None:
    if work_type is not None and not isinstance(work_type, WorkType):
        raise ValidationError({"work_type": _("Choose a work type from the list.")})
    if work_type is not None and not work_type.bills_a_line and sale_line not in (None, _UNSET):
        raise ValidationError({"sale_line": _("{work_type} is non-billable: its time bills no Sales Order Item.")
                               .format(work_type=work_type)})


def _line(*, ticket, task, project, sale_line, user, work_type,
          locking_read=False) -> tuple[SaleOrderLine | None, bool]:
    """Lock the line the entry will bill and return (line, set by hand); refuse a line it may not bill.

    Checked on the locked row, so an order cancelled a moment ago is seen as cancelled. `locking_read`
    (when the caller holds no line's lock yet) locks the default line as it is chosen, in the same query.
    """
    manual = sale_line is not None
    if manual:
        [line] = sale_lines_lock(ids=[sale_line.pk])
    else:
        line = sale_line_for(ticket=ticket, task=task, project=project, user_id=user.pk, work_type=work_type,
                             lock=locking_read)
        if line is None:
            return None, manual
        if not locking_read:
            [line] = sale_lines_lock(ids=[line.pk])
    try:
        sale_line_check_billable(line=line, customer=_customer(ticket, task))
    except ValidationError as e:
        raise ValidationError({"sale_line": e.messages}) from e
    return line, manual


def _check_date(date) -> None:
    if not isinstance(date, datetime.date):
        raise ValidationError({"date": _("Enter a valid date.")})
    if date > timezone.localdate():
        raise ValidationError({"date": _("Time cannot be logged in the future.")})


def _check_minutes(minutes) -> None:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValidationError({"minutes": _("Enter the duration as whole minutes.")})
    try:
        check_minutes(minutes)
    except ValidationError as e:
        raise ValidationError({"minutes": e.messages}) from e


def _check_description(description) -> None:
    limit = TimeEntry._meta.get_field("description").max_length
    if not isinstance(description, str):
        raise ValidationError({"description": _("Enter the description as text.")})
    if len(description) > limit:
        raise ValidationError({"description": _("Keep the description under {limit} characters.").format(
            limit=limit)})


def _audited(entry: TimeEntry) -> dict:
    """Return what the audit log keeps of an entry."""
    return {"user": entry.user_id, "date": entry.date, "minutes": entry.minutes,
            "billable_minutes": entry.billable_minutes, "description": entry.description,
            "ticket": entry.ticket_id, "task": entry.task_id, "sale_line": entry.sale_line_id,
            "work_type": entry.work_type_id, "approval": entry.approval}


def entry_billable(entry: TimeEntry) -> int:
    """Return the minutes the entry bills now: rounded on its line, if it counts (lines.counted)."""
    counts = counted(approval=entry.approval, written_off=entry.written_off, held=entry.held,
                     needs_approval=approval_needed(ticket=entry.ticket, project=entry.project))
    return billable_minutes(entry.minutes, entry.sale_line, counts=counts, work_type=entry.work_type)


# --- Logging time -----------------------------------------------------------

@transaction.atomic
def timesheet_log(*, user, date: datetime.date, minutes: int, description: str = "",
                  ticket: Ticket | None = None, task: Task | None = None,
                  sale_line: SaleOrderLine | None = None, work_type: WorkType | None = None,
                  actor=None, tickets: QuerySet[Ticket] | None = None) -> TimeEntry:
    """Log time on a ticket or a task; giving `sale_line` sets the line by hand, `work_type` another
    work type than the team's default.

    `actor` is who logged it (a manager may log an agent's time), for the audit log. `tickets`, those the
    caller may log on (its visibility selector): the ticket is read among them, and another one is
    Ticket.DoesNotExist, as if there were none; `ticket` may then be a reference by id (Ticket(pk=…)).

    Six queries on PostgreSQL, logging on a ticket (tests/perf/test_log_queries.py names them).
    """
    _check_date(date)
    _check_minutes(minutes)
    _check_description(description)
    _check_work_type(work_type, sale_line)
    links_lock(exclusive=False)
    ticket, task, project = _context(ticket=ticket, task=task, tickets=tickets)
    default = ticket.team.default_work_type if ticket is not None else None  # read with the ticket, under the lock
    if work_type is not None:
        work_type = default if default is not None and work_type.pk == default.pk else _current(work_type)
    else:
        work_type = default
    _check_work_type(work_type, sale_line)
    lock_check(dates=[date], ticket=ticket, project=project, actor=actor,
               lock=lock_of(ticket) if ticket is not None else None)
    line, manual = _line(ticket=ticket, task=task, project=project, sale_line=sale_line, user=user,
                         work_type=work_type, locking_read=True)
    entry = TimeEntry(date=date, user=user, description=description, minutes=minutes, project=project, task=task,
                      ticket=ticket, sale_line=line, sale_line_manual=manual, work_type=work_type)
    entry.billable_minutes = entry_billable(entry)  # new: to approve, so nothing on an "approved only" team
    entry.lines_locked = {line.pk} if line is not None else set()  # this save's receiver need not lock it again
    entry.save()  # the post_save receiver recomputes the line's Delivered
    audit_record(action=AuditEvent.Action.ENTRY_CREATED, obj=entry, actor=actor, changes=_audited(entry))
    return entry


def _lock_entry(entry: TimeEntry, *, also_lines: Iterable[int | None] = (), actor=_UNSET) -> TimeEntry:
    """Lock the entry's lines, then the entry; refuse it when it is invoiced, or deleted meanwhile, and,
    given who changes it (`actor`), when it is approved or locked and they are not a manager."""
    entries = TimeEntry.objects.filter(pk=entry.pk)
    while True:
        current = entries.values_list("sale_line_id", flat=True).first()
        sale_lines_lock(ids=[current, *also_lines])
        locked = (entries.select_for_update(of=("self",))
                  .select_related("ticket__team", "task__project", "project", "work_type", "user").first())
        if locked is None:
            raise Conflict(_(GONE_MESSAGE))
        if locked.sale_line_id == current:
            break  # nobody moved it between the two reads; otherwise lock the new line too
    if locked.is_invoiced:
        raise Conflict(_(INVOICED_MESSAGE))
    if actor is not _UNSET:
        if locked.is_approved and actor is not None and not actor.has_perm("timesheets.change_approved_time"):
            raise Conflict(_(APPROVED_MESSAGE))
        lock_check(dates=[locked.date], ticket=locked.ticket, project=locked.project, actor=actor)
    return locked


def _default_line(entry: TimeEntry, work_type) -> SaleOrderLine | None:
    return sale_line_for(ticket=entry.ticket, task=entry.task, project=entry.project, user_id=entry.user_id,
                         work_type=work_type)


def _lines_to(entry: TimeEntry, sale_line, work_type) -> list[int]:
    """Return the line an edit moves the entry to, so it is locked with its current one, in order."""
    if sale_line is _UNSET and work_type is _UNSET:
        return []
    if sale_line is _UNSET or sale_line is None:  # the default line, for the work type it will have
        stored = (TimeEntry.objects.select_related("ticket__team", "task", "project", "work_type")
                  .filter(pk=entry.pk).first())
        if stored is None:
            raise Conflict(_(GONE_MESSAGE))
        if sale_line is _UNSET and stored.sale_line_manual:
            return []
        sale_line = _default_line(stored, stored.work_type if work_type is _UNSET else work_type)
    return [sale_line.pk] if sale_line is not None else []


def _current(work_type: WorkType | None) -> WorkType | None:
    """The work type as stored, read under the links lock: the caller's copy may predate a switch of its
    billing, which holds that lock alone (found by the service fuzz)."""
    if work_type is None:
        return None
    current = WorkType.objects.filter(pk=work_type.pk).first()
    if current is None:
        name = work_type.name or f"#{work_type.pk}"  # a reference by id (the Log time form's) has no name
        raise ValidationError({"work_type": _("The work type {name} was deleted meanwhile: choose another.").format(
            name=name)})
    return current


def _relined(entry: TimeEntry, sale_line, work_type) -> None:
    """Set the entry's work type and, when it decides it, its line (Rules 4, 13)."""
    if work_type is not _UNSET:
        work_type = _current(work_type)
        _check_work_type(work_type, sale_line)
        entry.work_type = work_type
        if work_type is not None and not work_type.bills_a_line:
            sale_line = None  # it bills nothing, by hand or not
    if sale_line is not _UNSET or (work_type is not _UNSET and not entry.sale_line_manual):
        line, manual = _line(ticket=entry.ticket, task=entry.task, project=entry.project, user=entry.user,
                             sale_line=None if sale_line is _UNSET else sale_line, work_type=entry.work_type)
        entry.sale_line, entry.sale_line_manual = line, manual


@transaction.atomic
def timesheet_update(*, entry: TimeEntry, date=_UNSET, minutes=_UNSET, description=_UNSET,
                     sale_line=_UNSET, work_type=_UNSET, actor=None) -> TimeEntry:
    """Edit an unbilled entry. `sale_line` sets its line by hand; None returns it to the default.
    `work_type` changes what it bills (a non-billable one bills no line).

    An approved entry is a manager's to change, and stays approved; a rejected one goes back to
    "to approve" when changed. Locked dates (locks.py) are refused, before and after the change.
    """
    if work_type is not _UNSET:
        _check_work_type(work_type, sale_line)
    links_lock(exclusive=False)
    entry = _lock_entry(entry, also_lines=_lines_to(entry, sale_line, work_type), actor=actor)
    before = _audited(entry)
    if date is not _UNSET:
        _check_date(date)
        lock_check(dates=[date], ticket=entry.ticket, project=entry.project, actor=actor)
        entry.date = date
    if minutes is not _UNSET:
        _check_minutes(minutes)
        entry.minutes = minutes
    if description is not _UNSET:
        _check_description(description)
        entry.description = description
    _relined(entry, sale_line, work_type)
    if entry.approval == TimeEntry.Approval.REJECTED and field_changes(before, _audited(entry)):
        entry.approval, entry.approval_note = TimeEntry.Approval.TO_APPROVE, ""  # back to the manager
    entry.billable_minutes = entry_billable(entry)
    entry.save()
    if changes := field_changes(before, _audited(entry)):
        audit_record(action=AuditEvent.Action.ENTRY_EDITED, obj=entry, actor=actor, changes=changes)
    return entry


@transaction.atomic
def timesheet_delete(*, entry: TimeEntry, actor=None) -> None:
    """Delete an unbilled entry; its line's Delivered drops with it."""
    entry = _lock_entry(entry, actor=actor)
    audit_record(action=AuditEvent.Action.ENTRY_DELETED, obj=entry, actor=actor, changes=_audited(entry))
    entry.delete()


# --- The timer on a ticket ----------------------------------------------------

NO_TIMER_MESSAGE = gettext_noop("No timer is running on this ticket: start one first.")


@transaction.atomic
def timer_start(*, user, ticket: Ticket) -> Timer:
    """Start the user's timer on the ticket; a timer already running keeps its start.

    Kept on the server, so closing the tab or changing computer does not lose it.
    """
    _context(ticket=ticket, task=None)  # refuses a team without Timesheet on Ticket
    # get_or_create retries the read when a concurrent Start wins the unique constraint.
    timer, _created = Timer.objects.get_or_create(user=user, ticket=ticket, defaults={"started_at": timezone.now()})
    return timer


@transaction.atomic
def timer_stop(*, user, ticket: Ticket) -> int:
    """Stop the user's timer on the ticket; return the minutes elapsed, rounded up to the minute.

    Nothing is logged: the agent checks the duration, writes a description and saves the entry.
    """
    # Locked so two Stops at once cannot both read the timer: the second finds none.
    timer = Timer.objects.select_for_update().filter(user=user, ticket=ticket).first()
    if timer is None:
        raise Conflict(_(NO_TIMER_MESSAGE))
    elapsed = timezone.now() - timer.started_at
    microseconds = max(elapsed // datetime.timedelta(microseconds=1), 1)
    timer.delete()
    return -(-microseconds // 60_000_000)
