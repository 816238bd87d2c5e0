"""My Timesheets: an agent's week as a grid, rows the tickets and tasks worked on, columns the days.

A cell is the agent's time on one ticket (or task) on one day. Typing in it logs, changes or removes
that day's entry through the timesheets services, so every rule of logging holds (Rules 3, 12, the
invoiced and approved refusals) and Delivered follows. A cell the viewer may not change says why:
several entries (each has its own description, changed on the ticket), invoiced, approved, locked,
in the future, or on a ticket whose team logs no time.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import l10n
from core.errors import Conflict
from projects.models import Task
from tickets.models import Ticket

from .durations import parse_duration
from .locks import locked_until
from .models import LockDate, TimeEntry
from .services import timesheet_delete, timesheet_log, timesheet_update

DAYS = 7
# The weeks a grid shows: far enough either way for any real timesheet, and short of the calendar's ends
# (date.max), past which the next week's Monday is no date.
FIRST_DAY, LAST_DAY = datetime.date(1900, 1, 1), datetime.date(9998, 12, 31)


class NoSuchRow(Exception):
    """The week has no row of that name, or its ticket went out of the user's sight since the grid was read."""


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of `day`'s week (ISO weeks)."""
    return day - datetime.timedelta(days=day.weekday())


def week_days(start: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range(DAYS)]


@dataclass
class Cell:
    date: datetime.date
    minutes: int = 0
    entries: list[int] = field(default_factory=list)
    reason: str = ""  # why the viewer may not change it; empty when they may

    @property
    def editable(self) -> bool:
        return not self.reason


@dataclass
class Row:
    ticket: Ticket | None
    task: Task | None
    cells: list[Cell]
    reason: str = ""  # why no time can be logged on this row at all

    @property
    def key(self) -> str:
        """"ticket-12" or "task-7": how the screens and the API name a row."""
        return f"ticket-{self.ticket.pk}" if self.ticket is not None else f"task-{self.task.pk}"

    @property
    def total(self) -> int:
        return sum(cell.minutes for cell in self.cells)


@dataclass
class Week:
    agent: object
    start: datetime.date
    rows: list[Row]

    @property
    def days(self) -> list[datetime.date]:
        return week_days(self.start)

    @property
    def day_totals(self) -> list[int]:
        return [sum(row.cells[n].minutes for row in self.rows) for n in range(DAYS)]

    @property
    def total(self) -> int:
        return sum(row.total for row in self.rows)

    @property
    def previous(self) -> datetime.date:
        return self.start - datetime.timedelta(days=DAYS)

    @property
    def next(self) -> datetime.date:
        return self.start + datetime.timedelta(days=DAYS)

    def row(self, key: str) -> Row | None:
        """The row named `key` ("ticket-12"), or None."""
        return next((row for row in self.rows if row.key == key), None)


def _row_key(entry: TimeEntry) -> tuple[str, int]:
    return ("ticket", entry.ticket_id) if entry.ticket_id else ("task", entry.task_id)


def _entry_reason(entry: TimeEntry, viewer) -> str:
    if entry.is_invoiced:
        invoice = entry.invoice_line.invoice
        return _("Invoiced on {invoice}: invoiced time cannot be changed.").format(invoice=invoice)
    if entry.is_approved and not viewer.has_perm("timesheets.change_approved_time"):
        return _("Approved: only a manager may change it.")
    if not viewer.has_perm("timesheets.change_timeentry", entry):
        return _("You may not change this timesheet.")
    return ""


class _Locks:
    """The last locked date of each row, and the agents' grace window, read once for the week."""

    def __init__(self, viewer):
        self.exempt = viewer.has_perm("timesheets.change_locked_time")
        self.lock = LockDate.current()
        grace = self.lock.agent_grace_days
        self.earliest = None if grace is None else timezone.localdate() - datetime.timedelta(days=grace)
        self.projects: dict[int, datetime.date | None] = {}  # a task's project: its teams' lock, one read each

    def until(self, ticket: Ticket | None, task: Task | None) -> datetime.date | None:
        if self.exempt:
            return None
        if ticket is not None:  # the ticket's team's lock date is read with it
            return locked_until(ticket=ticket, project=ticket.team.project, lock=self.lock)
        if task.project_id not in self.projects:
            self.projects[task.project_id] = locked_until(ticket=None, project=task.project, lock=self.lock)
        return self.projects[task.project_id]

    def reason(self, day: datetime.date, until: datetime.date | None) -> str:
        if self.exempt:
            return ""
        if until is not None and day <= until:
            return _("Locked: timesheets up to {date} are locked.").format(date=l10n.day(until))
        if self.earliest is not None and day < self.earliest:
            days = self.lock.agent_grace_days
            return ngettext("Locked: agents may log time up to {days} day back (from {date}). Ask a manager.",
                            "Locked: agents may log time up to {days} days back (from {date}). Ask a manager.",
                            days).format(days=days, date=l10n.day(self.earliest))
        return ""


def _row_reason(ticket: Ticket | None, viewer, agent, loggable: set[int]) -> str:
    if not viewer.has_perm("timesheets.log_time_for", agent):
        return _("You may see {agent}'s week, not change it.").format(agent=agent)
    if ticket is None:
        return ""
    if not ticket.team.timesheet_on_ticket:
        return _("Timesheet on Ticket is off for the team {team}.").format(team=ticket.team)
    if ticket.pk not in loggable:
        return _("You no longer see this ticket: ask a manager to change its time.")
    return ""


def _cell(day, entries: list[TimeEntry], row: Row, viewer, locks: _Locks, until, today) -> Cell:
    cell = Cell(date=day, minutes=sum(e.minutes for e in entries), entries=[e.pk for e in entries])
    if len(entries) > 1:
        cell.reason = ngettext("{count} timesheet on this day: change it on the ticket.",
                               "{count} timesheets on this day: change them one by one on the ticket.",
                               len(entries)).format(count=len(entries))
    elif entries:
        cell.reason = _entry_reason(entries[0], viewer)
    if not cell.reason:
        cell.reason = (locks.reason(day, until) or row.reason
                       or (_("Time cannot be logged in the future.") if day > today else ""))
    return cell


def week_grid(*, agent, start: datetime.date, viewer, entries: QuerySet[TimeEntry], tickets: QuerySet[Ticket],
              add: list[int] = ()) -> Week:
    """Return `agent`'s week from Monday `start`, as `viewer` sees it.

    `entries` are those the viewer may see (time_entries_for), `tickets` those they may log on
    (tickets_for); `add`, ids of tickets to show as rows even without time this week (the row the agent
    searched for), kept when the viewer may see them. Four queries whatever the rows.
    """
    start = week_start(start)
    days = week_days(start)
    week_entries = list(entries.filter(user=agent, date__range=(days[0], days[-1])).select_related(
        None).select_related("ticket__team__project", "task__project", "invoice_line__invoice").order_by("pk"))
    by_row: dict[tuple[str, int], list[TimeEntry]] = {}
    for entry in week_entries:
        by_row.setdefault(_row_key(entry), []).append(entry)
    objects = {key: (entry.ticket, entry.task) for key, [entry, *_] in by_row.items()}
    wanted = [pk for pk in add if ("ticket", pk) not in objects]
    loggable = set(tickets.filter(pk__in=[pk for kind, pk in objects if kind == "ticket"] + wanted)
                   .values_list("pk", flat=True))
    for ticket in Ticket.objects.select_related("team__project", "task__project").filter(pk__in=loggable & set(wanted)):
        objects[("ticket", ticket.pk)] = (ticket, ticket.task)
    locks, today = _Locks(viewer), timezone.localdate()
    rows = []
    for key in sorted(objects, key=lambda k: (k[0] != "ticket", -k[1])):
        ticket, task = objects[key]
        row = Row(ticket=ticket, task=task, cells=[])
        row.reason = _row_reason(ticket, viewer, agent, loggable)
        entries_of_row, until = by_row.get(key, []), locks.until(ticket, task)
        row.cells = [_cell(day, [e for e in entries_of_row if e.date == day], row, viewer, locks, until, today)
                     for day in days]
        rows.append(row)
    return Week(agent=agent, start=start, rows=rows)


def check_day(day: datetime.date) -> datetime.date:
    """Return `day` when a grid may show its week; ValidationError otherwise."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(_("Choose a day from {first} to {last}.").format(
            first=l10n.day(FIRST_DAY), last=l10n.day(LAST_DAY)))
    return day


def typed_minutes(text) -> int:
    """The minutes typed in a cell: 1:30, 1.5, 1h30, 90m; empty or zero (0, 0:00) is none, which removes the
    day's time. Anything else is refused with parse_duration's message (negative, over 24 hours, not a
    duration)."""
    text = str(text or "").strip()
    if not text:
        return 0
    try:
        return parse_duration(text)
    except ValidationError as error:
        if error.code == "min_value" and not text.startswith("-"):  # zero, as typed: the day's time removed
            return 0
        raise


def parse_row(key: str) -> tuple[str, int]:
    """("ticket", 12) from "ticket-12"; ValidationError for anything else."""
    kind, _dash, number = str(key).partition("-")
    if kind not in ("ticket", "task") or not number.isascii() or not number.isdigit() or len(number) > 18:
        raise ValidationError({"row": _("Name a row as ticket-<id> or task-<id>.")})
    return kind, int(number)


@transaction.atomic
def week_cell_set(*, agent, day: datetime.date, minutes: int | None, ticket: Ticket | None = None,
                  task: Task | None = None, actor, tickets: QuerySet[Ticket]) -> TimeEntry | None:
    """Make `agent`'s time on the ticket (else the task) on `day` be `minutes`: log a new entry, change the
    day's one entry, or delete it for 0 or None. Return the entry, None once removed.

    A day holding several entries is refused: each has its own description, and which to change is the
    agent's choice, on the ticket. Who may change `agent`'s time is the interfaces' question
    (timesheets.log_time_for); the services refuse invoiced, approved and locked time with their message.
    """
    if (ticket is None) == (task is None):
        raise ValidationError({"row": _("Choose a ticket or a task.")})
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int)):
        raise ValidationError({"minutes": _("Enter the duration as whole minutes.")})
    found = TimeEntry.objects.filter(user=agent, date=day)
    found = found.filter(ticket=ticket) if ticket is not None else found.filter(task=task, ticket=None)
    # Not locked here: the services lock the entry after its line (the lock order, services.py).
    current = list(found.order_by("pk")[:2])
    if len(current) > 1:
        raise Conflict(_("Several timesheets on {date}: change them one by one on the ticket.").format(
            date=l10n.day(day)))
    if not current:
        if not minutes:
            return None
        return timesheet_log(user=agent, date=day, minutes=minutes, ticket=ticket, task=task, actor=actor,
                             tickets=tickets)
    [entry] = current
    if not minutes:
        timesheet_delete(entry=entry, actor=actor)
        return None
    if entry.minutes == minutes:
        return entry
    return timesheet_update(entry=entry, minutes=minutes, actor=actor)


def week_cell_put(*, week: Week, key: str, day: datetime.date, minutes: int, actor,
                  tickets: QuerySet[Ticket]) -> TimeEntry | None:
    """Set the cell of `week`'s row `key` on `day` as its grid shows it: a cell shown read-only is refused
    (Conflict) with the reason the grid gives, before the services' own refusals; NoSuchRow for a row the week
    does not hold. 0 removes the day's time (week_cell_set)."""
    row = week.row(key)
    if row is None:
        raise NoSuchRow(key)
    if not week.start <= day < week.next:
        raise Conflict(_("{day} is not a day of the week of {monday}.").format(
            day=l10n.day(day), monday=l10n.day(week.start)))
    if reason := row.cells[(day - week.start).days].reason:
        raise Conflict(reason)
    try:
        return week_cell_set(agent=week.agent, day=day, minutes=minutes or None, ticket=row.ticket,
                             task=None if row.ticket is not None else row.task, actor=actor, tickets=tickets)
    except Ticket.DoesNotExist:
        raise NoSuchRow(key) from None
