"""The choice lists that grow with the data (customers, agents, teams, orders, Sales Order Items), asked of the
server as one types instead of written into the page.

Each kind names the rows a form field accepts, by the very function the field's queryset comes from: the
lookup (web.views.lookups) can offer nothing the form refuses, nor anything the user may not see. The form's
<select> holds only the chosen option (web.forms.widgets.Lookup); static/js/lookup.js asks for the others.
"""

from dataclasses import dataclass
from typing import Callable

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from core.l10n import decimal
from core.roles import ACCOUNTANTS, sees_everything
from projects.models import Task
from sales.models import Customer, SaleOrder, SaleOrderLine
from sales.selectors import sale_lines_billable_for
from sales.units import HOUR, minutes_to_qty
from tickets.models import HelpdeskTeam
from tickets.selectors import assignable_people, team_members, teams_for, tickets_for
from timesheets.models import TimeEntry
from timesheets.selectors import customers_for

User = get_user_model()
PERSON = ("username", "first_name", "last_name")


def person(user) -> str:
    """The name a person is listed by: their full name, else their username."""
    return f"{user.first_name} {user.last_name}".strip() or user.username


def sale_line_label(line: SaleOrderLine) -> str:
    """S00001 · Service on Timesheet · 2.25 h delivered."""
    delivered = decimal(minutes_to_qty(line.delivered_minutes, HOUR))
    return _("{order} · {line} · {hours} h delivered").format(order=line.order.name,
                                                             line=line.name or line.product.name, hours=delivered)


# --- What each field accepts ------------------------------------------------------------------------------

def teams_of(tickets: QuerySet) -> QuerySet[HelpdeskTeam]:
    """The teams of these tickets. One indexed probe per team, not a DISTINCT join over every ticket."""
    return HelpdeskTeam.objects.filter(Exists(tickets.filter(team=OuterRef("pk"))))


def customers_of(tickets: QuerySet) -> QuerySet[Customer]:
    """The customers of these tickets."""
    return Customer.objects.filter(Exists(tickets.filter(customer=OuterRef("pk"))))


def assignees_of(tickets: QuerySet) -> QuerySet:
    """The people these tickets are assigned to."""
    return User.objects.filter(Exists(tickets.filter(assignee=OuterRef("pk"))))


def customers_seen_by(*, user) -> QuerySet[Customer]:
    """Every customer for managers and accountants; an agent's, those of their teams' tickets."""
    return Customer.objects.all() if sees_everything(user) else customers_of(tickets_for(user=user))


def time_loggers(*, user) -> QuerySet:
    """Whose time the reports may be filtered by: anyone who logged time; for an agent, themselves."""
    if not sees_everything(user):
        return User.objects.filter(pk=user.pk)
    return User.objects.filter(Exists(TimeEntry.objects.filter(user=OuterRef("pk"))))


def confirmed_orders(*, user) -> QuerySet[SaleOrder]:
    """The confirmed orders, for managers and accountants: agents do not filter reports by order."""
    orders = SaleOrder.objects.filter(state=SaleOrder.State.SALE)
    return orders if sees_everything(user) else orders.none()


def free_tasks(team: HelpdeskTeam) -> QuerySet[Task]:
    """The tasks of the team's project that no ticket links yet: those a new ticket of the team may link."""
    if team.project_id is None:
        return Task.objects.none()
    return Task.objects.filter(project_id=team.project_id, ticket__isnull=True)


def active_users() -> QuerySet:
    return User.objects.filter(is_active=True)


def accountants() -> QuerySet:
    """Whose an order's billing alerts may go to: the active accountants."""
    return User.objects.filter(is_active=True, groups__name=ACCOUNTANTS).distinct()


def loggable_tickets(*, user) -> QuerySet:
    """The tickets `user` may log time on: those they see, of a team with Timesheet on Ticket (My Timesheets'
    "Add a ticket")."""
    return tickets_for(user=user).filter(team__timesheet_on_ticket=True)


def week_agents(*, user) -> QuerySet:
    """Whose week `user` may open: a manager, any team member's; an agent, their own. (Accountants never ask:
    the kind needs timesheets.log_time.)"""
    return team_members() if sees_everything(user) else User.objects.filter(pk=user.pk)


# --- The kinds ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    """A list asked of the server: its rows (`rows(user=)`, or `rows(user=, of=)` for a list that depends
    on an object), the fields searched, the label and order of each row, and who may ask.

    `of(user, pk)` returns the object a dependent list is of, or raises Http404 when the user may not see it.
    """

    rows: Callable
    search: tuple[str, ...]
    order: tuple[str, ...] = ("name", "pk")
    label: Callable = str
    permission: str = ""  # the screen's: the list is no wider than the page it serves
    of: Callable | None = None


TEAM = {"search": ("name",)}
CUSTOMER = {"search": ("name",)}
PEOPLE = {"search": PERSON, "order": ("username", "pk"), "label": person}
TIME = "reports.see_time_report"


def _ticket_to_work(user, pk):
    return get_object_or_404(tickets_for(user=user), pk=pk)


def _team_to_file_in(user, pk):
    return get_object_or_404(teams_for(user=user), pk=pk)


def _customer_to_file_for(user, pk):
    return get_object_or_404(customers_for(user=user), pk=pk)


KINDS = {
    # The Tickets list's filters: what the user's tickets hold.
    "ticket-teams": Kind(lambda user: teams_of(tickets_for(user=user)), **TEAM),
    "ticket-customers": Kind(lambda user: customers_of(tickets_for(user=user)), **CUSTOMER),
    "ticket-assignees": Kind(lambda user: assignees_of(tickets_for(user=user)), **PEOPLE),
    # The ticket's "Sales Order Item": the lines its customer's time may bill.
    "ticket-sale-lines": Kind(lambda user, of: sale_lines_billable_for(customer=of.customer),
                              search=("order__name", "name", "product__name"), order=("order_id", "pk"),
                              label=sale_line_label, permission="tickets.work_ticket", of=_ticket_to_work),
    # New ticket: the teams one files in, the customers one works for; then the team's free tasks and people,
    # and the chosen customer's Sales Order Items. The ticket page's assignee is its team's people too.
    "new-ticket-teams": Kind(teams_for, permission="tickets.work_ticket", **TEAM),
    "new-ticket-customers": Kind(customers_for, permission="tickets.work_ticket", **CUSTOMER),
    "team-tasks": Kind(lambda user, of: free_tasks(of), search=("name",), permission="tickets.work_ticket",
                       of=_team_to_file_in),
    "team-people": Kind(lambda user, of: assignable_people(HelpdeskTeam.objects.filter(pk=of.pk)),
                        permission="tickets.work_ticket", of=_team_to_file_in, **PEOPLE),
    "customer-sale-lines": Kind(lambda user, of: sale_lines_billable_for(customer=of),
                                search=("order__name", "name", "product__name"), order=("order_id", "pk"),
                                label=sale_line_label, permission="tickets.work_ticket", of=_customer_to_file_for),
    # The reports' filters.
    "report-customers": Kind(customers_seen_by, permission=TIME, **CUSTOMER),
    "report-teams": Kind(teams_for, permission=TIME, **TEAM),
    "report-agents": Kind(time_loggers, permission=TIME, **PEOPLE),
    "report-orders": Kind(confirmed_orders, search=("name", "customer__name"), order=("-pk",), permission=TIME),
    "report-tickets": Kind(tickets_for, search=("title",), order=("-pk",), label=lambda ticket: ticket.title,
                           permission=TIME),
    # To Approve's filters: a manager's, every team, agent and customer.
    "approval-teams": Kind(lambda user: HelpdeskTeam.objects.all(), permission="timesheets.approve", **TEAM),
    "approval-agents": Kind(lambda user: active_users(), permission="timesheets.approve", **PEOPLE),
    "approval-customers": Kind(lambda user: Customer.objects.all(), permission="timesheets.approve", **CUSTOMER),
    # To Invoice's filters.
    "to-invoice-customers": Kind(lambda user: Customer.objects.all(), permission="invoicing.bill", **CUSTOMER),
    "to-invoice-teams": Kind(lambda user: HelpdeskTeam.objects.all(), permission="invoicing.bill", **TEAM),
    # The quotation's customer and accountant.
    "quotation-customers": Kind(lambda user: Customer.objects.all(), permission="sales.sell", **CUSTOMER),
    "quotation-accountants": Kind(lambda user: accountants(), permission="sales.sell", **PEOPLE),
    # My Timesheets: a ticket to add as a row (those one may log on), and whose week a manager opens.
    "week-tickets": Kind(loggable_tickets, search=("title", "customer__name"), order=("-pk",),
                         label=lambda ticket: f"{ticket} · {ticket.customer}", permission="timesheets.log_time"),
    "week-agents": Kind(week_agents, permission="timesheets.log_time", **PEOPLE),
}


def url_name(kind: str) -> str:
    return "lookup_" + kind.replace("-", "_")


def lookup_url(kind: str, of=None) -> str:
    """The address static/js/lookup.js asks for the rows of `kind` (of the object `of`)."""
    return reverse(url_name(kind), args=[of.pk] if of is not None else [])


def search(rows: QuerySet, kind: Kind, text: str) -> QuerySet:
    """Return the `rows` one of whose searched fields holds `text`, in the kind's order."""
    if text:
        match = Q()
        for name in kind.search:
            match |= Q(**{f"{name}__icontains": text})
        rows = rows.filter(match)
    return rows.order_by(*kind.order)
