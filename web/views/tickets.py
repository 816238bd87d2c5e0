"""Tickets: the list, New ticket, the ticket page with its Timesheets tab and timer, its status buttons, its
assignee, its "Sales Order Item", its Messages with the customer (issue 18) and its History, and its Timesheets
as CSV."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from audit.selectors import audit_events_for
from invoicing.selectors import invoice_ids_of
from tickets.models import Ticket
from tickets.selectors import ticket_messages, tickets_for, with_minutes_spent
from tickets.services import ticket_assign, ticket_create, ticket_message_add, ticket_set_sale_line, ticket_set_status
from timesheets.durations import format_minutes
from timesheets.models import TimeEntry, Timer
from timesheets.selectors import time_entries_for
from timesheets.services import timer_start, timer_stop

from ..forms.disputes import MessageForm
from ..forms.tickets import AssignForm, NewTicketForm, SaleLineForm, TicketFilterForm
from ..lookups import person
from .base import act, add_service_error, page, paginate, refuse_unless, show_refusal
from .disputes import may_resolve
from .timesheets import LOGGERS_ONLY, log_on_ticket, timesheets_csv, timesheets_tab

WORKERS_ONLY = gettext_lazy("Only agents and managers change tickets.")
WRITERS_ONLY = gettext_lazy("Only the team's agents and managers write to the customer.")
S = Ticket.Status
START, HOLD, SOLVE = gettext_lazy("Start work"), gettext_lazy("Put on hold"), gettext_lazy("Solve")
CLOSE = pgettext_lazy("a ticket", "Close")  # « Clôturer »: a dialog's Close is « Fermer »
RESUME, REOPEN = gettext_lazy("Resume"), gettext_lazy("Reopen")
# The buttons that move a ticket on, per status: (new status, label).
STATUS_BUTTONS = {
    S.NEW: [(S.IN_PROGRESS, START), (S.ON_HOLD, HOLD), (S.SOLVED, SOLVE), (S.CLOSED, CLOSE)],
    S.IN_PROGRESS: [(S.ON_HOLD, HOLD), (S.SOLVED, SOLVE), (S.CLOSED, CLOSE)],
    S.ON_HOLD: [(S.IN_PROGRESS, RESUME), (S.SOLVED, SOLVE), (S.CLOSED, CLOSE)],
    S.SOLVED: [(S.CLOSED, CLOSE), (S.IN_PROGRESS, REOPEN)],
    S.CLOSED: [(S.IN_PROGRESS, REOPEN)],
}


@login_required
def ticket_list(request):
    visible = tickets_for(user=request.user)
    form = TicketFilterForm(request.GET or None, tickets=visible, user=request.user)
    tickets = with_minutes_spent(visible).order_by("-pk")
    order, without_order = None, ""
    if form.is_bound and form.is_valid():
        tickets = form.filter(tickets, user=request.user)
        order = form.cleaned_data["order"]
    if order is not None:
        query = request.GET.copy()
        query.pop("order")
        without_order = query.urlencode()
    return page(request, "web/tickets/ticket_list.html", {
        "form": form, "page_obj": paginate(request, tickets), "order": order, "without_order": without_order,
        "can_file": request.user.has_perm("tickets.work_ticket")})


@login_required
def ticket_new(request):
    """New ticket: an agent files it in one of their teams, a manager in any; it is assigned to whoever files it
    unless they choose a teammate or nobody. Who filed it goes in its History."""
    refuse_unless(request.user.has_perm("tickets.work_ticket"), _("Only agents and managers file tickets."))
    form = NewTicketForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_bound:
        if form.is_valid():
            try:
                ticket = ticket_create(**form.cleaned_data, actor=request.user)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Ticket #{number} created.").format(number=ticket.pk))
                return redirect("ticket_detail", pk=ticket.pk)
    context = {"form": form, "no_team": not form.fields["team"].queryset.exists()}
    return page(request, "web/tickets/ticket_form.html", context, status=400 if form.is_bound else 200)


@login_required
def ticket_detail(request, pk):
    visible, refused = tickets_for(user=request.user), None
    if request.method == "POST" and request.POST.get("action") == "log":
        logged, refused = log_on_ticket(request, tickets=visible, pk=pk)
        if logged is not None:
            return logged
    ticket = get_object_or_404(visible, pk=pk)
    entries = time_entries_for(user=request.user).filter(ticket=ticket)
    tab = timesheets_tab(request, entries=entries, ticket=ticket, refused=refused)
    if isinstance(tab, HttpResponse):
        return tab
    invoice_ids = invoice_ids_of(TimeEntry.objects.filter(ticket=ticket))
    can_work = request.user.has_perm("tickets.work_ticket")
    can_write = request.user.has_perm("tickets.post_message")
    timer = Timer.objects.filter(user=request.user, ticket=ticket).first() if tab["can_log"] else None
    return page(request, "web/tickets/ticket_detail.html", {
        "ticket": ticket,
        "tab": tab,
        "can_work": can_work,
        "status_buttons": STATUS_BUTTONS[ticket.status] if can_work else [],
        "sale_line_form": SaleLineForm(ticket=ticket) if can_work else None,
        "assign_form": AssignForm(ticket=ticket) if can_work else None,
        "events": audit_events_for(obj=ticket),
        "thread": list(ticket_messages(ticket=ticket)),
        "message_form": MessageForm() if can_write and ticket.is_open else None,
        "can_write": can_write,
        "can_resolve": may_resolve(request.user),
        "invoice_ids": invoice_ids,
        "timer": timer,
        # Shown until the page's script counts on; the minutes Stop would give are this, rounded up.
        "timer_elapsed": format_minutes((timezone.now() - timer.started_at) // timedelta(minutes=1)) if timer else "",
    })


@login_required
def ticket_timesheets_csv(request, pk):
    ticket = get_object_or_404(tickets_for(user=request.user), pk=pk)
    return timesheets_csv(time_entries_for(user=request.user).filter(ticket=ticket),
                          f"ticket-{ticket.pk}-timesheets.csv")


# --- The ticket's actions -------------------------------------------------------------

def _ticket(request, pk, *, permission: str, refusal: str) -> Ticket:
    """Return the ticket if the user may see it and has `permission`: 404 for another team's, else 403."""
    ticket = get_object_or_404(tickets_for(user=request.user), pk=pk)
    refuse_unless(request.user.has_perm(permission), refusal)
    return ticket


def _ticket_to_work(request, pk) -> Ticket:
    return _ticket(request, pk, permission="tickets.work_ticket", refusal=WORKERS_ONLY)


def _ticket_to_log_on(request, pk) -> Ticket:
    return _ticket(request, pk, permission="timesheets.log_time", refusal=LOGGERS_ONLY)


@login_required
@require_POST
def ticket_message(request, pk):
    """A reply to the customer in the ticket's Messages (agents of its team, managers); refused on a solved or
    closed ticket with the service's message."""
    ticket = _ticket(request, pk, permission="tickets.post_message", refusal=WRITERS_ONLY)
    form = MessageForm(request.POST)
    if form.is_valid():
        act(request, lambda: ticket_message_add(ticket=ticket, author=request.user, body=form.cleaned_data["body"]),
            _("Message added to ticket #{number}: the customer reads it on the portal.").format(number=ticket.pk))
    else:
        messages.error(request, " ".join(form.errors["body"]))
    return redirect(f"{reverse('ticket_detail', args=[ticket.pk])}#messages")


@login_required
@require_POST
def ticket_status(request, pk):
    ticket = _ticket_to_work(request, pk)
    act(request, lambda: ticket_set_status(ticket=ticket, status=request.POST.get("status", ""), actor=request.user),
        lambda changed: _("{ticket} is {status}.").format(ticket=changed,
                                                           status=changed.get_status_display().lower()))
    return redirect("ticket_detail", pk=ticket.pk)


def _assigned(ticket: Ticket) -> str:
    """Return the message that says whom the ticket is assigned to now."""
    if ticket.assignee is None:
        return _("{ticket} is assigned to nobody.").format(ticket=ticket)
    return _("{ticket} is assigned to {person}.").format(ticket=ticket, person=person(ticket.assignee))


@login_required
@require_POST
def ticket_assign_view(request, pk):
    """Assign the ticket to someone of its team, a manager, or nobody; who did it and when go in its History."""
    ticket = _ticket_to_work(request, pk)
    form = AssignForm(request.POST, ticket=ticket)
    if form.is_valid():
        act(request, lambda: ticket_assign(ticket=ticket, assignee=form.cleaned_data["assignee"], actor=request.user),
            _assigned)
    else:
        messages.error(request, _("Choose a member of {team}, a manager or nobody.").format(team=ticket.team))
    return redirect("ticket_detail", pk=ticket.pk)


def _sale_line_set(ticket: Ticket) -> str:
    """Return the message that says where the ticket's time is billed now."""
    line = ticket.sale_line
    if line is None:
        return _("Sales Order Item removed: the ticket's time is not billed to an order.")
    return _("Sales Order Item set to {order} · {line}.").format(order=line.order.name, line=line.name or line.product)


@login_required
@require_POST
def ticket_sale_line(request, pk):
    """Set the "Sales Order Item"; the ticket's unbilled time moves to it."""
    ticket = _ticket_to_work(request, pk)
    form = SaleLineForm(request.POST, ticket=ticket)
    if form.is_valid():
        act(request, lambda: ticket_set_sale_line(ticket=ticket, sale_line=form.cleaned_data["sale_line"]),
            _sale_line_set)
    else:
        messages.error(request, _("Choose one of the Sales Order Items in the list."))
    return redirect("ticket_detail", pk=ticket.pk)


# --- The timer ----------------------------------------------------------------------

@login_required
@require_POST
def ticket_timer_start(request, pk):
    ticket = _ticket_to_log_on(request, pk)
    act(request, lambda: timer_start(user=request.user, ticket=ticket),
        _("Timer started. It keeps running when you close this page."))
    return redirect("ticket_detail", pk=ticket.pk)


@login_required
@require_POST
def ticket_timer_stop(request, pk):
    """Stop the timer and open the entry form filled with the time elapsed, rounded up to the minute."""
    ticket = _ticket_to_log_on(request, pk)
    try:
        minutes = timer_stop(user=request.user, ticket=ticket)
    except ValidationError as error:
        show_refusal(request, error)
        return redirect("ticket_detail", pk=ticket.pk)
    duration = format_minutes(minutes)
    messages.info(request, _("Timer stopped after {duration}: describe the work and save the entry.").format(
        duration=duration))
    query = urlencode({"duration": duration})
    # No #fragment: browsers skip autofocus on a page opened at one, and the description has it.
    return redirect(f"{reverse('ticket_detail', args=[ticket.pk])}?{query}")
