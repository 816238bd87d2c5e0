"""Where time is billed: Rules 4 and 13 and "never another customer's order", checked over the whole database.

`billing_drift` proves the stored figures match the entries; this proves the entries sit on
the right lines. Every database test ends with both (conftest.no_billing_drift).
"""

from audit.models import AuditEvent
from tickets.models import Ticket
from timesheets.lines import sale_line_for
from timesheets.models import TimeEntry


def _ever_invoiced() -> set[int]:
    """Entries some invoice billed once: freed again, they stay on the line they were billed on."""
    events = AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_CREATED).values_list("changes", flat=True)
    return {pk for changes in events for pk in changes.get("timesheets", [])}


def misplaced() -> list[str]:
    """Return what breaks placement: entries off the line their ticket/task/project bills,
    and entries or tickets billing an order of another customer than theirs."""
    problems = []
    for ticket in Ticket.objects.filter(sale_line__isnull=False).select_related("sale_line__order"):
        if ticket.sale_line.order.customer_id != ticket.customer_id:
            problems.append(f"ticket {ticket.pk} (customer {ticket.customer_id}) bills "
                            f"{ticket.sale_line.order.name} of customer {ticket.sale_line.order.customer_id}")
    invoiced = _ever_invoiced()
    entries = TimeEntry.objects.select_related(
        "ticket__team", "ticket__sale_line__product", "ticket__sale_line__order", "task__project",
        "task__sale_line__product", "task__sale_line__order", "project__sale_line__product",
        "project__sale_line__order", "sale_line__order", "work_type").order_by("pk")
    for entry in entries:
        customer = entry.ticket.customer_id if entry.ticket_id else getattr(entry.task.billing_customer, "pk", None)
        line = entry.sale_line
        if line is not None and line.order.customer_id != customer:
            problems.append(f"entry {entry.pk} (customer {customer}) bills {line.order.name} "
                            f"of customer {line.order.customer_id}")
        if entry.invoice_line_id or entry.sale_line_manual or entry.pk in invoiced:
            continue
        expected = sale_line_for(ticket=entry.ticket, task=entry.task, project=entry.project, user_id=entry.user_id,
                                 work_type=entry.work_type)
        if entry.sale_line_id != (expected.pk if expected else None):
            problems.append(f"entry {entry.pk} is on line {entry.sale_line_id}, its ticket/task/project bills "
                            f"{expected.pk if expected else None}")
    return problems
