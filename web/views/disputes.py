"""Customers' disputes of their time (issue 18), on the staff's side: Resolve (keep, write off, correct, with an
answer the customer reads), the list of every open dispute, and the figures the order page, To Invoice, the
billing run and the Helpdesk overview show of them.

Resolving is billing: accountants and managers (the rule timesheets.resolve_dispute); others get the 403 page.
The service (timesheets.disputes.dispute_resolve) refuses what cannot be done, with its message.
"""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.l10n import day
from core.roles import sees_everything
from timesheets.disputes import dispute_resolve
from timesheets.durations import format_minutes
from timesheets.models import CustomerReview, TimeEntry
from timesheets.selectors import Disputed, open_disputes, time_entries_for

from ..forms.disputes import ResolveForm
from .base import act, page, paginate, refuse_unless

RESOLVERS_ONLY = gettext_lazy("Only accountants and managers resolve customers' disputes.")
DISPUTES_PER_PAGE = 50


def may_resolve(user) -> bool:
    return user.has_perm("timesheets.resolve_dispute")


def _back(request, entry: TimeEntry, target: str) -> str:
    """The page Resolve was clicked on when it is one of ours, else the entry's ticket (or the disputes list)."""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    if entry.ticket_id:
        return f"{reverse('ticket_detail', args=[entry.ticket_id])}#entry-{entry.pk}"
    return reverse("dispute_list")


def _resolved(review: CustomerReview) -> str:
    entry = review.entry
    if review.resolution == CustomerReview.Resolution.CORRECTED:
        return _("Dispute on the timesheet of {date} resolved: corrected from {before} to {after}.").format(
            date=day(entry.date), before=format_minutes(review.minutes_before), after=format_minutes(entry.minutes))
    return _("Dispute on {duration} of {date} resolved: {resolution}.").format(
        duration=format_minutes(entry.minutes), date=day(entry.date),
        resolution=review.get_resolution_display().lower())


@login_required
@require_POST
def entry_resolve(request, pk):
    """Resolve the open dispute of a timesheet; back to the page it was clicked on, saying what was done or
    why not (then nothing changed)."""
    refuse_unless(may_resolve(request.user), RESOLVERS_ONLY)
    entry = get_object_or_404(time_entries_for(user=request.user), pk=pk)
    form = ResolveForm(request.POST)
    back = _back(request, entry, request.POST.get("next", ""))
    if not form.is_valid():
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
        return redirect(back)
    data = form.cleaned_data
    act(request, lambda: dispute_resolve(entry=entry, resolution=data["resolution"], answer=data["answer"],
                                         minutes=data["minutes"], actor=request.user), _resolved)
    return redirect(back)


@login_required
def dispute_list(request):
    """Every open dispute, oldest first, each with its Resolve form."""
    refuse_unless(may_resolve(request.user), RESOLVERS_ONLY)
    disputes = open_disputes().select_related("ticket__customer", "sale_line__order", "ticket__sale_line__order")
    page_obj = paginate(request, disputes, DISPUTES_PER_PAGE)
    return page(request, "web/disputes/dispute_list.html", {
        "page_obj": page_obj, "total": open_disputes().aggregate(n=Count("pk"), m=Sum("minutes")),
        "can_resolve": True})


# --- What other pages show of disputes ---------------------------------------------------------

def order_disputes(*, order, user) -> list[TimeEntry]:
    """The order's open disputes the user sees (every one for accountants and managers)."""
    entries = open_disputes(order=order)
    if not sees_everything(user):
        entries = entries.filter(pk__in=time_entries_for(user=user).values("pk"))
    return list(entries.select_related("ticket__customer"))


def summary(entries: list[TimeEntry]) -> Disputed:
    """`Disputed` of entries read already (the order page's)."""
    disputed = Disputed()
    for entry in entries:
        if entry.held:
            disputed.held += 1
            disputed.held_minutes += entry.minutes
        else:
            disputed.billed += 1
            disputed.billed_minutes += entry.minutes
    return disputed


def open_dispute_count() -> int:
    """Every open dispute: the Helpdesk overview's figure for those who resolve them."""
    return open_disputes().count()
