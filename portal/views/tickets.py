"""The customer's tickets: the list, New ticket, and a ticket's page: its Timesheets with each one's state and
the Acknowledge and Dispute buttons, its Messages and the form to add one, and its History.

A ticket page costs the same number of queries whatever the number of its timesheets, messages and events:
each is one query (with what its rows show read alongside).
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from core.errors import Conflict
from core.l10n import day
from invoicing.models import Invoice
from sales.models import ServicePolicy
from tickets.models import Ticket
from tickets.selectors import contact_tickets, portal_teams, ticket_messages
from tickets.services import ticket_message_add, ticket_open_from_portal
from timesheets.disputes import entry_acknowledge, entry_dispute
from timesheets.durations import format_minutes
from timesheets.models import CustomerReview, TimeEntry
from timesheets.selectors import contact_entries

from ..forms import DisputeForm, MessageForm, NewTicketForm, TicketFilterForm
from .base import Names, add_service_error, page, paginate, portal_view, record_id, show_refusal

CLOSED = (Ticket.Status.SOLVED, Ticket.Status.CLOSED)
A = AuditEvent.Action
# What a ticket's History shows the customer: what they did and what the support team answered.
TICKET_ACTIONS = (A.TICKET_CREATED, A.TICKET_STATUS_CHANGED, A.TICKET_MESSAGE)
ENTRY_ACTIONS = (A.ENTRY_ACKNOWLEDGED, A.ENTRY_DISPUTED, A.DISPUTE_RESOLVED)


def spent(contact):
    """The minutes of each ticket's timesheets the customer sees (contact_entries), for the rows fetched."""
    minutes = (contact_entries(contact=contact).filter(ticket=OuterRef("pk")).order_by().values("ticket")
               .annotate(total=Sum("minutes")).values("total"))
    return Coalesce(Subquery(minutes, output_field=IntegerField()), 0)


@portal_view
def ticket_list(request):
    contact = request.contact
    form = TicketFilterForm(request.GET)
    tickets = contact_tickets(contact=contact)
    status, search = "open", ""
    if form.is_valid():
        status, search = form.cleaned_data["status"] or "open", form.cleaned_data["q"]
    if status == "open":
        tickets = tickets.exclude(status__in=CLOSED)
    if search:
        number = record_id(search.lstrip("#"))
        tickets = tickets.filter(Q(title__icontains=search) | Q(pk=number) if number else Q(title__icontains=search))
    tickets = tickets.annotate(minutes_spent=spent(contact)).order_by("-pk")
    return page(request, "portal/tickets.html", {
        "form": form, "status": status, "search": search, "page_obj": paginate(request, tickets),
        "can_open": portal_teams().exists()})


@portal_view
def ticket_new(request):
    """New ticket: for a team that accepts portal tickets; it lands in that team's Tickets list, new."""
    form = NewTicketForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            ticket = ticket_open_from_portal(contact=request.contact, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Ticket #{number} created: the support team has been told.").format(
                number=ticket.pk))
            return redirect("portal_ticket", pk=ticket.pk)
    teams = form.fields["team"].queryset
    return page(request, "portal/ticket_new.html", {"form": form, "no_team": not teams},
                status=400 if form.is_bound else 200)


# --- A ticket's page ------------------------------------------------------------------

@dataclass
class Row:
    """A timesheet as the customer reads it: its billing state, who logged it, what they may do with it."""

    entry: TimeEntry
    state: str  # invoiced, invoicing, held, prepaid, to_invoice, no_charge, not_billed
    agent: str
    review: CustomerReview | None
    can_acknowledge: bool
    can_dispute: bool
    dispute_form: DisputeForm | None = None


def billing_state(entry: TimeEntry) -> str:
    """Where the entry's time stands for the customer's bill."""
    if entry.invoice_line_id is not None:
        return "invoiced" if entry.invoice_line.invoice.state == Invoice.State.POSTED else "invoicing"
    if entry.held:
        return "held"
    if entry.written_off or (entry.work_type is not None and not entry.work_type.charges):
        return "no_charge"
    if entry.sale_line is None:
        return "not_billed"
    if entry.sale_line.product.service_policy == ServicePolicy.ORDERED_PREPAID:
        return "prepaid"
    if entry.sale_line.product.service_policy == ServicePolicy.DELIVERED_TIMESHEET:
        return "to_invoice"
    return "not_billed"


def _row(entry: TimeEntry, names: Names) -> Row:
    state = billing_state(entry)
    review = getattr(entry, "review", None)
    open_to_review = state not in ("invoiced", "invoicing", "no_charge")
    return Row(entry=entry, state=state, review=review,
               agent=names.staff(entry.user),
               can_acknowledge=open_to_review and review is None,
               can_dispute=open_to_review and (review is None or review.state == CustomerReview.State.ACKNOWLEDGED))


def _totals(rows: list[Row]) -> dict:
    """Minutes per group of states, as the totals under the Timesheets say them."""
    groups = {"billed": ("invoiced",), "not_billed": ("to_invoice", "invoicing"), "held": ("held",),
              "prepaid": ("prepaid",), "free": ("no_charge", "not_billed")}
    totals = {name: sum(row.entry.minutes for row in rows if row.state in states) for name, states in groups.items()}
    totals["all"] = sum(row.entry.minutes for row in rows)
    return totals


def _created(changes: dict) -> str:
    # Not the internal sentence: that one names the assignee's username.
    return _("Ticket created for {team}").format(team=changes.get("team", ""))


def _history(ticket: Ticket, rows: list[Row], names: Names) -> list[dict]:
    """The ticket's and its timesheets' events of the portal's kinds, oldest first, each said in a sentence."""
    entries = {row.entry.pk: row.entry for row in rows}
    events = (AuditEvent.objects.filter(
        Q(object_type=Ticket._meta.label_lower, object_id=ticket.pk, action__in=TICKET_ACTIONS)
        | Q(object_type=TimeEntry._meta.label_lower, object_id__in=list(entries), action__in=ENTRY_ACTIONS))
        .select_related("actor__contact").order_by("at", "pk"))
    history = []
    for event in events:
        entry = entries.get(event.object_id) if event.object_type == TimeEntry._meta.label_lower else None
        history.append({
            "at": event.at, "action": event.action, "entry": entry,
            "who": names.anyone(event.actor),
            "what": _created(event.changes) if event.action == A.TICKET_CREATED else event.sentence})
    return history


def _messages(ticket: Ticket, names: Names) -> list[dict]:
    return [{"message": message, "author": names.anyone(message.author)}
            for message in ticket_messages(ticket=ticket)]


def ticket_page(request, ticket: Ticket, *, message_form=None, dispute: tuple[int, DisputeForm] | None = None,
                status: int = 200):
    """Render the ticket's page; `message_form` and `dispute` (an entry's id and its form) come back with their
    errors."""
    names = Names(request)
    entries = contact_entries(contact=request.contact).filter(ticket=ticket).order_by("-date", "-pk")
    rows = [_row(entry, names) for entry in entries]
    for row in rows:
        if dispute is not None and row.entry.pk == dispute[0]:
            row.dispute_form = dispute[1]
    return page(request, "portal/ticket.html", {
        "ticket": ticket, "rows": rows, "totals": _totals(rows),
        "thread": _messages(ticket, names),
        "message_form": message_form or MessageForm(),
        "history": _history(ticket, rows, names),
    }, status=status)


def _ticket(request, pk) -> Ticket:
    return get_object_or_404(contact_tickets(contact=request.contact), pk=pk)


@portal_view
def ticket_detail(request, pk):
    return ticket_page(request, _ticket(request, pk))


@portal_view
def ticket_message(request, pk):
    """Add a message to an open ticket; the support team reads it on the ticket's page."""
    ticket = _ticket(request, pk)
    if request.method != "POST":
        return redirect("portal_ticket", pk=ticket.pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            ticket_message_add(ticket=ticket, author=request.user, body=form.cleaned_data["body"])
        except Conflict as error:
            show_refusal(request, error)
            return redirect("portal_ticket", pk=ticket.pk)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Message sent."))
            return redirect(reverse("portal_ticket", args=[ticket.pk]) + "#messages")
    return ticket_page(request, ticket, message_form=form, status=400)


# --- Acknowledge and dispute a timesheet ---------------------------------------------------

def _entry(request, pk) -> TimeEntry:
    return get_object_or_404(contact_entries(contact=request.contact), pk=pk)


def _back(entry: TimeEntry):
    return redirect(reverse("portal_ticket", args=[entry.ticket_id]) + f"#entry-{entry.pk}")


def _said(entry: TimeEntry) -> dict:
    return {"duration": format_minutes(entry.minutes), "date": day(entry.date)}


@portal_view
def entry_acknowledge_view(request, pk):
    """Agree to the time as logged: the support team sees it was acknowledged."""
    entry = _entry(request, pk)
    if request.method == "POST":
        try:
            entry_acknowledge(entry=entry, contact=request.contact)
        except ValidationError as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("Acknowledged: {duration} of {date}.").format(**_said(entry)))
    return _back(entry)


@portal_view
def entry_dispute_view(request, pk):
    """Dispute the time, saying why: an accountant answers, and the answer shows here."""
    entry = _entry(request, pk)
    if request.method != "POST":
        return _back(entry)
    form = DisputeForm(request.POST)
    if form.is_valid():
        try:
            entry_dispute(entry=entry, contact=request.contact, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            if "reason" not in getattr(error, "error_dict", {}):
                show_refusal(request, error)
                return _back(entry)
            add_service_error(form, error)
        else:
            messages.success(request, _("Disputed: {duration} of {date}. We will look into it and answer you "
                                        "here.").format(**_said(entry)))
            return _back(entry)
    return ticket_page(request, _ticket(request, entry.ticket_id), dispute=(entry.pk, form), status=400)
