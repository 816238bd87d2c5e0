from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum

from core.roles import sees_everything

from .models import HelpdeskTeam, Ticket


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


def teams_for(*, user) -> QuerySet[HelpdeskTeam]:
    """Return the teams `user` may see: all for managers and accountants, their own for agents."""
    if sees_everything(user):
        return HelpdeskTeam.objects.all()
    if not user.is_authenticated:
        return HelpdeskTeam.objects.none()
    return HelpdeskTeam.objects.filter(members=user)


def tickets_search(tickets: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Return the `tickets` whose title or customer matches `text`, or whose number it is ("#12" or "12")."""
    text = text.strip()
    number = text.lstrip("#")
    match = Q(title__icontains=text) | Q(customer__name__icontains=text)
    if number.isascii() and number.isdigit() and len(number) <= 19:  # int() refuses "²" and huge ones
        match |= Q(pk=int(number))
    return tickets.filter(match)
