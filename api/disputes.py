"""Customers' reviews of their time (issue 18), as the staff read them: the open disputes an accountant or a manager
resolves (`GET /disputes/?order=&ticket=`), and each entry's review on the timesheets (`review`, `held`).

Resolving is an action of the timesheet (`POST /timesheets/{id}/resolve/`, api.timesheets), which calls
`timesheets.disputes.dispute_resolve`: keep, write off or correct, with an answer the customer reads.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets

from core.limits import MAX_ID
from timesheets.durations import format_minutes
from timesheets.models import CustomerReview, TimeEntry
from timesheets.selectors import open_disputes

from .parsers import ReadsItsBody
from .permissions import needs
from .schema import REFUSED

Resolvers = needs("timesheets.resolve_dispute", _("Only accountants and managers resolve disputed time."))


def person(user) -> str:
    """A user as the staff read them: their full name, else their username."""
    return user.get_full_name() or user.username


class CustomerReviewSerializer(serializers.ModelSerializer):
    """What the customer's contact said of an entry, and how the dispute was resolved: what the customer reads."""

    resolution = serializers.ChoiceField(choices=CustomerReview.Resolution.choices, allow_blank=True, read_only=True,
                                         help_text="`kept`, `written_off` or `corrected`; empty until resolved.")

    class Meta:
        model = CustomerReview
        fields = ["state", "reason", "resolution", "answer", "minutes_before", "at", "resolved_at"]
        read_only_fields = fields
        extra_kwargs = {
            "state": {"help_text": "`acknowledged` (agreed as logged), `disputed` (open), `resolved`."},
            "reason": {"help_text": "Why the customer disputes it."},
            "answer": {"help_text": "The answer the customer reads, given when resolving."},
            "minutes_before": {"help_text": "A correction's minutes before it; null otherwise."},
            "at": {"help_text": "When the customer acknowledged or disputed it."},
        }


def review_of(entry) -> CustomerReview | None:
    """The entry's review, or None; no query when it was read with the entry (select_related("review"))."""
    try:
        return entry.review
    except CustomerReview.DoesNotExist:
        return None


class DisputeSerializer(serializers.ModelSerializer):
    """A timesheet the customer disputes: the entry as logged and the customer's reason."""

    duration = serializers.SerializerMethodField(help_text="H:MM")
    agent = serializers.SerializerMethodField(help_text="Who logged it: their full name, else their username.")
    ticket_title = serializers.CharField(source="ticket.title", read_only=True, default=None)
    reason = serializers.CharField(source="review.reason", read_only=True, help_text="Why the customer disputes it.")
    disputed_at = serializers.DateTimeField(source="review.at", read_only=True)
    contact = serializers.SerializerMethodField(help_text="The contact who disputed it: their name, else their email.")

    class Meta:
        model = TimeEntry
        fields = ["id", "date", "user", "agent", "ticket", "ticket_title", "sale_line", "description", "minutes",
                  "duration", "billable_minutes", "held", "reason", "disputed_at", "contact"]
        read_only_fields = fields
        extra_kwargs = {"held": {"help_text": "Held out of Delivered and invoices until resolved (the team's "
                                              "\"Hold disputed time\")."},
                        "id": {"help_text": "The timesheet's id: POST /timesheets/{id}/resolve/ resolves it."}}

    def get_duration(self, entry) -> str:
        return format_minutes(entry.minutes)

    def get_agent(self, entry) -> str:
        return person(entry.user)

    def get_contact(self, entry) -> str:
        contact = entry.review.contact
        return contact.get_full_name() or contact.email


class DisputeQuerySerializer(serializers.Serializer):
    order = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                     help_text="Disputes of this sales order's lines.")
    ticket = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                      help_text="Disputes of this ticket's time.")


@extend_schema_field(CustomerReviewSerializer(allow_null=True))
class ReviewField(serializers.Field):
    """The entry's review, or null; read with the entry."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, entry):
        review = review_of(entry)
        return None if review is None else CustomerReviewSerializer(review).data


class DisputeViewSet(ReadsItsBody, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Open disputes: timesheets a customer's contact disputed on the portal, oldest first. Accountants and
    managers resolve each (POST /timesheets/{id}/resolve/)."""

    serializer_class = DisputeSerializer
    permission_classes = [Resolvers]
    filter_backends = []

    def get_queryset(self):
        query = DisputeQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return open_disputes(**query.validated_data)

    @extend_schema(parameters=[DisputeQuerySerializer], responses={200: DisputeSerializer(many=True), 400: REFUSED})
    def list(self, request, *args, **kwargs):
        """The open disputes, of one order or one ticket, or all of them."""
        return super().list(request, *args, **kwargs)
