"""Which Sales Order Item time bills (DESIGN Rule 4), and how many of its minutes (Rule 5's increment).

Asked by the services that log and edit time and by the relinks that move it; nothing here writes.
"""

from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When

from projects.models import Project, Task
from sales.models import SaleOrderLine
from tickets.models import HelpdeskTeam, Ticket

from .models import TimeEntry

APPROVED, REJECTED = TimeEntry.Approval.APPROVED, TimeEntry.Approval.REJECTED
APPROVED_ONLY = HelpdeskTeam.Invoicing.APPROVED


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


# --- Whether time counts now (Rules 11 and 15) --------------------------------------------

def approval_needed(*, ticket: Ticket | None, project: Project) -> bool:
    """Whether time on this ticket (else in this project) counts only once approved.

    The ticket's team decides; time on a task without a ticket, the teams working in its project
    (any of them on "Approved timesheets only"), so a task is no way around the team's rule.
    """
    if ticket is not None:
        return ticket.team.invoiced_timesheets == APPROVED_ONLY
    return HelpdeskTeam.objects.filter(project=project, invoiced_timesheets=APPROVED_ONLY).exists()


def counted(*, approval: str, written_off: bool, needs_approval: bool) -> bool:
    """Whether an entry's minutes count in Delivered and reach an invoice: not written off, not
    rejected, and approved where its team invoices approved timesheets only."""
    if written_off or approval == REJECTED:
        return False
    return approval == APPROVED or not needs_approval


def _needs_approval_q() -> Q:
    """`approval_needed` for the entries of a set-based UPDATE or a check: two uncorrelated IN lists (the
    tickets of teams on "approved only", those teams' projects), which PostgreSQL hashes once per statement
    instead of asking a subquery per entry; no joins, which an UPDATE cannot take."""
    tickets = Ticket.objects.filter(team__invoiced_timesheets=APPROVED_ONLY).order_by().values("pk")
    # No NULL in the list: `x NOT IN (…, NULL)` is never true.
    projects = (HelpdeskTeam.objects.filter(invoiced_timesheets=APPROVED_ONLY, project__isnull=False).order_by()
                .values("project_id"))
    return Q(ticket_id__in=tickets) | (Q(ticket__isnull=True) & Q(project_id__in=projects))


def counted_q(*, approval: str | None = None) -> Q:
    """`counted` for the entries of a set-based UPDATE or a check; `approval`, the state the same
    UPDATE gives them (an UPDATE's expressions read the row as it was)."""
    if approval is None:
        return Q(written_off=False) & ~Q(approval=REJECTED) & (Q(approval=APPROVED) | ~_needs_approval_q())
    if approval == REJECTED:
        return Q(pk__in=[])
    return Q(written_off=False) & (Q() if approval == APPROVED else ~_needs_approval_q())


# --- How many minutes it bills (Rule 5's increment) ------------------------------------------

def billable_minutes(minutes: int, line: SaleOrderLine | None, *, counts: bool = True) -> int:
    """Round up to the line's billing increment; 0 for non-billable time, or time that does not count now."""
    if line is None or not counts:
        return 0
    step = line.product.billing_increment_minutes
    return -(-minutes // step) * step


def _rounded(step):
    if step == 1:
        return F("minutes")
    return (F("minutes") + (step - 1)) / step * step


def billable_expression(line: SaleOrderLine | None = None, *, moving: bool = False, approval: str | None = None,
                        joined: bool = False):
    """`billable_minutes` for a set-based UPDATE: each entry's own line (its product's increment, read
    per row), or, `moving` them to `line`, that line's; `approval`, the state the UPDATE gives them;
    `joined`, for a SELECT, which may join the line and product."""
    counts = counted_q(approval=approval)
    if moving:
        if line is None:
            return Value(0)
        return Case(When(counts, then=_rounded(line.product.billing_increment_minutes)), default=Value(0))
    if joined:  # a read (a check): the increment through joins, not a subquery per entry
        step = F("sale_line__product__billing_increment_minutes")
    else:  # an UPDATE, which cannot join: one indexed lookup per entry (no ordering: no join to the orders)
        step = Subquery(SaleOrderLine.objects.filter(pk=OuterRef("sale_line_id")).order_by()
                        .values("product__billing_increment_minutes")[:1])
    return Case(When(Q(sale_line__isnull=False) & counts, then=(F("minutes") + step - 1) / step * step),
                default=Value(0))
