"""Alerts on screen: "Dealt with" on the Helpdesk overview marks an open alert cleared (reports.alerts)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from reports.alerts import alert_clear
from reports.models import Alert

from .base import act, refuse_unless

CLEARERS_ONLY = gettext_lazy("Only accountants and managers mark alerts dealt with.")


@login_required
@require_POST
def alert_clear_view(request, pk):
    """Mark the alert dealt with, with the optional note; one no longer open is refused with why."""
    refuse_unless(request.user.has_perm("reports.clear_alert"), CLEARERS_ONLY)
    alert = get_object_or_404(Alert, pk=pk)
    note = request.POST.get("note", "").replace("\x00", "")
    act(request, lambda: alert_clear(alert_id=alert.pk, actor=request.user, note=note),
        _("Alert marked dealt with."))
    return redirect("home")
