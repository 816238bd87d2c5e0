from django.db.models import Q, QuerySet

from core.roles import sees_everything
from projects.selectors import projects_for, tasks_for
from sales.models import Customer, SaleOrder, SaleOrderLine
from tickets.selectors import tickets_for

from .models import TimeEntry


def time_entries_for(*, user) -> QuerySet[TimeEntry]:
    """Return the entries `user` may see: all for managers and accountants; for agents, their own
    and those on their teams' tickets."""
    entries = TimeEntry.objects.select_related(
        "user", "ticket", "task", "project", "sale_line__order", "sale_line__product", "invoice_line__invoice")
    if sees_everything(user):
        return entries
    if not user.is_authenticated:
        return entries.none()
    return entries.filter(Q(user=user) | Q(ticket__team__in=user.helpdesk_teams.all()))


def sale_orders_for(*, user) -> QuerySet[SaleOrder]:
    """Return the sales orders `user` may see: all for managers and accountants; for agents, those
    with a line billing a ticket or a time entry they see (so never another team's customer's)."""
    if sees_everything(user):
        return SaleOrder.objects.all()
    if not user.is_authenticated:
        return SaleOrder.objects.none()
    lines = SaleOrderLine.objects.filter(Q(tickets__in=tickets_for(user=user))
                                         | Q(time_entries__in=time_entries_for(user=user)))
    return SaleOrder.objects.filter(pk__in=lines.values("order_id"))


def order_lines_for(*, user) -> QuerySet[SaleOrderLine]:
    """Return the lines of the sales orders `user` sees."""
    return SaleOrderLine.objects.filter(order__in=sale_orders_for(user=user).values("pk"))


def customers_for(*, user) -> QuerySet[Customer]:
    """Return the customers `user` sees: all for managers and accountants; for agents, those of
    the tickets, tasks, projects and sales orders they see."""
    if sees_everything(user):
        return Customer.objects.all()
    tasks = tasks_for(user=user)
    return Customer.objects.filter(
        Q(pk__in=tickets_for(user=user).values("customer")) | Q(pk__in=tasks.values("customer"))
        | Q(pk__in=tasks.values("project__customer")) | Q(pk__in=projects_for(user=user).values("customer"))
        | Q(pk__in=sale_orders_for(user=user).values("customer")))

