"""Where "Helpdesk billing" in the top bar, and a fresh login, land."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from core.roles import is_accountant


@login_required
def home(request):
    """Send an accountant who works no tickets to the Sales Orders, everyone else to the Tickets."""
    user = request.user
    if is_accountant(user) and not user.has_perm("tickets.work_ticket"):
        return redirect("order_list")
    return redirect("ticket_list")
