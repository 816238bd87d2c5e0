from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from core.limits import searchable
from core.roles import sees_everything
from projects.selectors import projects_for, tasks_for
from sales.models import Customer, SaleOrder, SaleOrderLine, WorkType
from sales.units import minutes_to_qty
from tickets.selectors import tickets_for

from .lines import entry_increment_expression
from .models import CustomerReview, TimeEntry


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



# --- Approval (DESIGN Rule 11) -------------------------------------------------------------

def awaiting_minutes(*, line_ids) -> dict[int, int]:
    """Return {line id: minutes awaiting approval}: the unbilled time of these lines that will count once
    approved (teams on "Approved timesheets only"), rounded as the line bills it. One GROUP BY."""
    step = entry_increment_expression("sale_line__product__")
    rows = (TimeEntry.objects.filter(sale_line_id__in=list(line_ids), invoice_line=None, billable_minutes=0,
                                     written_off=False, held=False, approval=TimeEntry.Approval.TO_APPROVE)
            .exclude(work_type__billing__in=[WorkType.Billing.NO_CHARGE, WorkType.Billing.NON_BILLABLE])
            .values("sale_line_id").annotate(m=Sum((F("minutes") + step - 1) / step * step)).order_by())
    return {row["sale_line_id"]: int(row["m"]) for row in rows}


def awaiting_quantities(*, lines) -> dict:
    """Return {line id: quantity awaiting approval} of these lines, in each line's unit as Delivered is shown
    (only lines with some): `awaiting_minutes` for the screens and the API alike."""
    minutes = awaiting_minutes(line_ids=[line.pk for line in lines])
    return {line.pk: minutes_to_qty(minutes[line.pk], line.uom) for line in lines if line.pk in minutes}


def to_approve_for(*, user, team=None, agent=None, customer=None, start=None, end=None) -> QuerySet[TimeEntry]:
    """Return the entries awaiting review that `user` (a manager) may approve: never their own.

    Filters: the ticket's team, the agent, the customer (the ticket's, else the task's or project's), the
    period. Ordered as To Approve groups them: agent, date, ticket.
    """
    entries = (TimeEntry.objects.filter(approval=TimeEntry.Approval.TO_APPROVE).exclude(user=user)
               .select_related("user", "ticket__customer", "task", "project", "sale_line__order"))
    if team is not None:
        entries = entries.filter(ticket__team=team)
    if agent is not None:
        entries = entries.filter(user=agent)
    if customer is not None:
        entries = entries.filter(Q(ticket__customer=customer) | Q(ticket__isnull=True, task__customer=customer)
                                 | Q(ticket__isnull=True, task__customer__isnull=True, project__customer=customer))
    if start is not None:
        entries = entries.filter(date__gte=start)
    if end is not None:
        entries = entries.filter(date__lte=end)
    # Time on a task without a ticket after the tickets' of the day, on both databases.
    return entries.order_by("user__username", "user_id", "date", F("ticket_id").asc(nulls_last=True), "pk")


def time_entries_search(entries: QuerySet[TimeEntry], text: str) -> QuerySet[TimeEntry]:
    """Return the `entries` whose description holds `text` (whatever the case, `%` and `_` as themselves); all of
    them for an empty `text`. PostgreSQL reads the trigram index of the descriptions (timesheets migration 0008)."""
    text = searchable(text)
    return entries.filter(description__icontains=text) if text else entries


# --- The customer portal (issue 18) --------------------------------------------------------------

def contact_entries(*, contact) -> QuerySet[TimeEntry]:
    """The time a customer's contact sees: the entries on their customer's tickets that reach the customer
    (not of a non-billable work type, not rejected), with the customer's review of each."""
    return (TimeEntry.objects.filter(ticket__customer_id=contact.customer_id)
            .exclude(work_type__billing=WorkType.Billing.NON_BILLABLE)
            .exclude(approval=TimeEntry.Approval.REJECTED)
            .select_related("user", "ticket", "work_type", "invoice_line__invoice", "review", "sale_line__product"))


def open_disputes(*, order=None, ticket=None) -> QuerySet[TimeEntry]:
    """The entries with an open dispute, of one order's lines or one ticket, or everywhere, oldest first."""
    entries = TimeEntry.objects.filter(review__state=CustomerReview.State.DISPUTED)
    if order is not None:
        entries = entries.filter(Q(sale_line__order=order) | Q(sale_line=None, ticket__sale_line__order=order))
    if ticket is not None:
        entries = entries.filter(ticket=ticket)
    return entries.select_related("user", "ticket", "review", "review__contact").order_by("review__at", "pk")


@dataclass
class Disputed:
    """An order's open disputes: those held out of Delivered and invoices, and those billed all the same
    (their team does not hold disputed time)."""

    held: int = 0
    held_minutes: int = 0
    billed: int = 0
    billed_minutes: int = 0

    @property
    def count(self) -> int:
        return self.held + self.billed

    @property
    def minutes(self) -> int:
        return self.held_minutes + self.billed_minutes


def disputed_by_order(order_ids) -> dict[int, Disputed]:
    """{order id: Disputed} of these orders that have open disputes: one GROUP BY, whatever their number.

    An entry is its line's order's, else (billing no line: non-billable) its ticket's line's, as
    `open_disputes(order=...)` reads it."""
    rows = (TimeEntry.objects.filter(review__state=CustomerReview.State.DISPUTED)
            .annotate(order_id=Coalesce(F("sale_line__order_id"), F("ticket__sale_line__order_id")))
            .filter(order_id__in=list(order_ids))
            .values("order_id", "held").annotate(n=Count("pk"), m=Sum("minutes")).order_by())
    found: dict[int, Disputed] = {}
    for row in rows:
        disputed = found.setdefault(row["order_id"], Disputed())
        if row["held"]:
            disputed.held, disputed.held_minutes = row["n"], int(row["m"])
        else:
            disputed.billed, disputed.billed_minutes = row["n"], int(row["m"])
    return found
