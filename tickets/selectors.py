from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from core.limits import MAX_ID, searchable
from core.roles import MANAGERS, sees_everything
from core.trigram import in_matching
from sales.models import Customer

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
    """Annotate `minutes_spent`: the minutes logged on each ticket (0 for none).

    A correlated sum, computed only for the rows fetched (a page), and left out of the
    paginator's COUNT: a GROUP BY over the join would read every time entry for both.
    """
    spent = Ticket.objects.filter(pk=OuterRef("pk")).annotate(minutes=Sum("time_entries__minutes")).values("minutes")
    return tickets.annotate(minutes_spent=Coalesce(Subquery(spent), 0))


def teams_for(*, user) -> QuerySet[HelpdeskTeam]:
    """Return the teams `user` may see: all for managers and accountants, their own for agents."""
    if sees_everything(user):
        return HelpdeskTeam.objects.all()
    if not user.is_authenticated:
        return HelpdeskTeam.objects.none()
    return HelpdeskTeam.objects.filter(members=user)


def tickets_search(tickets: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Return the `tickets` whose title, description or customer's name holds `text` (whatever the case, `%`
    and `_` as themselves), or whose number it is ("#12" or "12"); all of them for an empty `text`.

    Every condition is one PostgreSQL answers from an index of the ticket table (the trigram indexes of
    the title and description, the customer's and the primary key), so it ORs their bitmaps and reads
    only the matching tickets: the customers whose name matches are read first, by their own trigram
    index, because a condition on the joined customer would make it read every ticket instead. The
    paginator's COUNT and the page's ORDER BY -pk LIMIT run on the same conditions.
    """
    text = searchable(text)
    if not text:
        return tickets
    match = (Q(title__icontains=text) | Q(description__icontains=text)
             | in_matching("customer", Customer.objects.filter(name__icontains=text)))
    number = text.lstrip("#")
    if number.isascii() and number.isdigit() and int(number) <= MAX_ID:  # int() refuses "²"
        match |= Q(pk=int(number))
    return tickets.filter(match)


def assignable_people(teams: QuerySet[HelpdeskTeam]) -> QuerySet:
    """Whom a ticket of these teams may be assigned to: their active members and the active managers, as
    tickets.services checks it (a superuser outside the Managers group is not offered)."""
    members = HelpdeskTeam.members.through.objects.filter(helpdeskteam__in=teams).values("user_id")
    managers = Group.objects.filter(name=MANAGERS).values("user")
    return get_user_model().objects.filter(Q(pk__in=members) | Q(pk__in=managers), is_active=True)


def team_members() -> QuerySet:
    """The members of a helpdesk team: whose week a manager may open in My Timesheets."""
    return get_user_model().objects.filter(Exists(HelpdeskTeam.members.through.objects.filter(user_id=OuterRef("pk"))))


# --- The customer portal (issue 18) --------------------------------------------------------------

def contact_tickets(*, contact) -> QuerySet[Ticket]:
    """The tickets a customer's contact sees: their customer's, every team's."""
    return Ticket.objects.filter(customer_id=contact.customer_id).select_related("team")


def portal_teams() -> QuerySet[HelpdeskTeam]:
    """The teams a contact may open a ticket for."""
    return HelpdeskTeam.objects.filter(portal_tickets=True)


def ticket_messages(*, ticket: Ticket):
    """A ticket's messages, oldest first, each with its author and whether they are a customer's contact."""
    return ticket.messages.select_related("author__contact").order_by("created_at", "pk")
