"""Timesheets: time entries, logged on a ticket and/or its task; the lines' Delivered follows."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from core.errors import Conflict
from core.roles import sees_everything
from projects.models import Task
from projects.selectors import projects_for
from sales.models import SaleOrderLine
from sales.units import HOUR, minutes_to_qty
from tickets.models import Ticket
from tickets.selectors import tickets_for
from timesheets.durations import HINT, check_minutes, parse_duration
from timesheets.models import TimeEntry
from timesheets.selectors import time_entries_for
from timesheets.services import timesheet_delete, timesheet_log, timesheet_update

from .filters import TimeEntryFilter
from .parsers import ReadsItsBody
from .permissions import TimesheetsWrite
from .schema import conflict

# The services name the duration `minutes`; the API calls it `duration`.
API_FIELDS = {"minutes": "duration"}


def renamed(error: ValidationError, rename: dict[str, str]) -> ValidationError:
    """Return `error` with its fields renamed (a service's `minutes` is the API's `duration`)."""
    if isinstance(error, Conflict) or not hasattr(error, "error_dict"):
        return error
    return ValidationError({rename.get(field, field): messages for field, messages in error.message_dict.items()})


@extend_schema_field({
    "oneOf": [{"type": "string", "example": "1:30"}, {"type": "number", "example": 1.5}],
    "description": 'Typed as people type it: "1:30", "1.5", "1h30", "90m", or a number of hours.',
})
class DurationField(serializers.Field):
    """A duration written as text (`1:30`, `1.5`, `90m`) or as a JSON number of hours; minutes inside."""

    def to_internal_value(self, data):
        try:
            if isinstance(data, str):
                return parse_duration(data)
            if isinstance(data, (int, float)) and not isinstance(data, bool):
                return self._hours_to_minutes(data)
        except ValidationError as e:
            raise serializers.ValidationError(e.messages) from e
        raise serializers.ValidationError(f"Enter the duration as text or as a number of hours. {HINT}")

    @staticmethod
    def _hours_to_minutes(number) -> int:
        try:
            hours = Decimal(str(number))
        except InvalidOperation:
            hours = Decimal("NaN")
        if not hours.is_finite():
            raise ValidationError(f"Enter a number of hours. {HINT}")
        # Beyond a day every number gets the same refusal; bounding first keeps the arithmetic exact.
        hours = max(min(hours, Decimal(25)), Decimal(-1))
        minutes = int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        check_minutes(minutes)
        return minutes

    def to_representation(self, minutes):
        return minutes


class TimeEntrySerializer(serializers.ModelSerializer):
    """A time entry as read. `duration` reads as H:MM; `sale_line` null means non-billable."""

    duration = serializers.CharField(read_only=True, help_text="H:MM")
    hours = serializers.SerializerMethodField()
    invoice = serializers.SerializerMethodField(help_text="The live invoice billing this entry.")

    class Meta:
        model = TimeEntry
        fields = ["id", "date", "user", "description", "duration", "minutes", "billable_minutes", "hours",
                  "ticket", "task", "project", "sale_line", "invoice", "invoice_line"]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=5, decimal_places=2))
    def get_hours(self, entry) -> str:
        return f"{minutes_to_qty(entry.minutes, HOUR):.2f}"

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_invoice(self, entry) -> int | None:
        return entry.invoice_line.invoice_id if entry.invoice_line_id else None


class TimeEntryWriteSerializer(serializers.Serializer):
    """Log or change time. `sale_line` given sets the entry's line by hand; null returns it to its default."""

    date = serializers.DateField(required=False, help_text="Defaults to today.")
    user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), required=False,
                                              help_text="Defaults to you; managers log for others.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)
    duration = DurationField()
    ticket = serializers.PrimaryKeyRelatedField(queryset=Ticket.objects.none(), required=False, allow_null=True)
    task = serializers.PrimaryKeyRelatedField(queryset=Task.objects.none(), required=False, allow_null=True)
    sale_line = serializers.PrimaryKeyRelatedField(
        queryset=SaleOrderLine.objects.select_related("order", "product"), required=False, allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        user = self.context["request"].user
        if not user.is_authenticated:  # the schema generator's request
            return fields
        # Time goes on the tickets and tasks the user may see; with what logging reads of them joined
        # (fewer joins than the ticket pages': planning that query cost more than running it).
        fields["ticket"].queryset = (tickets_for(user=user).select_related(None)
                                     .select_related("team__project", "customer", "sale_line"))
        tasks = Task.objects.select_related("project")
        fields["task"].queryset = tasks if sees_everything(user) else tasks.filter(project__in=projects_for(user=user))
        return fields


INVOICED = conflict("You cannot modify timesheets that are already invoiced.")


class TimeEntryViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Timesheets: agents log their time on their teams' tickets and tasks; Delivered follows."""

    serializer_class = TimeEntrySerializer
    permission_classes = [TimesheetsWrite]
    filterset_class = TimeEntryFilter
    ordering_fields = ["id", "date", "minutes"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if not self.request.user.is_authenticated:  # the schema generator's request
            return TimeEntry.objects.none()
        return time_entries_for(user=self.request.user)

    def _answer(self, entry, status_code=status.HTTP_200_OK):
        # The entry as the service left it: the answer needs only its own fields and ids, no query.
        return Response(TimeEntrySerializer(entry, context=self.get_serializer_context()).data, status=status_code)

    def _editable(self, entry):
        if not self.request.user.has_perm("timesheets.change_timeentry", entry):
            raise PermissionDenied("You can only change your own time.")
        return entry

    @extend_schema(request=TimeEntryWriteSerializer, responses={201: TimeEntrySerializer})
    def create(self, request, *args, **kwargs):
        """Log time on a ticket and/or a task."""
        serializer = TimeEntryWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = data.get("user", request.user)
        if not request.user.has_perm("timesheets.log_time_for", user):
            raise PermissionDenied("You can only log your own time.")
        try:
            entry = timesheet_log(
                user=user, date=data.get("date", timezone.localdate()), minutes=data["duration"],
                description=data.get("description", ""), ticket=data.get("ticket"), task=data.get("task"),
                sale_line=data.get("sale_line"), actor=request.user)
        except ValidationError as e:
            raise renamed(e, API_FIELDS) from e
        return self._answer(entry, status.HTTP_201_CREATED)

    @extend_schema(request=TimeEntryWriteSerializer, responses={200: TimeEntrySerializer, 409: INVOICED})
    def partial_update(self, request, *args, **kwargs):
        """Change the date, duration, description or Sales Order Item of an entry not yet invoiced."""
        entry = self._editable(self.get_object())
        serializer = TimeEntryWriteSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        fixed = {"user": entry.user, "ticket": entry.ticket, "task": entry.task}
        moved = {name: ["Log the time again instead: an entry keeps its agent, ticket and task."]
                 for name, value in fixed.items() if name in data and data[name] != value}
        if moved:
            raise serializers.ValidationError(moved)
        changes = {name: data[name] for name in ("date", "description", "sale_line") if name in data}
        if "duration" in data:
            changes["minutes"] = data["duration"]
        try:
            entry = timesheet_update(entry=entry, **changes, actor=request.user)
        except ValidationError as e:
            raise renamed(e, API_FIELDS) from e
        return self._answer(entry)

    @extend_schema(responses={204: None, 409: INVOICED})
    def destroy(self, request, *args, **kwargs):
        """Delete an entry not yet invoiced; its line's Delivered drops with it."""
        timesheet_delete(entry=self._editable(self.get_object()), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
