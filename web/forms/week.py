"""The forms of My Timesheets (web/views/week.py): which week and whose, a ticket to add as a row, and the
cells typed in the grid.

A cell's input is named `cell:<row>:<date>` ("cell:ticket-12:2026-11-30"); beside it, when the cell held time,
a hidden `was:<row>:<date>` carries the duration it showed. The grid's POST sends every cell; only those whose
text changed from what they showed are saved, so a cell another tab changed meanwhile is left as it is.
"""

import datetime
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets.models import Ticket
from tickets.selectors import team_members
from timesheets.week import check_day, typed_minutes

from ..lookups import loggable_tickets, person
from .widgets import Lookup

CELL, WAS = "cell:", "was:"


def parse_day(value: str) -> datetime.date:
    """The day `value` names (YYYY-MM-DD), within the weeks a grid shows; ValidationError otherwise."""
    try:
        day = datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationError(_("“{value}” is not a date: write it as YYYY-MM-DD.").format(value=str(value)[:40])) \
            from None
    return check_day(day)


class AgentForm(forms.Form):
    """A manager's choice of whose week to see: any member of a helpdesk team (searched, web.lookups)."""

    agent = forms.ModelChoiceField(team_members(), label=gettext_lazy("Agent"), empty_label=None,
                                   widget=Lookup("week-agents"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].label_from_instance = person


class AddTicketForm(forms.Form):
    """"Add a ticket": a ticket searched among those `user` may log on, shown as a row (`?add=`)."""

    add = forms.ModelChoiceField(Ticket.objects.none(), required=False, label=gettext_lazy("Add a ticket"),
                                 empty_label=gettext_lazy("Search a ticket by title or customer"),
                                 widget=Lookup("week-tickets"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["add"].queryset = loggable_tickets(user=user)


@dataclass
class Typed:
    """A cell the grid's POST changed: its row and day as named, the text typed, and its minutes once read."""

    key: str
    day: datetime.date | None
    text: str
    minutes: int | None = None
    error: str = ""


def changed_cells(data) -> list[Typed]:
    """Return the cells of the grid's POST whose text differs from what they showed, each read or refused.

    `data` is request.POST. A cell whose name is not `cell:<row>:<date>` is left out: no such cell was shown.
    """
    changed = []
    for name, text in data.items():
        if not name.startswith(CELL):
            continue
        key, _, day = name.removeprefix(CELL).rpartition(":")
        was = data.get(WAS + name.removeprefix(CELL), "")
        if text.strip() == was.strip():
            continue
        cell = Typed(key=key, day=None, text=text)
        try:
            cell.day = parse_day(day)
            cell.minutes = typed_minutes(text)
            if cell.minutes == _shown(was):
                continue  # 1.5 typed over 1:30: the same time
        except ValidationError as error:
            cell.error = " ".join(error.messages)
        changed.append(cell)
    return changed


def _shown(was: str) -> int | None:
    try:
        return typed_minutes(was)
    except ValidationError:
        return None
