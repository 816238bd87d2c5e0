"""Keep Delivered and entry links true whatever saved the rows (admin, API, shell)."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from projects.models import Project, Task
from sales.models import AgentRate, Product, WorkType, WorkTypeRate
from sales.services import links_lock
from tickets.models import HelpdeskTeam, Ticket

from . import delivered, relinks
from .models import TimeEntry

# Fields whose change moves a record's unbilled time to another line or task.
WATCHED = {
    Ticket: (("team_id", "task_id", "sale_line_id", "customer_id"), relinks.timesheets_follow_ticket, "ticket"),
    Task: (("sale_line_id", "project_id"), relinks.timesheets_follow_task, "task"),
    Project: (("sale_line_id", "billable"), relinks.timesheets_follow_project, "project"),
    HelpdeskTeam: (("time_reinvoicing", "project_id", "invoiced_timesheets"), relinks.timesheets_follow_team, "team"),
    WorkType: (("billing",), relinks.timesheets_follow_work_type, "work_type"),
    # No time moves: it is rounded another way (per entry, or on the invoice per ticket).
    Product: (("billing_increment_minutes", "rounding"), relinks.timesheets_recount_product, "product"),
}
RATES = (AgentRate, WorkTypeRate)
# The orders whose rates a batch (rates_batch) changed; None outside one.
_batched: ContextVar[set | None] = ContextVar("rates_batched", default=None)


def entry_saved(sender, instance, raw=False, **kwargs):
    """A signal receiver which recomputes Delivered of the lines an entry is and was on."""
    if raw:
        return
    delivered.sale_lines_recompute_after_save(
        entry_id=instance.pk, line_ids={instance.sale_line_id, getattr(instance, "_previous_sale_line_id", None)},
        locked=instance.__dict__.pop("lines_locked", ()))  # this save's only: a later one locks again


def entry_deleted(sender, instance, **kwargs):
    """A signal receiver which recomputes Delivered of the line a deleted entry was on."""
    delivered.sale_lines_recompute_after_save(entry_id=instance.pk, line_ids={instance.sale_line_id})


def remember_links(sender, instance, raw=False, update_fields=None, **kwargs):
    """A signal receiver which takes the links lock before a save that may change where time bills,
    notes the watched fields as stored, and refuses a new customer for a ticket with invoiced time.

    Taken before the row is written, so the lock order holds: an agent logging on this ticket
    waits for the lock, not for the row while this save waits for the agent.
    """
    if raw or instance.pk is None:
        return
    fields = WATCHED[sender][0]
    if update_fields is not None and not {f.removesuffix("_id") for f in fields} & {
            f.removesuffix("_id") for f in update_fields}:
        return  # e.g. a ticket's status: nothing that decides a line
    links_lock(exclusive=True)
    instance._stored_links = sender.objects.filter(pk=instance.pk).values_list(*fields).first()
    stored = dict(zip(fields, instance._stored_links or ()))
    if sender is Ticket and stored and stored["customer_id"] != instance.customer_id:
        relinks.ticket_customer_check(ticket=instance)  # before the write: a refusal leaves the row as it was


def follow_links(sender, instance, created=False, raw=False, **kwargs):
    """A signal receiver which moves unbilled time after a ticket/task/project/team changed its links."""
    if raw or created:
        return
    fields, follow, name = WATCHED[sender]
    stored = getattr(instance, "_stored_links", None)
    if stored is None:
        return
    changed = {f for f, before in zip(fields, stored) if before != getattr(instance, f)}
    if changed == {"invoiced_timesheets"}:  # no time moves: it counts now, or stops counting
        relinks.timesheets_recount_team(team=instance)
    elif changed:
        follow(**{name: instance})


def rates_lock(sender, instance, raw=False, **kwargs):
    """A signal receiver which takes the links lock before a rate is written or deleted (it decides lines), or a
    work type deleted (time being logged with it then commits first, and the delete sees it and is refused)."""
    if not raw:
        links_lock(exclusive=True)


def rates_follow(sender, instance, raw=False, **kwargs):
    """A signal receiver which moves the order's unbilled time after one of its rates changed (Rule 13)."""
    if raw:
        return
    batch = _batched.get()
    if batch is not None:
        batch.add(instance.order_id)
    else:
        relinks.timesheets_follow_order(order=relinks.SaleOrder(pk=instance.order_id))


@contextmanager
def rates_batch():
    """Rates written inside move time once, at the end, for each order they changed (not once per rate)."""
    orders = set()
    token = _batched.set(orders)
    try:
        yield
    finally:
        _batched.reset(token)
    for order_id in sorted(orders):
        relinks.timesheets_follow_order(order=relinks.SaleOrder(pk=order_id))


def connect():
    post_save.connect(entry_saved, sender=TimeEntry, dispatch_uid="timesheets.entry_saved")
    post_delete.connect(entry_deleted, sender=TimeEntry, dispatch_uid="timesheets.entry_deleted")
    for model in WATCHED:
        uid = f"timesheets.{model._meta.model_name}"
        pre_save.connect(remember_links, sender=model, dispatch_uid=f"{uid}.remember")
        post_save.connect(follow_links, sender=model, dispatch_uid=f"{uid}.follow")
    for model in RATES:
        uid = f"timesheets.{model._meta.model_name}"
        pre_save.connect(rates_lock, sender=model, dispatch_uid=f"{uid}.lock")
        pre_delete.connect(rates_lock, sender=model, dispatch_uid=f"{uid}.lock_delete")
        post_save.connect(rates_follow, sender=model, dispatch_uid=f"{uid}.follow")
        post_delete.connect(rates_follow, sender=model, dispatch_uid=f"{uid}.follow_delete")
    pre_delete.connect(rates_lock, sender=WorkType, dispatch_uid="timesheets.worktype.lock_delete")
