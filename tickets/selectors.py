from django.db.models import QuerySet

from helpdesk_billing.roles import sees_everything

from .models import Ticket


def tickets_for(*, user) -> QuerySet[Ticket]:
    """Return the tickets `user` may see: all for managers and accountants, their teams' for agents."""
    tickets = Ticket.objects.select_related("team", "customer", "assignee", "task", "sale_line__order")
    if sees_everything(user):
        return tickets
    if not user.is_authenticated:
        return tickets.none()
    return tickets.filter(team__members=user)
