from django.db import connection
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


def delivered_checkpoint_drift() -> list[tuple[int, str, str, int, int]]:
    """Return (line id, order name, field, stored, actual) where a Delivered checkpoint differs from its entries.

    Few lines have a checkpoint (those past a few hundred entries): each one's entries up to it are
    read once, on the range of the entry_by_line index.
    """
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.sale_line_id, c.delivered_minutes, c.invoiced_minutes,
                   COALESCE(SUM(e.billable_minutes), 0),
                   COALESCE(SUM(CASE WHEN e.invoice_line_id IS NULL THEN 0 ELSE e.billable_minutes END), 0)
            FROM timesheets_deliveredcheckpoint c
            LEFT JOIN timesheets_timeentry e ON e.sale_line_id = c.sale_line_id AND e.id <= c.last_entry_id
            GROUP BY c.sale_line_id, c.delivered_minutes, c.invoiced_minutes ORDER BY c.sale_line_id""")
        checkpoints = cursor.fetchall()
    drifts = []
    for line_id, stored_delivered, stored_invoiced, delivered, invoiced in checkpoints:
        for field, stored, actual in (("checkpoint delivered_minutes", stored_delivered, int(delivered)),
                                      ("checkpoint invoiced_minutes", stored_invoiced, int(invoiced))):
            if stored != actual:
                drifts.append((line_id, field, stored, actual))
    names = dict(SaleOrderLine.objects.filter(pk__in={d[0] for d in drifts}).values_list("pk", "order__name"))
    return [(line_id, names[line_id], field, stored, actual) for line_id, field, stored, actual in drifts]
