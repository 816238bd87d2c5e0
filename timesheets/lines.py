"""Which Sales Order Item time bills (DESIGN Rule 4), and how many of its minutes (Rule 5's increment).

Asked by the services that log and edit time and by the relinks that move it; nothing here writes.
"""

from django.db.models import F, Value

from projects.models import Project, Task
from sales.models import SaleOrderLine
from tickets.models import Ticket


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


def billable_expression(line: SaleOrderLine | None):
    """The same rounding as `billable_minutes`, for a set-based UPDATE."""
    if line is None:
        return Value(0)
    step = line.product.billing_increment_minutes
    if step == 1:
        return F("minutes")
    return (F("minutes") + (step - 1)) / step * step
