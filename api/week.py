"""My Timesheets: an agent's week as a grid (timesheets.week), and one of its cells set.

`GET /timesheets/week/?week=YYYY-MM-DD&agent=<id>`: the Monday-to-Sunday week holding `week` (this week by
default) of `agent` (you by default; managers, any member of a helpdesk team): its rows, the tickets and tasks
worked on that week, each with seven cells, and the totals, in minutes and H:MM.

`PUT /timesheets/week/` {row, date, duration or minutes, agent}: make the agent's time on the row on that day be
the duration: it logs, changes or deletes that day's timesheet through the services (Delivered follows, each
change audited). The row is one of the week's, or a ticket you may log time on. A cell the grid shows read-only
(invoiced, approved, locked, in the future, several timesheets that day, a team that logs no time) is a 409 with
the reason the grid gives; bad input a 400 naming its field; someone else's week, for an agent, a 403.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from core.limits import MAX_ID
from core.roles import is_manager
from tickets.selectors import team_members, tickets_for
from timesheets.durations import MAX_MINUTES, format_minutes
from timesheets.selectors import time_entries_for
from timesheets.week import NoSuchRow, Week, check_day, parse_row, typed_minutes, week_cell_put, week_grid

from .parsers import ReadsItsBody
from .permissions import needs
from .schema import REFUSED, conflict

Loggers = needs("timesheets.log_time", gettext_lazy("Only agents and managers log time."))
NO_ROW = gettext_lazy("There is no such row in this week: name a ticket you may log time on, or a task with time "
                      "this week.")
OWN_WEEK_ONLY = gettext_lazy("You may see and change your own week only.")
READ_ONLY = conflict("The cell is read-only: invoiced, approved, locked, in the future, several timesheets that day, "
                     "or a team that logs no time. The reason is the cell's, as GET gives it.")


def day_in_range(day: datetime.date) -> datetime.date:
    try:
        return check_day(day)
    except ValidationError as error:
        raise serializers.ValidationError(error.messages) from None


def typed(text: str) -> int:
    """The minutes of a duration as typed (timesheets.week.typed_minutes), refused as the API refuses."""
    try:
        return typed_minutes(text)
    except ValidationError as error:
        raise serializers.ValidationError(error.messages) from None


class WeekQuerySerializer(serializers.Serializer):
    week = serializers.DateField(required=False, validators=[day_in_range],
                                 help_text="Any day of the week (YYYY-MM-DD); this week by default.")
    agent = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                     help_text="Whose week: yours by default; managers, any member of a team.")


class WeekCellSerializer(serializers.Serializer):
    date = serializers.DateField()
    minutes = serializers.IntegerField()
    duration = serializers.CharField(help_text='H:MM, "0:00" for none.')
    entries = serializers.ListField(child=serializers.IntegerField(), help_text="The day's timesheets on the row.")
    editable = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True, help_text="Why it is read-only; empty when it is not.")


class WeekRowSerializer(serializers.Serializer):
    row = serializers.CharField(help_text='How PUT names the row: "ticket-12" or "task-7".')
    ticket = serializers.IntegerField(allow_null=True)
    task = serializers.IntegerField(allow_null=True)
    title = serializers.CharField(help_text='"#12 Printer jams", or the task\'s name.')
    total_minutes = serializers.IntegerField()
    cells = WeekCellSerializer(many=True, help_text="Monday to Sunday.")


class WeekSerializer(serializers.Serializer):
    agent = serializers.IntegerField()
    week_start = serializers.DateField(help_text="The Monday.")
    days = serializers.ListField(child=serializers.DateField())
    rows = WeekRowSerializer(many=True)
    day_totals = serializers.ListField(child=serializers.IntegerField(), help_text="Minutes, Monday to Sunday.")
    total_minutes = serializers.IntegerField()


class WeekCellInputSerializer(serializers.Serializer):
    """One cell: `duration` as typed, or `minutes`; empty, 0 or null removes the day's time."""

    row = serializers.CharField(max_length=40, help_text='"ticket-12" or "task-7".')
    date = serializers.DateField(validators=[day_in_range])
    duration = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=40,
                                     help_text='As typed: "1:30", "1.5", "1h30", "90m"; "" or "0" removes.')
    minutes = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_MINUTES,
                                       error_messages={"max_value": gettext_lazy(
                                           "A single time entry cannot exceed 24 hours (24:00).")},
                                       help_text="Whole minutes instead of `duration`; 0 removes.")
    agent = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                     help_text="Whose week: yours by default; managers, any member of a team.")

    def validate_row(self, value):
        try:
            parse_row(value)
        except ValidationError as error:
            raise serializers.ValidationError(error.message_dict["row"]) from None
        return value

    def validate_duration(self, value):
        return typed(value)

    def validate(self, data):
        if ("duration" in data) == ("minutes" in data):
            raise serializers.ValidationError({"duration": [_("Give the duration, or the minutes: one of them.")]})
        minutes = data.pop("duration") if "duration" in data else data["minutes"]
        data["minutes"] = minutes or 0  # null: none
        return data


class WeekCellAnswerSerializer(WeekCellSerializer):
    agent = serializers.IntegerField()
    row = serializers.CharField()
    row_total_minutes = serializers.IntegerField()
    day_total_minutes = serializers.IntegerField()
    total_minutes = serializers.IntegerField()


def row_data(row) -> dict:
    return {"row": row.key, "ticket": row.ticket.pk if row.ticket is not None else None,
            "task": row.task.pk if row.task is not None else None,
            "title": str(row.ticket) if row.ticket is not None else row.task.name, "total_minutes": row.total,
            "cells": [cell_data(cell) for cell in row.cells]}


def cell_data(cell) -> dict:
    return {"date": cell.date, "minutes": cell.minutes, "duration": format_minutes(cell.minutes),
            "entries": cell.entries, "editable": cell.editable, "reason": cell.reason}


def week_data(week: Week) -> dict:
    return {"agent": week.agent.pk, "week_start": week.start, "days": week.days,
            "rows": [row_data(row) for row in week.rows], "day_totals": week.day_totals, "total_minutes": week.total}


class WeekView(ReadsItsBody, APIView):
    """My Timesheets: a week's grid of time, and one cell of it set (agents and managers)."""

    permission_classes = [Loggers]

    def _agent(self, pk: int | None):
        """Whose week: the user's own, or for a manager any member of a helpdesk team (400 for another id)."""
        user = self.request.user
        if pk is None or pk == user.pk:
            return user
        if not is_manager(user):
            raise PermissionDenied(OWN_WEEK_ONLY)
        agent = team_members().filter(pk=pk).first()
        if agent is None:
            raise serializers.ValidationError({"agent": [
                _("No member of a helpdesk team has the id {id}.").format(id=pk)]})
        return agent

    def _grid(self, agent, day: datetime.date, add=()) -> Week:
        user = self.request.user
        return week_grid(agent=agent, start=day, viewer=user, entries=time_entries_for(user=user),
                         tickets=tickets_for(user=user), add=list(add))

    @extend_schema(parameters=[WeekQuerySerializer], responses={200: WeekSerializer, 400: REFUSED})
    def get(self, request):
        """The agent's week: its rows (tickets and tasks worked on), each with its seven cells, and the totals."""
        query = WeekQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        agent = self._agent(query.validated_data.get("agent"))
        week = self._grid(agent, query.validated_data.get("week", timezone.localdate()))
        return Response(WeekSerializer(week_data(week)).data)

    @extend_schema(request=WeekCellInputSerializer, responses={200: WeekCellAnswerSerializer, 409: READ_ONLY})
    def put(self, request):
        """Set one cell: log, change or delete the agent's timesheet of that day on the row (0 removes it)."""
        given = WeekCellInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        agent = self._agent(data.get("agent"))
        if not request.user.has_perm("timesheets.log_time_for", agent):
            raise PermissionDenied(OWN_WEEK_ONLY)
        kind, pk = parse_row(data["row"])
        add = [pk] if kind == "ticket" else []
        self._set(self._grid(agent, data["date"], add), data["row"], data["date"], data["minutes"])
        return Response(WeekCellAnswerSerializer(self._answer(self._grid(agent, data["date"], add), data)).data)

    def _set(self, week: Week, key: str, day: datetime.date, minutes: int) -> None:
        try:
            week_cell_put(week=week, key=key, day=day, minutes=minutes, actor=self.request.user,
                          tickets=tickets_for(user=self.request.user))
        except NoSuchRow:
            raise serializers.ValidationError({"row": [NO_ROW]}) from None

    def _answer(self, week: Week, data: dict) -> dict:
        row = week.row(data["row"])  # None once a task's row went with its time
        index = (data["date"] - week.start).days
        cell = cell_data(row.cells[index]) if row is not None else {
            "date": data["date"], "minutes": 0, "duration": format_minutes(0), "entries": [], "editable": True,
            "reason": ""}
        return {**cell, "agent": week.agent.pk, "row": data["row"],
                "row_total_minutes": row.total if row is not None else 0,
                "day_total_minutes": week.day_totals[index], "total_minutes": week.total}
