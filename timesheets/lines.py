"""Which Sales Order Item time bills (DESIGN Rules 4 and 13), and how many of its minutes (Rules 5, 14).

Asked by the services that log and edit time and by the relinks that move it; nothing here writes.
"""

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Subquery, Value, When

from projects.models import Project, Task
from sales.models import AgentRate, Rounding, SaleOrderLine, WorkType, WorkTypeRate
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


def _rates(order_ids: set[int]) -> dict[tuple, int]:
    """Return the rates of these orders, {(order id, "work_type" | "user", id): line id}, in one query."""
    if not order_ids:
        return {}
    by_type = WorkTypeRate.objects.filter(order_id__in=order_ids).annotate(kind=Value("work_type")).values_list(
        "order_id", "kind", "work_type_id", "sale_line_id").order_by()
    by_agent = AgentRate.objects.filter(order_id__in=order_ids).annotate(kind=Value("user")).values_list(
        "order_id", "kind", "user_id", "sale_line_id").order_by()
    return {(order, kind, key): line for order, kind, key, line in by_type.union(by_agent, all=True).order_by()}


def _lines(ids: set[int], *, lock: bool) -> dict[int, SaleOrderLine]:
    """Read the candidate lines, with whether their order has rates (most have none, and cost no second query).

    `lock`: lock them as they are read, in primary-key order (sales.services.sale_lines_lock), with every line
    a rate of their orders maps to, so that whichever line the rates choose is locked, in the same order.
    """
    rated = Exists(AgentRate.objects.filter(order=OuterRef("order_id"))) | Exists(
        WorkTypeRate.objects.filter(order=OuterRef("order_id")))
    lines = SaleOrderLine.objects.select_related("order", "product").annotate(rated=rated)
    if not lock:
        return lines.in_bulk(ids)
    orders = SaleOrderLine.objects.filter(pk__in=ids).values("order_id")
    mapped = (Q(pk__in=WorkTypeRate.objects.filter(order_id__in=orders).values("sale_line_id"))
              | Q(pk__in=AgentRate.objects.filter(order_id__in=orders).values("sale_line_id")))
    return {line.pk: line for line in
            lines.select_for_update(of=("self",)).filter(Q(pk__in=ids) | mapped).order_by("pk")}


def sale_lines_for(contexts: dict, *, lock: bool = False) -> dict:
    """Return {key: the line time bills, or None} for {key: (ticket, task, project, agent id, work type)}.

    The default line is the first of the ticket's (when its team reinvoices), the task's and the
    project's Sales Order Item that sells to the time's customer: a task or project shared by several
    customers never bills one customer's time to another's order, however they are relinked. Then
    the order's rates (Rule 13): the line its work type maps to, else its agent's. Non-billable work
    bills no line. One query; one more for the rates of the orders found when they have some (a third,
    rarely, for mapped lines not yet read). `lock` locks every line it may choose (`_lines`).
    """
    wanted = {key: (_customer_id(*context[:3]), _candidates(*context[:3])) for key, context in contexts.items()}
    ids = {pk for _, candidates in wanted.values() for pk in candidates}
    lines = _lines(ids, lock=lock) if ids else {}
    default = {key: next((lines[pk] for pk in candidates if lines[pk].order.customer_id == customer), None)
               for key, (customer, candidates) in wanted.items()}
    rates = _rates({line.order_id for line in default.values() if line is not None and line.rated})
    if missing := set(rates.values()) - set(lines):
        lines.update(SaleOrderLine.objects.select_related("order", "product").in_bulk(missing))
    chosen = {}
    for key, line in default.items():
        _, _, _, user_id, work_type = contexts[key]
        if work_type is not None and not work_type.bills_a_line:
            line = None
        if line is not None:
            mapped = (rates.get((line.order_id, "work_type", work_type.pk)) if work_type is not None else None) \
                or rates.get((line.order_id, "user", user_id))
            line = lines[mapped] if mapped else line
        chosen[key] = line
    return chosen


def sale_line_for(*, ticket: Ticket | None, task: Task | None, project: Project, user_id: int | None = None,
                  work_type: WorkType | None = None, lock: bool = False) -> SaleOrderLine | None:
    """Return the line this agent's time of this work type on this ticket/task bills; None means non-billable.
    `lock` returns it locked (`_lines`)."""
    return sale_lines_for({None: (ticket, task, project, user_id, work_type)}, lock=lock)[None]


# --- Whether time counts now (Rules 11 and 15) --------------------------------------------

def approval_needed(*, ticket: Ticket | None, project: Project) -> bool:
    """Whether time on this ticket (else in this project) counts only once approved.

    The ticket's team decides; time on a task without a ticket, the teams working in its project
    (any of them on "Approved timesheets only"), so a task is no way around the team's rule.
    """
    if ticket is not None:
        return ticket.team.invoiced_timesheets == APPROVED_ONLY
    return HelpdeskTeam.objects.filter(project=project, invoiced_timesheets=APPROVED_ONLY).exists()


def counted(*, approval: str, written_off: bool, needs_approval: bool, held: bool = False) -> bool:
    """Whether an entry's minutes count in Delivered and reach an invoice: not written off, not
    rejected, not held by a customer's dispute (issue 18), and approved where its team invoices approved
    timesheets only."""
    if written_off or held or approval == REJECTED:
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
        return (Q(written_off=False, held=False) & ~Q(approval=REJECTED)
                & (Q(approval=APPROVED) | ~_needs_approval_q()))
    if approval == REJECTED:
        return Q(pk__in=[])
    return Q(written_off=False, held=False) & (Q() if approval == APPROVED else ~_needs_approval_q())


def _free_q() -> Q:
    """The entries whose work type charges nothing (no charge, or non-billable): an uncorrelated IN list."""
    free = WorkType.objects.exclude(billing=WorkType.Billing.BILLABLE).order_by().values("pk")
    return Q(work_type_id__in=free)


def no_charge_q() -> Q:
    """The entries that reach an invoice at 0.00 (Rule 13): counted now, of a "No charge" work type."""
    return counted_q() & Q(work_type_id__in=WorkType.objects.filter(billing=WorkType.Billing.NO_CHARGE)
                           .order_by().values("pk"))


# --- How many minutes it bills (Rule 5's increment) ------------------------------------------

def billable_minutes(minutes: int, line: SaleOrderLine | None, *, counts: bool = True,
                     work_type: WorkType | None = None) -> int:
    """Round up to the line's increment per entry (1 when it rounds per ticket, on the invoice); 0 for
    time that bills no line, does not count now, or whose work type charges nothing."""
    if line is None or not counts or (work_type is not None and not work_type.charges):
        return 0
    step = line.product.entry_increment
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
    counts = counted_q(approval=approval) & ~_free_q()
    if moving:
        if line is None:
            return Value(0)
        return Case(When(counts, then=_rounded(line.product.entry_increment)), default=Value(0))
    if joined:  # a read (a check): the increment through joins, not a subquery per entry
        step = entry_increment_expression("sale_line__product__")
    else:  # an UPDATE, which cannot join: one indexed lookup per entry (no ordering: no join to the orders)
        step = Subquery(SaleOrderLine.objects.filter(pk=OuterRef("sale_line_id")).order_by()
                        .annotate(step=entry_increment_expression("product__")).values("step")[:1])
    return Case(When(Q(sale_line__isnull=False) & counts, then=(F("minutes") + step - 1) / step * step),
                default=Value(0))


def entry_increment_expression(product: str):
    """`Product.entry_increment` in SQL, through the path `product` ("sale_line__product__")."""
    return Case(When(**{f"{product}rounding": Rounding.TICKET}, then=Value(1)),
                default=F(f"{product}billing_increment_minutes"), output_field=IntegerField())
