"""To Approve (DESIGN Rule 11): the timesheets awaiting review, grouped by agent, week and ticket, and a
manager's bulk Approve or Reject with one reason.

Managers only (the rule timesheets.approve); others get the 403 page. The services are all-or-nothing:
a refusal names the entries that cannot change, and nothing changes.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.db.models.functions import TruncWeek
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from timesheets.approval import timesheets_approve, timesheets_reject
from timesheets.selectors import to_approve_for

from ..forms.approval import ApprovalFilter
from .base import page, paginate, record_id, refuse_unless, show_refusal

MANAGERS_ONLY = gettext_lazy("Only managers approve or reject timesheets.")
# A week of a team's time fits on one page; more is paged, and each page costs the same queries.
PER_PAGE = 500


@login_required
def to_approve(request):
    refuse_unless(request.user.has_perm("timesheets.approve"), MANAGERS_ONLY)
    if request.method == "POST":
        return _review(request)
    filters = ApprovalFilter(request.GET or None)
    chosen = filters.chosen()
    if chosen is None:  # a wrong filter lists nothing rather than more than was asked for
        messages.error(request, _("Correct the filters below to list the timesheets."))
        chosen, entries = {}, to_approve_for(user=request.user).none()
    else:
        entries = to_approve_for(user=request.user, **chosen)
    page_obj = paginate(request, entries, PER_PAGE)
    rows = list(page_obj)
    totals = _totals(entries, {entry.user_id for entry in rows})
    return page(request, "web/timesheets/to_approve.html", {
        "filters": filters, "page_obj": page_obj, "agents": _groups(rows, totals),
        "total_minutes": entries.aggregate(m=Sum("minutes"))["m"] or 0,
    })


def _review(request):
    """Approve or Reject the ticked entries; come back to the same filters and page."""
    ids = _ticked(request)
    action = request.POST.get("action")
    try:
        if action == "approve":
            done = timesheets_approve(ids=ids, actor=request.user)
        elif action == "reject":
            done = timesheets_reject(ids=ids, reason=request.POST.get("reason", ""), actor=request.user)
        else:
            raise ValidationError(_("Unknown action."))
    except ValidationError as error:
        show_refusal(request, error)
    else:
        if action == "approve":
            text = ngettext("Approved {count} timesheet.", "Approved {count} timesheets.", done)
        else:
            text = ngettext("Rejected {count} timesheet.", "Rejected {count} timesheets.", done)
        messages.success(request, text.format(count=done))
    return redirect(request.get_full_path())


def _ticked(request) -> list[int]:
    """The entries ticked one by one, and those of each ticked group (its ids, comma-separated)."""
    values = request.POST.getlist("entry")
    for group in request.POST.getlist("group"):
        values += group.split(",")
    return sorted({pk for value in values if (pk := record_id(value.strip())) is not None})


# --- Grouping: agent, then week, then ticket (or task) -----------------------------------

def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _target(ticket_id, task_id) -> tuple:
    return ("ticket", ticket_id) if ticket_id is not None else ("task", task_id)


def _totals(entries, user_ids) -> dict:
    """Return the minutes of every group of these agents, over every page: {(agent,), (agent, week),
    (agent, week, target): minutes}. One GROUP BY."""
    rows = (entries.filter(user_id__in=user_ids).order_by().annotate(week=TruncWeek("date"))
            .values("user_id", "week", "ticket_id", "task_id").annotate(m=Sum("minutes")))
    totals: dict[tuple, int] = {}
    for row in rows:
        week = row["week"]
        week = week.date() if isinstance(week, datetime.datetime) else week
        for key in ((row["user_id"],), (row["user_id"], week),
                    (row["user_id"], week, _target(row["ticket_id"], row["task_id"]))):
            totals[key] = totals.get(key, 0) + row["m"]
    return totals


def _group(key: tuple, totals: dict, **fields) -> dict:
    return {"key": key, "minutes": totals.get(key, 0), "entries": [], **fields}


def _groups(rows, totals: dict) -> list[dict]:
    """Return the page's entries as agents > weeks > tickets, each group with its total and its ids."""
    agents: dict = {}
    for entry in rows:
        agent_key = (entry.user_id,)
        agent = agents.setdefault(agent_key, _group(agent_key, totals, agent=entry.user, weeks={}))
        week_key = (entry.user_id, _monday(entry.date))
        week = agent["weeks"].setdefault(week_key, _group(week_key, totals, monday=week_key[1], targets={}))
        target_key = (*week_key, _target(entry.ticket_id, entry.task_id))
        target = week["targets"].setdefault(target_key, _group(target_key, totals, first=entry))
        for group in (agent, week, target):
            group["entries"].append(entry)
    for agent in agents.values():
        agent["weeks"] = list(agent["weeks"].values())
        for week in agent["weeks"]:
            week["targets"] = list(week["targets"].values())
            for group in (week, *week["targets"]):
                group["ids"] = ",".join(str(entry.pk) for entry in group["entries"])
        agent["ids"] = ",".join(str(entry.pk) for entry in agent["entries"])
    return list(agents.values())
