"""My Timesheets: an agent's week as a grid (timesheets.week), rows the tickets and tasks worked on, columns the
days, each cell the agent's time on one row on one day.

`GET /timesheets/week/`: `?week=` any day of the week (this week by default), `?agent=` whose week (managers:
any member of a team; an agent, their own), `?add=` tickets to show as rows (several). Agents and managers only
(timesheets.log_time). The grid is one form: its POST saves the cells whose text changed through
week_cell_set, shows each refusal beside its cell and saves the others. With static/js/week.js each cell saves
as it is left instead, through `POST /timesheets/week/cell/` (week_cell), which answers JSON.

A cell the grid shows read-only is refused with the reason it shows (409), before the services' own refusals.
"""

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from core.errors import Conflict, error_message
from core.l10n import day as day_text
from core.roles import is_manager
from tickets.selectors import team_members, tickets_for
from timesheets.durations import format_minutes
from timesheets.selectors import time_entries_for
from timesheets.week import Cell, NoSuchRow, Row, Week, parse_row, typed_minutes, week_cell_put, week_grid, week_start

from ..forms.week import AddTicketForm, AgentForm, Typed, changed_cells, parse_day
from ..forms.widgets import record_ids
from .base import page, record_id, refuse_unless

TEMPLATE = "web/timesheets/week.html"
LOGGERS_ONLY = gettext_lazy("Only agents and managers log time.")
OWN_WEEK_ONLY = gettext_lazy("You may open your own week only.")
NOT_YOURS = gettext_lazy("You may see this week, not change it.")
NO_ROW = gettext_lazy("There is no such row in this week: add a ticket with “Add a ticket”, or log time on a task "
                      "from its page.")
# Rows added by address at once: more than a week holds, and a bound on what one address makes the page read.
MAX_ADDED = 50


@dataclass
class Choice:
    """Whose week, which week, and the tickets added as rows."""

    agent: object
    start: datetime.date
    add: list[int] = field(default_factory=list)
    mistaken: bool = False  # the address named a wrong week or agent: this week, one's own, is shown instead


class Refused(Exception):
    """A request of the cell's JSON that is refused: its message and status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message, self.status = message, status


def find_agent(user, value: str):
    """Return whose week `value` (?agent=) names: `user` for none or themselves; for a manager, any member of a
    helpdesk team. PermissionDenied for an agent naming anyone else; ValidationError for a value that names no
    team member."""
    if value in ("", str(user.pk)):
        return user
    refuse_unless(is_manager(user), OWN_WEEK_ONLY)
    pk = record_id(value)
    agent = team_members().filter(pk=pk).first() if pk is not None else None
    if agent is None:
        raise ValidationError(_("No member of a helpdesk team has the id “{id}”.").format(id=value[:20]))
    return agent


def _choice(request) -> Choice:
    """Read the query string; a wrong week or agent is said above the grid, and this week, one's own, shown."""
    today = timezone.localdate()
    choice = Choice(agent=request.user, start=week_start(today), add=record_ids(request.GET.getlist("add"))[:MAX_ADDED])
    if request.GET.get("week"):
        try:
            choice.start = week_start(parse_day(request.GET["week"]))
        except ValidationError as error:
            messages.error(request, _("{error} This week is shown instead.").format(error=error_message(error)))
            choice.mistaken = True
    try:
        choice.agent = find_agent(request.user, request.GET.get("agent", ""))
    except ValidationError as error:
        messages.error(request, _("{error} Your own week is shown instead.").format(error=error_message(error)))
        choice.mistaken = True
    return choice


def grid(user, choice: Choice, add=()) -> Week:
    """The week as `user` sees it, in as many queries whatever its rows (timesheets.week)."""
    return week_grid(agent=choice.agent, start=choice.start, viewer=user, entries=time_entries_for(user=user),
                     tickets=tickets_for(user=user), add=[*choice.add, *add])


def cell_set(user, week: Week, key: str, day: datetime.date, minutes: int) -> None:
    """Set the cell of row `key` on `day` to `minutes` (0 removes the day's time), unless the grid shows it
    read-only (Conflict with its reason); the services' refusals as they come."""
    try:
        week_cell_put(week=week, key=key, day=day, minutes=minutes, actor=user, tickets=tickets_for(user=user))
    except NoSuchRow:
        raise Conflict(NO_ROW) from None


# --- The screen ---------------------------------------------------------------------------------------------

@login_required
def my_timesheets(request):
    refuse_unless(request.user.has_perm("timesheets.log_time"), LOGGERS_ONLY)
    choice = _choice(request)
    refused = {}
    if request.method == "POST" and choice.mistaken:  # not the week the form was for: nothing saved
        messages.error(request, _("Nothing was saved: the address names no week to save."))
    elif request.method == "POST":
        refuse_unless(request.user.has_perm("timesheets.log_time_for", choice.agent), NOT_YOURS)
        refused = _save(request, choice)
        if not refused:
            return redirect(request.get_full_path())
    week = grid(request.user, choice)
    return page(request, TEMPLATE, _context(request, choice, week, refused))


def _save(request, choice: Choice) -> dict[tuple[str, datetime.date | None], Typed]:
    """Save the cells the grid's POST changed, each through week_cell_set; return the refused ones by (row, day),
    each with its message. The grid's rows are read once, with the tickets of the cells posted."""
    cells = changed_cells(request.POST)
    if not cells:
        messages.info(request, _("Nothing to save: no cell changed."))
        return {}
    week = grid(request.user, choice, add=_tickets_of(cells))
    saved, refused = 0, {}
    for cell in cells:
        if not cell.error:
            try:
                cell_set(request.user, week, cell.key, cell.day, cell.minutes)
            except ValidationError as error:
                cell.error = error_message(error)
        if cell.error:
            refused[cell.key, cell.day] = cell
        else:
            saved += 1
    if saved:
        messages.success(request, ngettext("Saved {count} cell.", "Saved {count} cells.", saved).format(count=saved))
    if refused:
        messages.error(request, ngettext("{count} cell was not saved: its message is beside it.",
                                         "{count} cells were not saved: each message is beside its cell.",
                                         len(refused)).format(count=len(refused)))
    return refused


def _tickets_of(cells: list[Typed]) -> list[int]:
    ids = []
    for cell in cells:
        try:
            kind, pk = parse_row(cell.key)
        except ValidationError:
            continue
        if kind == "ticket":
            ids.append(pk)
    return ids[:MAX_ADDED]


@dataclass
class Shown:
    """A cell as the page shows it: an input (`kind` "input"), or read-only text ("future", "several", "locked")
    with its reason."""

    cell: Cell
    name: str  # "ticket-12:2026-11-30"
    text: str  # what the input holds: the time as H:MM, or what was typed and refused
    was: str  # the time as the page showed it ("" for none)
    kind: str
    error: str = ""
    focus: bool = False  # the first cell of the row just added: where typing starts

    @property
    def id(self) -> str:
        return self.name.replace(":", "-")


def _shown(row: Row, cell: Cell, today: datetime.date, refused: dict) -> Shown:
    was = format_minutes(cell.minutes) if cell.minutes else ""
    name = f"{row.key}:{cell.date.isoformat()}"
    if cell.editable:
        typed = refused.get((row.key, cell.date))
        return Shown(cell, name, typed.text if typed else was, was, "input", typed.error if typed else "")
    if len(cell.entries) > 1:
        kind = "several"
    elif cell.date > today and not cell.minutes:
        kind = "future"
    else:
        kind = "locked"  # invoiced, approved, locked, or a row that logs no time
    return Shown(cell, name, was, was, kind)


def _context(request, choice: Choice, week: Week, refused: dict) -> dict:
    today = timezone.localdate()
    prefetch_related_objects([row.ticket for row in week.rows if row.ticket is not None], "customer")
    rows = [{"row": row, "cells": [_shown(row, cell, today, refused) for cell in row.cells]} for row in week.rows]
    keys = {row.key for row in week.rows}
    _focus(rows, choice.add, refused)
    inputs = {(item["row"].key, shown.cell.date) for item in rows for shown in item["cells"] if shown.kind == "input"}
    for pk in choice.add:
        if f"ticket-{pk}" not in keys:
            messages.warning(request, _("Ticket {number} is not one you may log time on: it is not shown.").format(
                number=pk))
    own = choice.agent.pk == request.user.pk
    return {
        "week": week, "rows": rows, "own": own, "agent": choice.agent,
        "may_change": request.user.has_perm("timesheets.log_time_for", choice.agent),
        "today_date": today,
        "days": [{"date": day, "today": day == today, "total": total} for day, total in zip(week.days,
                                                                                              week.day_totals)],
        "last_day": week.days[-1],
        "links": _links(choice, week, today, own),
        "kept": {"agent": "" if own else choice.agent.pk, "add": choice.add},
        "add_form": AddTicketForm(user=request.user),
        "agent_form": AgentForm(initial={"agent": choice.agent.pk}) if is_manager(request.user) else None,
        # Refused cells the grid has no input for (read-only, or no such row or day): said above it.
        "leftover": [cell for (key, day), cell in refused.items() if (key, day) not in inputs],
        # The read-only cells' lock, inside a sentence of the page (one message to translate, the icon in it).
        "lock_icon": mark_safe(render_to_string("web/includes/lock.svg").strip()),
    }


def _focus(rows: list[dict], added: list[int], refused: dict) -> None:
    """Start typing where the page asks for it: in the first refused cell, else in the row added last."""
    cells = [shown for item in rows for shown in item["cells"] if shown.kind == "input"]
    chosen = next((shown for shown in cells if shown.error), None)
    if chosen is None and added:
        chosen = next((shown for shown in cells if shown.name.startswith(f"ticket-{added[-1]}:")), None)
    if chosen is not None:
        chosen.focus = True


def _links(choice: Choice, week: Week, today: datetime.date, own: bool) -> dict[str, str]:
    """The addresses of the previous, next and this week, keeping whose week and the rows added."""
    def at(day):
        query = {"week": day.isoformat(), **({} if own else {"agent": choice.agent.pk}), "add": choice.add}
        return f"{reverse('my_timesheets')}?{urlencode(query, doseq=True)}"
    # The grid posts to its own week, named: a form sent after Sunday midnight still saves the week it shows.
    return {"previous": at(week.previous), "next": at(week.next), "this": at(week_start(today)),
            "self": at(week.start)}


# --- One cell, as static/js/week.js saves it -----------------------------------------------------------------

@login_required
@require_POST
def week_cell(request):
    """Set one cell: POST row ("ticket-12"), date, duration (empty or 0 removes), agent (whose week; one's own
    by default). Answer the cell and the totals as JSON, or {"error": message} with 400, 403 or 409."""
    try:
        return JsonResponse(_cell_answer(request))
    except Refused as refused:
        return JsonResponse({"error": refused.message}, status=refused.status)


def _cell_answer(request) -> dict:
    user = request.user
    if not user.has_perm("timesheets.log_time"):
        raise Refused(LOGGERS_ONLY, 403)
    try:
        agent = find_agent(user, request.POST.get("agent", ""))
        day = parse_day(request.POST.get("date", ""))
        kind, pk = parse_row(request.POST.get("row", ""))
        minutes = typed_minutes(request.POST.get("duration", ""))
    except PermissionDenied as error:
        raise Refused(str(error), 403) from None
    except ValidationError as error:
        raise Refused(error_message(error), 400) from None
    if not user.has_perm("timesheets.log_time_for", agent):
        raise Refused(NOT_YOURS, 403)
    choice = Choice(agent=agent, start=week_start(day), add=[pk] if kind == "ticket" else [])
    key = f"{kind}-{pk}"
    try:
        cell_set(user, grid(user, choice), key, day, minutes)
    except Conflict as error:
        raise Refused(error_message(error), 409) from None
    except ValidationError as error:
        raise Refused(error_message(error), 400) from None
    return cell_data(grid(user, choice), key, day)


def cell_data(week: Week, key: str, day: datetime.date) -> dict:
    """The cell of row `key` on `day` as the week now holds it, with its row's, day's and week's totals (H:MM)."""
    row = week.row(key)  # None once a task's row went with its last entry
    index = (day - week.start).days
    minutes = row.cells[index].minutes if row is not None else 0
    return {"row": key, "date": day.isoformat(), "minutes": minutes, "duration": format_minutes(minutes) if minutes
            else "", "totals": {"row": format_minutes(row.total if row is not None else 0),
                                "day": format_minutes(week.day_totals[index]), "week": format_minutes(week.total)},
            "message": _("Saved {duration} on {date}.").format(duration=format_minutes(minutes), date=day_text(day))
            if minutes else _("Removed the time of {date}.").format(date=day_text(day))}
