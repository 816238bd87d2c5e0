"""Writes of the timesheets app: logging time, and keeping Delivered true.

Lock order, everywhere: the links lock (`links_lock`), then a sales order, then its
lines (primary-key order), then time entries. Taking them in one order is what keeps
an agent saving time and an accountant clicking "Create Invoice" on the same line
from deadlocking.
"""

import datetime
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Sum, Value
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record, field_changes
from projects.models import Project, Task
from core.errors import Conflict
from sales.models import SaleOrderLine
from sales.services import links_lock, sale_line_check_billable, sale_lines_lock, sale_lines_set_totals
from tickets.models import HelpdeskTeam, Ticket

from .durations import check_minutes
from .models import DeliveredCheckpoint, TimeEntry, Timer

INVOICED_MESSAGE = "You cannot modify timesheets that are already invoiced."
GONE_MESSAGE = "This timesheet was deleted meanwhile."
_UNSET = object()


# --- Delivered -------------------------------------------------------------

def _sum_entries(line_ids) -> dict[int, dict[str, int]]:
    """Return {line id: its totals}, summed over all the lines' entries."""
    totals = {pk: {"delivered_minutes": 0, "invoiced_minutes": 0} for pk in line_ids}
    sums = (
        TimeEntry.objects.filter(sale_line_id__in=totals)
        .values("sale_line_id")
        .annotate(
            delivered=Sum("billable_minutes"),
            invoiced=Sum("billable_minutes", filter=Q(invoice_line__isnull=False)),
        )
        .order_by()
    )
    for row in sums:
        totals[row["sale_line_id"]] = {"delivered_minutes": row["delivered"], "invoiced_minutes": row["invoiced"] or 0}
    return totals


@transaction.atomic
def sale_lines_recompute(*, line_ids: Iterable[int | None]) -> None:
    """Recompute Delivered and invoiced minutes of these lines from all their entries.

    Locks first, then sums: the sum then sees every entry committed before the
    lock was granted, so concurrent loggers cannot lose each other's time the
    way a `delivered += minutes` would (DESIGN Rule 5).
    """
    lines = sale_lines_lock(ids=line_ids)
    if not lines:
        return
    totals = _sum_entries(line.pk for line in lines)
    # The set-based writes that call this may have changed entries a checkpoint sums.
    DeliveredCheckpoint.objects.filter(sale_line_id__in=totals).delete()
    sale_lines_set_totals(totals=totals)


# Entries left after a line's checkpoint: saving one of a line's newest entries stays cheap.
CHECKPOINT_KEEP = 250

# One statement for one line, given %(line)s, the saved or deleted %(entry)s and %(keep)s:
# the checkpoint's sums (unless it sums the entry itself: then from zero) plus the entries
# after it; once more than 2 × keep entries follow it, the checkpoint moves up to leave `keep`.
_SUM_AFTER_CHECKPOINT = """
WITH stored AS (
    SELECT last_entry_id, delivered_minutes, invoiced_minutes, last_entry_id < %(entry)s AS valid
    FROM timesheets_deliveredcheckpoint WHERE sale_line_id = %(line)s
), base AS (
    SELECT COALESCE(MAX(last_entry_id) FILTER (WHERE valid), 0) AS after,
           COALESCE(MAX(delivered_minutes) FILTER (WHERE valid), 0) AS delivered,
           COALESCE(MAX(invoiced_minutes) FILTER (WHERE valid), 0) AS invoiced,
           COALESCE(bool_or(NOT valid), false) AS stale
    FROM stored
), tail AS (
    SELECT e.id, e.billable_minutes, e.invoice_line_id IS NOT NULL AS invoiced
    FROM timesheets_timeentry e, base WHERE e.sale_line_id = %(line)s AND e.id > base.after
), cut AS (
    SELECT COALESCE((SELECT id FROM tail ORDER BY id DESC OFFSET %(keep)s LIMIT 1), 0) AS upto
), totals AS (
    SELECT b.stale, c.upto, COUNT(t.id) AS n,
           b.delivered + COALESCE(SUM(t.billable_minutes), 0) AS delivered,
           b.invoiced + COALESCE(SUM(t.billable_minutes) FILTER (WHERE t.invoiced), 0) AS invoiced,
           b.delivered + COALESCE(SUM(t.billable_minutes) FILTER (WHERE t.id <= c.upto), 0) AS upto_delivered,
           b.invoiced + COALESCE(SUM(t.billable_minutes) FILTER (WHERE t.id <= c.upto AND t.invoiced), 0)
               AS upto_invoiced
    FROM base b CROSS JOIN cut c LEFT JOIN tail t ON true
    GROUP BY b.stale, c.upto, b.delivered, b.invoiced
), moved AS (
    INSERT INTO timesheets_deliveredcheckpoint (sale_line_id, last_entry_id, delivered_minutes, invoiced_minutes)
    SELECT %(line)s, upto, upto_delivered, upto_invoiced FROM totals WHERE stale OR n > 2 * %(keep)s
    ON CONFLICT (sale_line_id) DO UPDATE SET last_entry_id = EXCLUDED.last_entry_id,
        delivered_minutes = EXCLUDED.delivered_minutes, invoiced_minutes = EXCLUDED.invoiced_minutes
)
SELECT delivered, invoiced FROM totals
"""


@transaction.atomic
def sale_lines_recompute_after_save(*, entry_id: int, line_ids: Iterable[int | None]) -> None:
    """Recompute Delivered and invoiced minutes of these lines after one entry was saved or deleted.

    The same exact sums as `sale_lines_recompute`, under the same lock, in as many
    queries; but on PostgreSQL each line re-sums only its entries after its checkpoint
    (`DeliveredCheckpoint`), so logging time costs the same on a line of 10 entries
    and on one of 100,000. The checkpoint is itself a sum of entries, taken under this
    lock; an entry it sums that is saved or deleted makes this one sum from zero.
    """
    lines = sale_lines_lock(ids=line_ids)
    if not lines:
        return
    if connection.vendor != "postgresql":  # SQLite, the quick look: the whole line, every time
        sale_lines_set_totals(totals=_sum_entries(line.pk for line in lines))
        return
    totals = {}
    with connection.cursor() as cursor:
        for line in lines:
            cursor.execute(_SUM_AFTER_CHECKPOINT, {"line": line.pk, "entry": entry_id, "keep": CHECKPOINT_KEEP})
            delivered, invoiced = cursor.fetchone()
            totals[line.pk] = {"delivered_minutes": delivered, "invoiced_minutes": invoiced}
    sale_lines_set_totals(totals=totals)


# --- Which line an entry bills (DESIGN Rule 4) ------------------------------

def _candidates(ticket: Ticket | None, task: Task | None, project: Project) -> list[int]:
    """Return the ids of the lines time on this ticket/task may bill, first choice first (Rule 4)."""
    ids = []
    if ticket is not None and ticket.team.time_reinvoicing:
        ids.append(ticket.sale_line_id)
    if task is not None:
        ids.append(task.sale_line_id)
    if project.billable:
        ids.append(project.sale_line_id)
    return [pk for pk in ids if pk]


def _customer_id(ticket: Ticket | None, task: Task | None, project: Project) -> int | None:
    """Return whose time it is: the ticket's customer, else the task's (or its project's)."""
    if ticket is not None:
        return ticket.customer_id
    return task.customer_id or project.customer_id


def sale_lines_for(contexts: dict) -> dict:
    """Return {key: the line time bills by default, or None} for {key: (ticket, task, project)}, in one query.

    The first of the ticket's (when its team reinvoices), the task's and the project's Sales
    Order Item that sells to the time's customer: a task or project shared by several customers
    never bills one customer's time to another's order, however they are relinked.
    """
    wanted = {key: (_customer_id(*context), _candidates(*context)) for key, context in contexts.items()}
    ids = {pk for _, candidates in wanted.values() for pk in candidates}
    lines = SaleOrderLine.objects.select_related("order", "product").in_bulk(ids) if ids else {}
    return {key: next((lines[pk] for pk in candidates if lines[pk].order.customer_id == customer), None)
            for key, (customer, candidates) in wanted.items()}


def sale_line_for(*, ticket: Ticket | None, task: Task | None, project: Project) -> SaleOrderLine | None:
    """Return the line time on this ticket/task bills by default; None means non-billable."""
    return sale_lines_for({None: (ticket, task, project)})[None]


def billable_minutes(minutes: int, line: SaleOrderLine | None) -> int:
    """Round up to the line's billing increment; 0 for non-billable time."""
    if line is None:
        return 0
    step = line.product.billing_increment_minutes
    return -(-minutes // step) * step


def _billable_expression(line: SaleOrderLine | None):
    """The same rounding as `billable_minutes`, for a set-based UPDATE."""
    if line is None:
        return Value(0)
    step = line.product.billing_increment_minutes
    if step == 1:
        return F("minutes")
    return (F("minutes") + (step - 1)) / step * step


def _context(*, ticket: Ticket | None, task: Task | None) -> tuple[Ticket | None, Task | None, Project]:
    """Return (ticket, task, project) for time logged on a ticket and/or task: an entry carries both.

    Read from the database, under the links lock: a ticket or task the caller loaded a moment
    ago may have changed line since.
    """
    if ticket is None and task is None:
        raise ValidationError("Log time on a ticket or on a task.")
    if ticket is not None:
        ticket = Ticket.objects.select_related("team__project", "task__project", "customer").get(pk=ticket.pk)
        if not ticket.team.timesheet_on_ticket:
            raise ValidationError(
                {"ticket": f"Timesheet on Ticket is off for the team {ticket.team}: time cannot be logged on its tickets."}
            )
        if task is not None and ticket.task_id != task.pk:
            raise ValidationError({"task": f"{task} is not the task linked to ticket {ticket}."})
        task = ticket.task
    else:
        task = Task.objects.select_related("project").get(pk=task.pk)
        ticket = Ticket.objects.filter(task=task).select_related("team").first()
    project = task.project if task is not None else ticket.team.project
    return ticket, task, project


def _customer(ticket: Ticket | None, task: Task | None):
    return ticket.customer if ticket is not None else task.billing_customer


def _line(*, ticket, task, project, sale_line) -> tuple[SaleOrderLine | None, bool]:
    """Lock the line the entry will bill and return (line, set by hand); refuse a line it may not bill.

    Checked on the locked row, so an order cancelled a moment ago is seen as cancelled.
    """
    manual = sale_line is not None
    line = sale_line if manual else sale_line_for(ticket=ticket, task=task, project=project)
    if line is None:
        return None, manual
    [line] = sale_lines_lock(ids=[line.pk])
    try:
        sale_line_check_billable(line=line, customer=_customer(ticket, task))
    except ValidationError as e:
        raise ValidationError({"sale_line": e.messages}) from e
    return line, manual


def _check_date(date) -> None:
    if not isinstance(date, datetime.date):
        raise ValidationError({"date": "Enter a valid date."})
    if date > timezone.localdate():
        raise ValidationError({"date": "Time cannot be logged in the future."})


def _check_minutes(minutes) -> None:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValidationError({"minutes": "Enter the duration as whole minutes."})
    try:
        check_minutes(minutes)
    except ValidationError as e:
        raise ValidationError({"minutes": e.messages}) from e


def _check_description(description) -> None:
    limit = TimeEntry._meta.get_field("description").max_length
    if not isinstance(description, str):
        raise ValidationError({"description": "Enter the description as text."})
    if len(description) > limit:
        raise ValidationError({"description": f"Keep the description under {limit} characters."})


def _audited(entry: TimeEntry) -> dict:
    """Return what the audit log keeps of an entry."""
    return {"user": entry.user_id, "date": entry.date, "minutes": entry.minutes,
            "billable_minutes": entry.billable_minutes, "description": entry.description,
            "ticket": entry.ticket_id, "task": entry.task_id, "sale_line": entry.sale_line_id}


# --- Logging time -----------------------------------------------------------

@transaction.atomic
def timesheet_log(*, user, date: datetime.date, minutes: int, description: str = "",
                  ticket: Ticket | None = None, task: Task | None = None,
                  sale_line: SaleOrderLine | None = None, actor=None) -> TimeEntry:
    """Log time on a ticket or a task; giving `sale_line` sets the line by hand.

    `actor` is who logged it (a manager may log an agent's time), for the audit log.
    """
    _check_date(date)
    _check_minutes(minutes)
    _check_description(description)
    links_lock(exclusive=False)
    ticket, task, project = _context(ticket=ticket, task=task)
    line, manual = _line(ticket=ticket, task=task, project=project, sale_line=sale_line)
    entry = TimeEntry(
        date=date, user=user, description=description, minutes=minutes,
        billable_minutes=billable_minutes(minutes, line), project=project, task=task, ticket=ticket,
        sale_line=line, sale_line_manual=manual,
    )
    entry.save()  # the post_save receiver recomputes the line's Delivered
    audit_record(action=AuditEvent.Action.ENTRY_CREATED, obj=entry, actor=actor, changes=_audited(entry))
    return entry


def _lock_entry(entry: TimeEntry, *, also_lines: Iterable[int | None] = ()) -> TimeEntry:
    """Lock the entry's lines, then the entry; refuse it when it is invoiced, or deleted meanwhile."""
    entries = TimeEntry.objects.filter(pk=entry.pk)
    while True:
        current = entries.values_list("sale_line_id", flat=True).first()
        sale_lines_lock(ids=[current, *also_lines])
        locked = (entries.select_for_update(of=("self",)).select_related("ticket__team", "task__project", "project")
                  .first())
        if locked is None:
            raise Conflict(GONE_MESSAGE)
        if locked.sale_line_id == current:
            break  # nobody moved it between the two reads; otherwise lock the new line too
    if locked.is_invoiced:
        raise Conflict(INVOICED_MESSAGE)
    return locked


def _lines_to(entry: TimeEntry, sale_line) -> list[int]:
    """Return the line an edit moves the entry to, so it is locked with its current one, in order."""
    if sale_line is _UNSET:
        return []
    if sale_line is None:  # back to the default line
        stored = TimeEntry.objects.select_related("ticket__team", "task", "project").filter(pk=entry.pk).first()
        if stored is None:
            raise Conflict(GONE_MESSAGE)
        sale_line = sale_line_for(ticket=stored.ticket, task=stored.task, project=stored.project)
    return [sale_line.pk] if sale_line is not None else []


@transaction.atomic
def timesheet_update(*, entry: TimeEntry, date=_UNSET, minutes=_UNSET, description=_UNSET,
                     sale_line=_UNSET, actor=None) -> TimeEntry:
    """Edit an unbilled entry. `sale_line` sets its line by hand; None returns it to the default."""
    links_lock(exclusive=False)
    entry = _lock_entry(entry, also_lines=_lines_to(entry, sale_line))
    before = _audited(entry)
    if date is not _UNSET:
        _check_date(date)
        entry.date = date
    if minutes is not _UNSET:
        _check_minutes(minutes)
        entry.minutes = minutes
    if description is not _UNSET:
        _check_description(description)
        entry.description = description
    if sale_line is not _UNSET:
        line, manual = _line(ticket=entry.ticket, task=entry.task, project=entry.project, sale_line=sale_line)
        entry.sale_line, entry.sale_line_manual = line, manual
    entry.billable_minutes = billable_minutes(entry.minutes, entry.sale_line)
    entry.save()
    if changes := field_changes(before, _audited(entry)):
        audit_record(action=AuditEvent.Action.ENTRY_EDITED, obj=entry, actor=actor, changes=changes)
    return entry


@transaction.atomic
def timesheet_delete(*, entry: TimeEntry, actor=None) -> None:
    """Delete an unbilled entry; its line's Delivered drops with it."""
    entry = _lock_entry(entry)
    audit_record(action=AuditEvent.Action.ENTRY_DELETED, obj=entry, actor=actor, changes=_audited(entry))
    entry.delete()


# --- Entries follow their ticket, task and Sales Order Item (Rules 2, 10) ---

def _unbilled(qs: QuerySet[TimeEntry]) -> QuerySet[TimeEntry]:
    return qs.filter(invoice_line__isnull=True)


class _MoreLines(Exception):
    """What a relink moves needs lines that are not locked yet."""

    def __init__(self, ids: set[int]):
        super().__init__(ids)
        self.ids = ids


def _lines_of(entries: QuerySet[TimeEntry]) -> set[int]:
    return set(entries.exclude(sale_line=None).values_list("sale_line_id", flat=True).distinct().order_by())


def _targets(movable: QuerySet[TimeEntry]) -> dict[tuple, SaleOrderLine | None]:
    """Return {(ticket id, task id, project id): the line} for the groups of `movable` entries."""
    groups = list(movable.values_list("ticket_id", "task_id", "project_id").distinct().order_by())
    tickets = Ticket.objects.select_related("team").in_bulk({g[0] for g in groups if g[0]})
    tasks = Task.objects.in_bulk({g[1] for g in groups if g[1]})
    projects = Project.objects.in_bulk({g[2] for g in groups})
    return sale_lines_for({g: (tickets.get(g[0]), tasks.get(g[1]), projects[g[2]]) for g in groups})


def _unpin_foreign(entries: QuerySet[TimeEntry]) -> None:
    """Free unbilled entries from a line set by hand that sells to another customer than theirs now.

    An entry's customer is its ticket's, else its task's (or the project's): moving a ticket to
    another customer, or giving a task's entries a ticket, changes it, and a line chosen by hand
    for the old customer may not bill the new one's time (Rule 4). They go to their default line.
    """
    same_customer = (Q(ticket__isnull=False, sale_line__order__customer=F("ticket__customer"))
                     | Q(ticket__isnull=True, task__customer__isnull=False, sale_line__order__customer=F("task__customer"))
                     | Q(ticket__isnull=True, task__customer__isnull=True, sale_line__order__customer=F("project__customer")))
    _unbilled(entries).filter(sale_line_manual=True).exclude(same_customer).update(sale_line_manual=False)


@transaction.atomic
def timesheets_rebill(*, entries: QuerySet[TimeEntry], relink: Callable[[], None] | None = None,
                      pointed: Iterable[int | None] = ()) -> int:
    """Move unbilled, not hand-set entries of `entries` to the line their ticket/task/project now bills.

    Decided under the locks: with the links lock held alone, the lines every one of `entries`
    is on (the invoiced too, which a draft cancelled meanwhile would free onto theirs), the
    lines they go to, and the `pointed` lines (the Sales Order Item the changed ticket, task or
    project now has: PostgreSQL checks that foreign key at COMMIT by locking the line, which
    must not come last, after the others) are locked; then `relink` (set-based changes of the
    entries' task or project) runs, entries whose customer changed leave the lines set by hand
    for the old one (`_unpin_foreign`), and what moves where is read. When that needs a line not
    locked yet, everything since the locks is undone and done again with it, so lines are
    always locked in primary-key order. Set-based: one UPDATE per (ticket, task, project),
    then the lines are recomputed, since `update()` sends no signals.
    """
    links_lock(exclusive=True)
    movable = _unbilled(entries).filter(sale_line_manual=False)
    pointed = {pk for pk in pointed if pk}
    ids = pointed | _lines_of(entries) | {line.pk for line in _targets(movable).values() if line}  # a first guess
    while True:
        try:
            with transaction.atomic():  # a savepoint: undoing it also releases the locks taken in it
                sale_lines_lock(ids=ids)
                if relink is not None:
                    relink()
                _unpin_foreign(entries)
                targets = _targets(movable)
                wanted = pointed | _lines_of(entries) | {line.pk for line in targets.values() if line}
                if not wanted <= ids:
                    raise _MoreLines(wanted)
                moved = 0
                for (ticket_id, task_id, project_id), line in targets.items():
                    moved += (
                        movable.filter(ticket_id=ticket_id, task_id=task_id, project_id=project_id)
                        .update(sale_line=line, billable_minutes=_billable_expression(line))
                    )
                sale_lines_recompute(line_ids=ids)
                return moved
        except _MoreLines as more:
            ids |= more.ids


def timesheets_follow_ticket(*, ticket: Ticket) -> int:
    """After a ticket's task, Sales Order Item or customer changed: relink and rebill its unbilled entries.

    Entries logged on the ticket move to its new task (or to the team's project when
    unlinked); entries logged on the new task before it was linked gain the ticket.
    """
    ticket = Ticket.objects.select_related("team__project", "task__project").get(pk=ticket.pk)  # as now written
    project = ticket.task.project if ticket.task_id else ticket.team.project

    def relink():
        _unbilled(TimeEntry.objects.filter(ticket=ticket)).exclude(task_id=ticket.task_id, project=project).update(
            task=ticket.task, project=project)
        if ticket.task_id:
            _unbilled(TimeEntry.objects.filter(task_id=ticket.task_id, ticket__isnull=True)).update(ticket=ticket)

    on_ticket = Q(ticket=ticket)
    if ticket.task_id:
        on_ticket |= Q(task_id=ticket.task_id)
    return timesheets_rebill(entries=TimeEntry.objects.filter(on_ticket), relink=relink, pointed=[ticket.sale_line_id])


def ticket_customer_check(*, ticket: Ticket) -> None:
    """Refuse moving a ticket to another customer while some of its time is on a live invoice.

    Called before the ticket is written, with the links lock held; read under the locks of the
    lines its entries are on, so a Create Invoice running now is waited for and seen.
    """
    sale_lines_lock(ids=_lines_of(TimeEntry.objects.filter(ticket=ticket)))
    billed = TimeEntry.objects.filter(ticket=ticket, invoice_line__isnull=False)
    numbers = sorted({number or "a draft" for number in billed.values_list("invoice_line__invoice__number", flat=True)})
    if numbers:
        raise Conflict(f"Time on {ticket} is invoiced ({', '.join(numbers)}): it stays with its customer. "
                       "Cancel the draft or credit the invoice first, or open a new ticket for the other customer.")


def timesheets_follow_task(*, task: Task) -> int:
    return timesheets_rebill(entries=TimeEntry.objects.filter(task=task), pointed=[task.sale_line_id])


def timesheets_follow_project(*, project: Project) -> int:
    return timesheets_rebill(entries=TimeEntry.objects.filter(project=project), pointed=[project.sale_line_id])


def timesheets_follow_team(*, team: HelpdeskTeam) -> int:
    """After a team's project or Time Reinvoicing changed: move and rebill its tickets' unbilled time.

    Time on a ticket without a task belongs to the team's project; time on a task stays with the task's.
    """
    def relink():
        if team.project_id:
            _unbilled(TimeEntry.objects.filter(ticket__team=team, task__isnull=True)).exclude(
                project_id=team.project_id).update(project_id=team.project_id)

    return timesheets_rebill(entries=TimeEntry.objects.filter(ticket__team=team), relink=relink)


# --- The timer on a ticket ----------------------------------------------------

NO_TIMER_MESSAGE = "No timer is running on this ticket: start one first."


@transaction.atomic
def timer_start(*, user, ticket: Ticket) -> Timer:
    """Start the user's timer on the ticket; a timer already running keeps its start.

    Kept on the server, so closing the tab or changing computer does not lose it.
    """
    _context(ticket=ticket, task=None)  # refuses a team without Timesheet on Ticket
    # get_or_create retries the read when a concurrent Start wins the unique constraint.
    timer, _ = Timer.objects.get_or_create(user=user, ticket=ticket, defaults={"started_at": timezone.now()})
    return timer


@transaction.atomic
def timer_stop(*, user, ticket: Ticket) -> int:
    """Stop the user's timer on the ticket; return the minutes elapsed, rounded up to the minute.

    Nothing is logged: the agent checks the duration, writes a description and saves the entry.
    """
    # Locked so two Stops at once cannot both read the timer: the second finds none.
    timer = Timer.objects.select_for_update().filter(user=user, ticket=ticket).first()
    if timer is None:
        raise Conflict(NO_TIMER_MESSAGE)
    elapsed = timezone.now() - timer.started_at
    microseconds = max(elapsed // datetime.timedelta(microseconds=1), 1)
    timer.delete()
    return -(-microseconds // 60_000_000)
