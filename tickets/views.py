"""Tickets list, and the ticket's own actions: status buttons and its "Sales Order Item".

The ticket page shows the Timesheets tab, so it lives in timesheets/views.py:
tickets may not import timesheets (DESIGN, Layout).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from core.roles import is_accountant
from sales.views import act, page, paginate, refuse_unless, show_refusal

from .forms import SaleLineForm, TicketFilterForm
from .models import Ticket
from .selectors import tickets_for, with_minutes_spent
from .services import ticket_set_sale_line, ticket_set_status

S = Ticket.Status
# The buttons that move a ticket on, per status: (new status, label).
STATUS_BUTTONS = {
    S.NEW: [(S.IN_PROGRESS, "Start work"), (S.ON_HOLD, "Put on hold"), (S.SOLVED, "Solve"), (S.CLOSED, "Close")],
    S.IN_PROGRESS: [(S.ON_HOLD, "Put on hold"), (S.SOLVED, "Solve"), (S.CLOSED, "Close")],
    S.ON_HOLD: [(S.IN_PROGRESS, "Resume"), (S.SOLVED, "Solve"), (S.CLOSED, "Close")],
    S.SOLVED: [(S.CLOSED, "Close"), (S.IN_PROGRESS, "Reopen")],
    S.CLOSED: [(S.IN_PROGRESS, "Reopen")],
}


@login_required
def home(request):
    user = request.user
    if is_accountant(user) and not user.has_perm("tickets.work_ticket"):
        return redirect("order_list")
    return redirect("ticket_list")


@login_required
def ticket_list(request):
    visible = tickets_for(user=request.user)
    form = TicketFilterForm(request.GET or None, tickets=visible)
    tickets = with_minutes_spent(visible).order_by("-pk")
    if form.is_bound and form.is_valid():
        tickets = form.filter(tickets, user=request.user)
    return page(request, "tickets/ticket_list.html", {"form": form, "page_obj": paginate(request, tickets)})


def _ticket(request, pk) -> Ticket:
    """The ticket, if the user may see and work it: 404 for another team's, 403 for a reader."""
    ticket = get_object_or_404(tickets_for(user=request.user), pk=pk)
    refuse_unless(request.user.has_perm("tickets.work_ticket"), "Only agents and managers change tickets.")
    return ticket


@login_required
@require_POST
def ticket_status(request, pk):
    ticket = _ticket(request, pk)
    act(request, lambda: ticket_set_status(ticket=ticket, status=request.POST.get("status", "")),
        lambda changed: f"{changed} is {changed.get_status_display().lower()}.")
    return redirect("ticket_detail", pk=ticket.pk)


@login_required
@require_POST
def ticket_sale_line(request, pk):
    """Set the "Sales Order Item"; the ticket's unbilled time moves to it."""
    ticket = _ticket(request, pk)
    form = SaleLineForm(request.POST, ticket=ticket)
    if not form.is_valid():
        messages.error(request, "Choose one of the Sales Order Items in the list.")
        return redirect("ticket_detail", pk=ticket.pk)
    try:
        ticket = ticket_set_sale_line(ticket=ticket, sale_line=form.cleaned_data["sale_line"])
    except ValidationError as error:
        show_refusal(request, error)
    else:
        line = ticket.sale_line
        messages.success(request, f"Sales Order Item set to {line.order.name} · {line.name or line.product}."
                         if line else "Sales Order Item removed: the ticket's time is not billed to an order.")
    return redirect("ticket_detail", pk=ticket.pk)
