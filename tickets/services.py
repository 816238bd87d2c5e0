"""Writes of the helpdesk app.

Moving the time entries that follow a ticket's task or Sales Order Item is the
timesheets app's job: its receiver reacts to the saved ticket.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import AuditEvent
from audit.services import audit_record
from projects.models import Task
from sales.models import Customer, SaleOrderLine

from .models import HelpdeskTeam, Ticket

_KEEP = object()


@transaction.atomic
def team_save(*, team: HelpdeskTeam) -> HelpdeskTeam:
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def ticket_create(*, team: HelpdeskTeam, customer, title: str, description: str = "", assignee=None,
                  task: Task | None = None, sale_line: SaleOrderLine | None = None) -> Ticket:
    ticket = Ticket(team=team, customer=customer, title=title, description=description, assignee=assignee,
                    task=task, sale_line=sale_line)
    ticket.full_clean()
    ticket.save()
    return ticket


@transaction.atomic
def ticket_link_task(*, ticket: Ticket, task: Task | None) -> Ticket:
    """Link the ticket to a task of its team's project (or unlink with None).

    A task links at most one ticket: the OneToOne field refuses a second one.
    """
    if task is not None and Ticket.objects.filter(task=task).exclude(pk=ticket.pk).exists():
        raise ValidationError({"task": f"{task} is already linked to another ticket."})
    ticket.task = task
    ticket.full_clean()
    ticket.save(update_fields=["task"])
    return ticket


@transaction.atomic
def ticket_set_sale_line(*, ticket: Ticket, sale_line: SaleOrderLine | None) -> Ticket:
    """Set the ticket's Sales Order Item; its unbilled, not hand-set entries move with it."""
    ticket.sale_line = sale_line
    ticket.full_clean()
    ticket.save(update_fields=["sale_line"])
    return ticket


@transaction.atomic
def ticket_set_customer(*, ticket: Ticket, customer: Customer, sale_line=_KEEP, actor=None) -> Ticket:
    """Move the ticket to another customer, with its time: a manager's correction once time is logged.

    Its Sales Order Item becomes `sale_line` (a line of the new customer's), or none when it sold to
    the old one. The timesheets app's receiver moves the ticket's entries, lines set by hand too
    (they sold to the old customer), and refuses while any of them is invoiced: time billed to one
    customer never moves to another. Who may call this is the interfaces' question
    (selectors.may_change_customer).
    """
    if not isinstance(customer, Customer):
        raise ValidationError({"customer": "Choose a customer."})
    stored = Ticket.objects.select_related("customer").get(pk=ticket.pk)
    ticket.customer = customer
    if sale_line is not _KEEP:
        ticket.sale_line = sale_line
    elif ticket.sale_line_id and ticket.sale_line.order.customer_id != customer.pk:
        ticket.sale_line = None
    ticket.full_clean()
    ticket.save(update_fields=["customer", "sale_line"])
    if stored.customer_id != customer.pk:
        audit_record(action=AuditEvent.Action.TICKET_CUSTOMER_CHANGED, obj=ticket, actor=actor, changes={
            "customer": [str(stored.customer), str(customer)], "sale_line": [stored.sale_line_id, ticket.sale_line_id],
            # timesheets' reverse relation: the entries that moved with the ticket
            "timesheets": sorted(ticket.time_entries.values_list("pk", flat=True))})
    return ticket


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, status: str) -> Ticket:
    if status not in Ticket.Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    ticket.status = status
    ticket.save(update_fields=["status"])
    return ticket
