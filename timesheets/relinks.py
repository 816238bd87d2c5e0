"""Entries follow their ticket, task and Sales Order Item (DESIGN Rules 2, 4, 10).

When a ticket's task, Sales Order Item or customer, a task's or project's Sales Order Item, or a
team's project or Time Reinvoicing changes, the receivers (receivers.py) call these to move the
unbilled, not hand-set entries to the line they now bill, set-based, under the links lock.
"""

from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from core.errors import Conflict
from projects.models import Project, Task
from sales.models import Product, SaleOrder, SaleOrderLine, WorkType
from sales.services import links_lock, sale_lines_lock
from tickets.models import HelpdeskTeam, Ticket

from .delivered import sale_lines_recompute
from .lines import billable_expression, sale_lines_for
from .models import TimeEntry


def _unbilled(qs: QuerySet[TimeEntry]) -> QuerySet[TimeEntry]:
    return qs.filter(invoice_line__isnull=True)


class _MoreLines(Exception):
    """What a relink moves needs lines that are not locked yet."""

    def __init__(self, ids: set[int]):
        super().__init__(ids)
        self.ids = ids


def _lines_of(entries: QuerySet[TimeEntry]) -> set[int]:
    return set(entries.exclude(sale_line=None).values_list("sale_line_id", flat=True).distinct().order_by())


GROUP = ("ticket_id", "task_id", "project_id", "user_id", "work_type_id")


def _targets(movable: QuerySet[TimeEntry]) -> dict[tuple, SaleOrderLine | None]:
    """Return {(ticket id, task id, project id, agent id, work type id): the line} for the groups of
    `movable` entries (Rules 4 and 13)."""
    groups = list(movable.values_list(*GROUP).distinct().order_by())
    tickets = Ticket.objects.select_related("team").in_bulk({g[0] for g in groups if g[0]})
    tasks = Task.objects.in_bulk({g[1] for g in groups if g[1]})
    projects = Project.objects.in_bulk({g[2] for g in groups})
    work_types = WorkType.objects.in_bulk({g[4] for g in groups if g[4]})
    return sale_lines_for({g: (tickets.get(g[0]), tasks.get(g[1]), projects[g[2]], g[3], work_types.get(g[4]))
                           for g in groups})


def _unpin_foreign(entries: QuerySet[TimeEntry]) -> None:
    """Free unbilled entries from a line set by hand that sells to another customer than theirs now.

    An entry's customer is its ticket's, else its task's (or the project's): moving a ticket to
    another customer, or giving a task's entries a ticket, changes it, and a line chosen by hand
    for the old customer may not bill the new one's time (Rule 4). They go to their default line.
    """
    sells_to = "sale_line__order__customer"
    same_customer = (Q(ticket__isnull=False, **{sells_to: F("ticket__customer")})
                     | Q(ticket__isnull=True, task__customer__isnull=False, **{sells_to: F("task__customer")})
                     | Q(ticket__isnull=True, task__customer__isnull=True, **{sells_to: F("project__customer")}))
    _unbilled(entries).filter(sale_line_manual=True).exclude(same_customer).update(sale_line_manual=False)
    # Nor a non-billable work type's (Rule 13): it bills no line, by hand or not.
    _unbilled(entries).filter(sale_line_manual=True, work_type__billing=WorkType.Billing.NON_BILLABLE).update(
        sale_line_manual=False)


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
                for group, line in targets.items():
                    moved += (
                        movable.filter(**dict(zip(GROUP, group)))
                        .update(sale_line=line, billable_minutes=billable_expression(line, moving=True))
                    )
                # Lines set by hand stay, but whether their time counts may have changed (a team's
                # Invoiced Timesheets, a ticket moved to another team).
                _unbilled(entries).filter(sale_line_manual=True).update(billable_minutes=billable_expression())
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
    # With the line it is about to point at: the rebill after the write locks that one too, and a
    # line taken after these, of a lower key, would break the primary-key order (a deadlock with a
    # Create Invoice on the new customer's order, found by the service fuzz).
    sale_lines_lock(ids=_lines_of(TimeEntry.objects.filter(ticket=ticket)) | {ticket.sale_line_id})
    billed = TimeEntry.objects.filter(ticket=ticket, invoice_line__isnull=False)
    numbers = sorted({number or _("a draft") for number in billed.values_list("invoice_line__invoice__number",
                                                                             flat=True)})
    if numbers:
        raise Conflict(_("Time on {ticket} is invoiced ({invoices}): it stays with its customer. Cancel the draft or "
                         "credit the invoice first, or open a new ticket for the other customer.").format(
            ticket=ticket, invoices=", ".join(numbers)))


def timesheets_follow_task(*, task: Task) -> int:
    return timesheets_rebill(entries=TimeEntry.objects.filter(task=task), pointed=[task.sale_line_id])


def timesheets_follow_project(*, project: Project) -> int:
    return timesheets_rebill(entries=TimeEntry.objects.filter(project=project), pointed=[project.sale_line_id])


def _team_entries(team: HelpdeskTeam) -> QuerySet[TimeEntry]:
    return TimeEntry.objects.filter(Q(ticket__team=team) | Q(ticket__isnull=True, project_id=team.project_id))


@transaction.atomic
def timesheets_recount_team(*, team: HelpdeskTeam) -> int:
    """After a team's Invoiced Timesheets alone changed: its unbilled time stays on its lines, only whether
    it counts changes. One UPDATE of the entries, then their lines recomputed once (not one UPDATE per
    ticket, as a relink needs: 11 s against a fraction of it at the bench's size)."""
    links_lock(exclusive=True)
    # The lines of all its time, the invoiced too: a draft cancelled or trimmed meanwhile frees entries
    # onto theirs, which this UPDATE then recounts (found by the service fuzz).
    lines = sale_lines_lock(ids=_lines_of(_team_entries(team)))
    count = _unbilled(_team_entries(team)).exclude(sale_line=None).update(billable_minutes=billable_expression())
    sale_lines_recompute(line_ids=[line.pk for line in lines])
    return count


def timesheets_follow_team(*, team: HelpdeskTeam) -> int:
    """After a team's project, Time Reinvoicing or Invoiced Timesheets changed: move and rebill its
    tickets' unbilled time, and the time on its project's tasks without a ticket (lines.approval_needed).

    Time on a ticket without a task belongs to the team's project; time on a task stays with the task's.
    """
    def relink():
        if team.project_id:
            _unbilled(TimeEntry.objects.filter(ticket__team=team, task__isnull=True)).exclude(
                project_id=team.project_id).update(project_id=team.project_id)

    return timesheets_rebill(entries=_team_entries(team), relink=relink)


def timesheets_follow_order(*, order: SaleOrder) -> int:
    """After an order's rates changed (Rule 13): its unbilled, not hand-set time moves to the line its
    work type or agent maps to now, or back to its ticket's."""
    return timesheets_rebill(entries=TimeEntry.objects.filter(sale_line__order=order))


def timesheets_follow_work_type(*, work_type: WorkType) -> int:
    """After a work type's billing changed: its unbilled time bills, bills at 0.00, or bills no line."""
    return timesheets_rebill(entries=TimeEntry.objects.filter(work_type=work_type))


@transaction.atomic
def timesheets_recount_product(*, product: Product) -> int:
    """After a product's rounding or increment changed: its lines' unbilled time is rounded the new way
    (per entry, or not at all when the rounding is per ticket). Invoiced time stays as billed."""
    links_lock(exclusive=True)
    lines = sale_lines_lock(ids=SaleOrderLine.objects.filter(product=product).values_list("pk", flat=True))
    count = _unbilled(TimeEntry.objects.filter(sale_line__in=[line.pk for line in lines])).update(
        billable_minutes=billable_expression())
    sale_lines_recompute(line_ids=[line.pk for line in lines])
    return count
