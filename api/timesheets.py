"""Timesheets: time entries, logged on a ticket and/or its task; the lines' Delivered follows.
Managers approve, reject and reinstate them (timesheets.approval)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from core.errors import Conflict
from core.l10n import decimal
from core.limits import MAX_ID
from core.roles import sees_everything
from projects.models import Task
from projects.selectors import projects_for
from sales.models import SaleOrderLine, WorkType
from sales.units import HOUR, minutes_to_qty
from tickets.models import Ticket
from tickets.selectors import tickets_for
from timesheets.approval import REASON_LIMIT, timesheet_reinstate, timesheets_approve, timesheets_reject
from timesheets.disputes import ANSWER_LIMIT, dispute_resolve
from timesheets.durations import HINT, MAX_MINUTES, check_minutes, parse_duration
from timesheets.models import CustomerReview, TimeEntry
from timesheets.selectors import time_entries_for
from timesheets.services import timesheet_delete, timesheet_log, timesheet_update

from .disputes import Resolvers, ReviewField
from .filters import TimeEntryFilter
from .parsers import ReadsItsBody
from .permissions import TimesheetsWrite, writers
from .schema import REFUSED, conflict

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
        raise serializers.ValidationError(
            _("Enter the duration as text or as a number of hours. {hint}").format(hint=HINT))

    @staticmethod
    def _hours_to_minutes(number) -> int:
        try:
            hours = Decimal(str(number))
        except InvalidOperation:
            hours = Decimal("NaN")
        if not hours.is_finite():
            raise ValidationError(_("Enter a number of hours. {hint}").format(hint=HINT))
        # Beyond a day every number gets the same refusal; bounding first keeps the arithmetic exact.
        hours = max(min(hours, Decimal(25)), Decimal(-1))
        minutes = int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        check_minutes(minutes)
        return minutes

    def to_representation(self, minutes):
        return minutes


# The most entries one approve, reject or write-off takes: a week of To Approve for a large team, and
# far below the bound parameters a query may hold (SQLite: 32,766).
MAX_IDS = 10_000
IDS_HINT = gettext_lazy("Give the timesheets as a list of ids, e.g. [12, 13].")


@extend_schema_field({"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                      "minItems": 1, "maxItems": MAX_IDS})
class TimesheetIdsField(serializers.Field):
    """A list of time entry ids, refused as a whole with one message (not one per item of a long list).

    Strict, as the services are: `"12"`, `12.0` or `true` is no id.
    """

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError(IDS_HINT)
        if not data:
            raise serializers.ValidationError(_("Choose at least one timesheet."))
        if len(data) > MAX_IDS:
            raise serializers.ValidationError(
                _("Give at most {count} timesheets at once.").format(count=decimal(MAX_IDS, 0)))
        for position, value in enumerate(data, 1):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
                raise serializers.ValidationError(
                    _("Item {position} is not a timesheet id. {hint}").format(position=position, hint=IDS_HINT))
        return data

    def to_representation(self, value):
        return value


def reason_field(why) -> serializers.CharField:
    """Return a required reason, refused when missing or blank with `why` (a whole sentence, lazily translated)."""
    return serializers.CharField(max_length=REASON_LIMIT, error_messages={"required": why, "blank": why, "null": why})


class ApproveSerializer(serializers.Serializer):
    ids = TimesheetIdsField(help_text="The entries to approve: all of them, or none if one cannot be.")


class RejectSerializer(serializers.Serializer):
    ids = TimesheetIdsField(help_text="The entries to reject: all of them, or none if one cannot be.")
    reason = reason_field(gettext_lazy("Give the reason for rejecting."))


class ApprovedSerializer(serializers.Serializer):
    approved = serializers.IntegerField(help_text="How many entries changed (already approved ones do not).")


class RejectedSerializer(serializers.Serializer):
    rejected = serializers.IntegerField(help_text="How many entries changed.")


class TimeEntrySerializer(serializers.ModelSerializer):
    """A time entry as read. `duration` reads as H:MM; `sale_line` null means non-billable.

    `approval` and `written_off` change only through approve, reject, reinstate and an invoice's
    write-off; sent when logging or editing, they are ignored like every read-only field.
    """

    duration = serializers.CharField(read_only=True, help_text="H:MM")
    hours = serializers.SerializerMethodField()
    invoice = serializers.SerializerMethodField(help_text="The live invoice billing this entry.")
    review = ReviewField(help_text="The customer's acknowledgement or dispute (the portal), and its resolution; "
                                   "null if none.")

    class Meta:
        model = TimeEntry
        fields = ["id", "date", "user", "description", "duration", "minutes", "billable_minutes", "hours",
                  "ticket", "task", "project", "work_type", "sale_line", "invoice", "invoice_line",
                  "approval", "approval_note", "written_off", "write_off_reason", "held", "review"]
        read_only_fields = fields
        extra_kwargs = {"approval_note": {"help_text": "Why a manager rejected it."},
                        "written_off": {"help_text": '"No charge": taken off an invoice; bills 0 until reinstated.'},
                        "held": {"help_text": "Disputed by the customer and held: bills 0, out of Delivered and "
                                              "invoices until resolved (POST /timesheets/{id}/resolve/)."}}

    @extend_schema_field(serializers.DecimalField(max_digits=5, decimal_places=2))
    def get_hours(self, entry) -> str:
        return f"{minutes_to_qty(entry.minutes, HOUR):.2f}"

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_invoice(self, entry) -> int | None:
        return entry.invoice_line.invoice_id if entry.invoice_line_id else None


class TicketReference(serializers.PrimaryKeyRelatedField):
    """A ticket by id, not read here: logging reads it once, among the user's tickets, under its lock
    (timesheet_log's `tickets`); one the user may not see is refused there as unknown, as here before."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= pk <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return Ticket(pk=pk)


def unknown_ticket(pk) -> serializers.ValidationError:
    return serializers.ValidationError({"ticket": [TicketReference.default_error_messages["does_not_exist"].format(
        pk_value=pk)]})


class TimeEntryWriteSerializer(serializers.Serializer):
    """Log or change time. `sale_line` given sets the entry's line by hand; null returns it to its default.
    `work_type` omitted or null when logging is the ticket's team's default work type; a non-billable one
    bills no line."""

    date = serializers.DateField(required=False, help_text="Defaults to today.")
    user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), required=False,
                                              help_text="Defaults to you; managers log for others.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)
    duration = DurationField()
    ticket = TicketReference(queryset=Ticket.objects.none(), required=False, allow_null=True)
    task = serializers.PrimaryKeyRelatedField(queryset=Task.objects.none(), required=False, allow_null=True)
    sale_line = serializers.PrimaryKeyRelatedField(
        queryset=SaleOrderLine.objects.select_related("order", "product"), required=False, allow_null=True)
    work_type = serializers.PrimaryKeyRelatedField(
        queryset=WorkType.objects.all(), required=False, allow_null=True,
        help_text="Logging: omitted or null is the team's default. Editing: null is none.")

    def get_fields(self):
        fields = super().get_fields()
        user = self.context["request"].user
        if not user.is_authenticated:  # the schema generator's request
            return fields
        # Time goes on the tickets and tasks the user may see (the ticket is read by the service, among them).
        fields["ticket"].queryset = tickets_for(user=user)
        tasks = Task.objects.select_related("project")
        fields["task"].queryset = tasks if sees_everything(user) else tasks.filter(project__in=projects_for(user=user))
        return fields


class ResolveSerializer(serializers.Serializer):
    """How a dispute ends, with the answer the customer reads; a correction gives the duration to bill instead."""

    resolution = serializers.ChoiceField(choices=CustomerReview.Resolution.choices, error_messages={
        "invalid_choice": gettext_lazy("Choose kept, written_off or corrected.")},
        help_text="`kept`: bills as logged; `written_off`: bills nothing (No charge); `corrected`: bills the duration "
                  "given.")
    answer = serializers.CharField(max_length=ANSWER_LIMIT, help_text="The answer the customer reads on the portal.",
                                   error_messages={key: gettext_lazy("Give the customer an answer.")
                                                   for key in ("required", "blank", "null")})
    duration = DurationField(required=False, help_text="`corrected` only: the duration to bill instead.")
    minutes = serializers.IntegerField(required=False, max_value=MAX_MINUTES,
                                       error_messages={"max_value": gettext_lazy(
                                           "A single time entry cannot exceed 24 hours (24:00).")},
                                       help_text="`corrected` only: whole minutes instead of `duration`.")

    def validate(self, data):
        given = [name for name in ("duration", "minutes") if name in data]
        if len(given) == 2:
            raise serializers.ValidationError({"duration": [_("Give the duration, or the minutes: one of them.")]})
        if data["resolution"] == CustomerReview.Resolution.CORRECTED and not given:
            raise serializers.ValidationError({"duration": [_("Give the corrected duration.")]})
        if data["resolution"] != CustomerReview.Resolution.CORRECTED and given:
            raise serializers.ValidationError({given[0]: [_("Only a correction takes a duration.")]})
        return data


INVOICED = conflict("You cannot modify timesheets that are already invoiced.")
LOCKED = conflict("Invoiced, or approved and you are not a manager.")
ApproversOnly = writers("timesheets.approve", gettext_lazy("Only managers approve and reject time."))
ReinstatersOnly = writers("timesheets.reinstate", gettext_lazy("Only managers reinstate written-off time."))


class TimeEntryViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Timesheets: agents log their time on their teams' tickets and tasks; Delivered follows.

    Managers approve or reject others' time (`approval`); on a team invoicing "Approved timesheets only",
    Delivered counts approved time only. Time written off an invoice (`written_off`) bills nothing until
    a manager reinstates it. Dates up to the Timesheets lock date are for managers only.
    """

    serializer_class = TimeEntrySerializer
    permission_classes = [TimesheetsWrite]
    filterset_class = TimeEntryFilter
    ordering_fields = ["id", "date", "minutes"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if not self.request.user.is_authenticated:  # the schema generator's request
            return TimeEntry.objects.none()
        return time_entries_for(user=self.request.user).select_related("review")

    def _answer(self, entry, status_code=status.HTTP_200_OK, *, reviewed=True):
        # The entry as the service left it: the answer needs only its own fields and ids, no query; and its
        # review, unless the entry is new (it has none).
        if not reviewed:
            TimeEntry.review.related.set_cached_value(entry, None)
        return Response(TimeEntrySerializer(entry, context=self.get_serializer_context()).data, status=status_code)

    def _editable(self, entry):
        if not self.request.user.has_perm("timesheets.change_timeentry", entry):
            raise PermissionDenied(_("You can only change your own time."))
        return entry

    @extend_schema(request=TimeEntryWriteSerializer, responses={201: TimeEntrySerializer})
    def create(self, request, *args, **kwargs):
        """Log time on a ticket and/or a task."""
        serializer = TimeEntryWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = data.get("user", request.user)
        if not request.user.has_perm("timesheets.log_time_for", user):
            raise PermissionDenied(_("You can only log your own time."))
        try:
            entry = timesheet_log(
                user=user, date=data.get("date", timezone.localdate()), minutes=data["duration"],
                description=data.get("description", ""), ticket=data.get("ticket"), task=data.get("task"),
                sale_line=data.get("sale_line"), work_type=data.get("work_type"), actor=request.user,
                tickets=tickets_for(user=request.user))
        except ValidationError as e:
            raise renamed(e, API_FIELDS) from e
        except Ticket.DoesNotExist:
            raise unknown_ticket(request.data.get("ticket")) from None
        return self._answer(entry, status.HTTP_201_CREATED, reviewed=False)

    @extend_schema(request=TimeEntryWriteSerializer, responses={200: TimeEntrySerializer, 409: LOCKED})
    def partial_update(self, request, *args, **kwargs):
        """Change the date, duration, description, work type or Sales Order Item of an entry not yet invoiced.

        An approved entry is a manager's to change (it stays approved); a rejected one goes back to be approved."""
        entry = self._editable(self.get_object())
        serializer = TimeEntryWriteSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        fixed = {"user": entry.user, "ticket": entry.ticket, "task": entry.task}
        moved = {name: [_("Log the time again instead: an entry keeps its agent, ticket and task.")]
                 for name, value in fixed.items() if name in data and data[name] != value}
        if moved:
            raise serializers.ValidationError(moved)
        changes = {name: data[name] for name in ("date", "description", "sale_line", "work_type") if name in data}
        if "duration" in data:
            changes["minutes"] = data["duration"]
        try:
            entry = timesheet_update(entry=entry, **changes, actor=request.user)
        except ValidationError as e:
            raise renamed(e, API_FIELDS) from e
        return self._answer(entry)

    @extend_schema(responses={204: None, 409: LOCKED})
    def destroy(self, request, *args, **kwargs):
        """Delete an entry not yet invoiced; its line's Delivered drops with it."""
        timesheet_delete(entry=self._editable(self.get_object()), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ApproveSerializer, responses={200: ApprovedSerializer, 400: REFUSED})
    @action(detail=False, methods=["post"], permission_classes=[ApproversOnly])
    def approve(self, request):
        """Approve others' time, all or none: a 400 names the entries that cannot be (not found, your own)."""
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = timesheets_approve(ids=serializer.validated_data["ids"], actor=request.user)
        return Response({"approved": count})

    @extend_schema(request=RejectSerializer, responses={200: RejectedSerializer, 400: REFUSED})
    @action(detail=False, methods=["post"], permission_classes=[ApproversOnly])
    def reject(self, request):
        """Reject others' time with a reason its agents see, all or none; invoiced time is refused."""
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        count = timesheets_reject(ids=data["ids"], reason=data["reason"], actor=request.user)
        return Response({"rejected": count})

    @extend_schema(request=None, responses={200: TimeEntrySerializer,
                                            409: conflict("Not written off, or invoiced.")})
    @action(detail=True, methods=["post"], permission_classes=[ReinstatersOnly])
    def reinstate(self, request, pk=None):
        """Undo a write-off: the entry bills again and is to invoice with its line."""
        return self._answer(timesheet_reinstate(entry=self.get_object(), actor=request.user))

    @extend_schema(request=ResolveSerializer, responses={
        200: TimeEntrySerializer, 400: REFUSED, 409: conflict("No open dispute on the entry, or it is invoiced.")})
    @action(detail=True, methods=["post"], permission_classes=[Resolvers])
    def resolve(self, request, pk=None):
        """Resolve the customer's dispute of the entry, with an answer they read on the portal: keep it as logged,
        write it off (No charge), or correct its duration. It is no longer held and bills again as any other."""
        entry = self.get_object()
        given = ResolveSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        minutes = data.get("duration", data.get("minutes"))
        try:
            dispute_resolve(entry=entry, resolution=data["resolution"], answer=data["answer"], minutes=minutes,
                            actor=request.user)
        except ValidationError as e:
            raise renamed(e, API_FIELDS if "duration" in data else {}) from e
        return self._answer(self.get_queryset().get(pk=entry.pk))
