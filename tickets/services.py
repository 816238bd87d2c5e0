"""Writes of the helpdesk app.

Moving the time entries that follow a ticket's task or Sales Order Item is the
timesheets app's job: its receiver reacts to the saved ticket.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from projects.models import Task
from sales.models import SaleOrderLine

from .models import HelpdeskTeam, Ticket


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
def ticket_set_status(*, ticket: Ticket, status: str) -> Ticket:
    if status not in Ticket.Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    ticket.status = status
    ticket.save(update_fields=["status"])
    return ticket
