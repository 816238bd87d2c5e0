"""The Helpdesk overview: where "Helpdesk billing" in the top bar, and a fresh login, land.

A card per team (open tickets, mine, this week's time, unbilled time); for those who see receivables what
is to invoice and overdue; for those who resolve them the customers' open disputes; for those who see reports
the open alerts, with "Dealt with".
"""

import datetime
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from core.roles import has_role
from reports.alerts import describe
from reports.overview import overview

from .base import page
from .disputes import may_resolve, open_dispute_count


def _link(name: str, **query) -> str:
    return f"{reverse(name)}?{urlencode(query)}"


def _card(card, *, everyone: bool, monday: datetime.date, today: datetime.date) -> dict:
    """A team's card and where its figures lead: the Tickets list filtered; the Time report for those who
    see everyone's time (an agent's holds their own only, not the team's)."""
    team = card.team.pk
    week = {"from": monday.isoformat(), "to": today.isoformat(), "team": team}
    return {
        "card": card,
        "open_url": _link("ticket_list", team=team, status="open"),
        "mine_url": _link("ticket_list", team=team, status="open", mine="on"),
        "week_url": _link("report_time", group_by="agent,day", **week) if everyone else "",
        "unbilled_url": _link("report_time", group_by="customer", status="to_invoice", team=team,
                              **{"from": (today - datetime.timedelta(days=3659)).isoformat(), "to": today.isoformat()})
        if everyone else "",
    }


@login_required
def home(request):
    """The overview for anyone with a role; someone with none still goes to the Tickets (which shows them none)."""
    user = request.user
    if not has_role(user):
        return redirect("ticket_list")
    data = overview(user=user)
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    everyone = user.has_perm("reports.see_reports")  # an agent's Time report holds their own time only
    resolves = may_resolve(user)
    return page(request, "web/home.html", {
        "overview": data,
        "cards": [_card(card, everyone=everyone, monday=monday, today=today) for card in data.teams],
        "alerts": [{"alert": alert, "text": describe(alert)} for alert in data.alerts],
        "can_clear": user.has_perm("reports.clear_alert"),
        "sees_receivables": user.has_perm("invoicing.see_receivables"),
        "sees_reports": everyone,
        "can_bill": user.has_perm("invoicing.bill"),
        # Customers' open disputes (issue 18), for those who resolve them.
        "open_disputes": open_dispute_count() if resolves else None,
    })
