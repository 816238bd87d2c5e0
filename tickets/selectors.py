from django.db.models import OuterRef, QuerySet, Subquery, Sum

from helpdesk_billing.roles import is_manager, sees_everything

from .models import Ticket


def tickets_for(*, user) -> QuerySet[Ticket]:
    """Return the tickets `user` may see: all for managers and accountants, their teams' for agents."""
    tickets = Ticket.objects.select_related("team", "customer", "assignee", "task", "sale_line__order")
    if sees_everything(user):
        return tickets
    if not user.is_authenticated:
        return tickets.none()
    return tickets.filter(team__members=user)


def with_minutes_spent(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate `minutes_spent`: the minutes logged on each ticket.

    A correlated sum, computed only for the rows fetched (a page), and left out of the
    paginator's COUNT: a GROUP BY over the join would read every time entry for both.
    """
    spent = Ticket.objects.filter(pk=OuterRef("pk")).annotate(minutes=Sum("time_entries__minutes")).values("minutes")
    return tickets.annotate(minutes_spent=Subquery(spent))


def customer_is_fixed(ticket: Ticket) -> bool:
    """Whether time is logged on the ticket (timesheets' reverse relation): its customer is then fixed."""
    return ticket.pk is not None and ticket.time_entries.exists()


def may_change_customer(*, user, ticket: Ticket) -> bool:
    """Agents choose a ticket's customer until time is logged on it; then only a manager moves it
    (tickets.services.ticket_set_customer), so a sequence of edits cannot carry billed-for time to
    another customer when a single edit is refused."""
    return is_manager(user) or not customer_is_fixed(ticket)
