"""The customer portal's API (/api/v1/portal/, issue 18): what a customer's contact sees and does, by token or
session, as on the portal's screens.

Only contacts get in (`portal.use`, with an active Contact): staff get a 403 saying so, and a contact never reaches
the rest of the API (api.authentication). Every row is their customer's, read through the `contact_*` selectors:
another customer's ticket, timesheet or invoice is a 404, as if it did not exist. The services do the work and
audit it: a ticket opened for a team that accepts portal tickets, a message on an open ticket, a timesheet not yet
invoiced acknowledged or disputed. Who logged each timesheet, and who wrote each of the support team's messages,
is their name when the company's "portal shows agents' names" says so, else "Support team".
"""

from django.conf import settings
from django.db.models import OuterRef, Prefetch, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.languages import CODES
from core.models import Preferences
from core.roles import is_contact
from invoicing.models import Invoice, InvoiceLine
from invoicing.selectors import contact_invoices
from sales.contacts import name_for_contact, staff_name_for_contact
from sales.models import Company, SaleOrderLine, ServicePolicy, WorkType
from sales.selectors import contact_lines, contact_of
from tickets.models import HelpdeskTeam, Ticket, TicketMessage
from tickets.selectors import contact_tickets, portal_teams, ticket_messages
from tickets.services import ticket_message_add, ticket_open_from_portal
from timesheets.disputes import entry_acknowledge, entry_dispute
from timesheets.durations import format_minutes
from timesheets.models import TimeEntry
from timesheets.selectors import contact_entries

from .disputes import CustomerReviewSerializer, review_of
from .filters import IdFilter
from .invoices import PDFRenderer, pdf_answer
from .parsers import ReadsItsBody
from .schema import REFUSED, ErrorSerializer, conflict

QUANTITY = {"max_digits": 12, "decimal_places": 2, "read_only": True}
MONEY = {"max_digits": 14, "decimal_places": 2, "read_only": True}


class PortalPermission(BasePermission):
    """A customer's contact with portal access: `portal.use` and an active Contact, kept on the view."""

    message = gettext_lazy("The portal's API is for customers' contacts: staff use the rest of /api/v1/.")

    def has_permission(self, request, view):
        user = request.user
        if not user.is_authenticated or not is_contact(user) or not user.has_perm("portal.use"):
            return False
        view.contact = contact_of(user)
        if view.contact is None:
            self.message = gettext_lazy("Your portal access is closed: ask your support company.")
            return False
        return True


class PortalView(ReadsItsBody):
    """The portal's views: contacts only (`contact`, set by the permission), their customer's rows only."""

    permission_classes = [PortalPermission]
    contact = None

    def names_context(self) -> dict:
        """The serializer's context, with whether agents' names are shown (the company's setting: one query)."""
        return {**self.get_serializer_context(), "shows_agents": Company.current().portal_shows_agents,
                "customer_id": self.contact.customer_id}


# --- Me, teams ------------------------------------------------------------------------------------

class PortalMeSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Your full name, else your email address.")
    email = serializers.EmailField()
    customer = serializers.CharField(help_text="Your customer's name.")
    language = serializers.ChoiceField(choices=settings.LANGUAGES,
                                       help_text="The language you chose, else your customer's, else English.")


class PortalMeView(PortalView, APIView):
    """Who you are on the portal: your name, email, customer and language."""

    @extend_schema(responses={200: PortalMeSerializer})
    def get(self, request):
        contact, user = self.contact, request.user
        saved = getattr(user, "saved_language", None)  # read with a session's user, not with a token's
        if saved is None:
            saved = Preferences.objects.filter(user=user).values_list("language", flat=True).first()
        language = next((code for code in (saved, contact.customer.language) if code in CODES),
                        settings.LANGUAGE_CODE)
        return Response(PortalMeSerializer({"name": contact.name, "email": user.email,
                                            "customer": contact.customer.name, "language": language}).data)


class PortalTeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = HelpdeskTeam
        fields = ["id", "name"]
        read_only_fields = fields


class PortalTeamViewSet(PortalView, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The teams you may open a ticket for."""

    serializer_class = PortalTeamSerializer
    ordering_fields = ["id", "name"]

    def get_queryset(self):
        if self.contact is None:
            return HelpdeskTeam.objects.none()
        return portal_teams().order_by("name", "pk")


# --- Tickets and their messages ------------------------------------------------------------------

def _entry_minutes(*, invoiced: bool):
    """The billable minutes of each ticket's time a contact sees, on an invoice or not yet: a correlated sum,
    computed for the page's rows only."""
    entries = (TimeEntry.objects.filter(ticket=OuterRef("pk"), invoice_line__isnull=not invoiced)
               .exclude(work_type__billing=WorkType.Billing.NON_BILLABLE)
               .exclude(approval=TimeEntry.Approval.REJECTED)
               .order_by().values("ticket").annotate(minutes=Sum("billable_minutes")).values("minutes"))
    return Coalesce(Subquery(entries), 0)


class PortalTicketSerializer(serializers.ModelSerializer):
    team_name = serializers.CharField(source="team.name", read_only=True)
    open = serializers.BooleanField(source="is_open", read_only=True,
                                    help_text="Not solved nor closed: messages may be added.")
    minutes_billed = serializers.IntegerField(read_only=True, help_text="The billable minutes of its timesheets on "
                                                                        "an invoice (before any rounding per ticket).")
    minutes_to_bill = serializers.IntegerField(read_only=True, help_text="The billable minutes of its timesheets not "
                                                                         "invoiced yet (held disputed time: none).")

    class Meta:
        model = Ticket
        fields = ["id", "title", "status", "team", "team_name", "created_at", "description", "open", "minutes_billed",
                  "minutes_to_bill"]
        read_only_fields = fields


class PortalTicketCreateSerializer(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=HelpdeskTeam.objects.none(), help_text="A team of GET /portal/teams/.",
        error_messages={"does_not_exist": gettext_lazy("Choose a team that accepts tickets from the portal.")})
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)

    def get_fields(self):
        fields = super().get_fields()
        fields["team"].queryset = portal_teams()
        return fields


class PortalMessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField(help_text='A contact\'s name; the support team\'s people by name, or '
                                                         '"Support team" (the company\'s setting).')

    class Meta:
        model = TicketMessage
        fields = ["id", "created_at", "from_customer", "author", "body"]
        read_only_fields = fields

    def get_author(self, message) -> str:
        return name_for_contact(message.author, customer_id=self.context["customer_id"],
                                shows_agents=self.context["shows_agents"])


class MessageInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10_000, help_text="The message.")


class PortalTicketFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Ticket.Status.choices, help_text="Tickets of this status.")

    class Meta:
        model = Ticket
        fields = ["status"]


CLOSED_TICKET = conflict("The ticket is solved or closed: messages go on open tickets.")


class PortalTicketViewSet(PortalView, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your customer's tickets, every team's, newest first, with the time billed and not yet billed; a new ticket for
    a team that accepts portal tickets; the messages of a ticket, and yours added to an open one."""

    serializer_class = PortalTicketSerializer
    filterset_class = PortalTicketFilter
    ordering_fields = ["id", "created_at", "status"]

    def get_queryset(self):
        if self.contact is None:
            return Ticket.objects.none()
        return (contact_tickets(contact=self.contact).annotate(
            minutes_billed=_entry_minutes(invoiced=True), minutes_to_bill=_entry_minutes(invoiced=False))
            .order_by("-pk"))

    @extend_schema(request=PortalTicketCreateSerializer, responses={201: PortalTicketSerializer, 400: REFUSED})
    def create(self, request):
        """Open a ticket for your customer: new and unassigned, the team picks it up."""
        given = PortalTicketCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        ticket = ticket_open_from_portal(contact=self.contact, team=data["team"], title=data["title"],
                                         description=data.get("description", ""))
        return Response(self.get_serializer(self.get_queryset().get(pk=ticket.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], request=None, responses={200: PortalMessageSerializer(many=True)})
    @extend_schema(methods=["POST"], request=MessageInputSerializer,
                   responses={201: PortalMessageSerializer, 400: REFUSED, 409: CLOSED_TICKET})
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def messages(self, request, pk=None):
        """The ticket's messages, oldest first (GET); or add yours to an open ticket (POST)."""
        ticket = self.get_object()
        context = self.names_context()
        if request.method == "GET":
            return Response(PortalMessageSerializer(ticket_messages(ticket=ticket), many=True, context=context).data)
        given = MessageInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        message = ticket_message_add(ticket=ticket, author=request.user, body=given.validated_data["body"])
        return Response(PortalMessageSerializer(message, context=context).data, status=status.HTTP_201_CREATED)


# --- Timesheets: read, acknowledged, disputed ---------------------------------------------------

class PortalTimesheetSerializer(serializers.ModelSerializer):
    duration = serializers.SerializerMethodField(help_text="H:MM")
    agent = serializers.SerializerMethodField(help_text='Who logged it, or "Support team" (the company\'s setting).')
    invoiced = serializers.SerializerMethodField(help_text="On an invoice: no longer acknowledged or disputed.")
    invoice = serializers.SerializerMethodField(help_text="The posted invoice billing it (GET /portal/invoices/{id}/); "
                                                          "null until it is posted.")
    invoice_number = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField(help_text="Your acknowledgement or dispute, and its answer; null if "
                                                         "none.")

    class Meta:
        model = TimeEntry
        fields = ["id", "date", "ticket", "description", "minutes", "duration", "agent", "invoiced", "invoice",
                  "invoice_number", "held", "review"]
        read_only_fields = fields
        extra_kwargs = {"held": {"help_text": "Disputed, and held out of invoices until the dispute is resolved."}}

    def get_duration(self, entry) -> str:
        return format_minutes(entry.minutes)

    def get_agent(self, entry) -> str:
        return staff_name_for_contact(entry.user, shows_agents=self.context["shows_agents"])

    def get_invoiced(self, entry) -> bool:
        return entry.invoice_line_id is not None

    def _posted(self, entry) -> Invoice | None:
        invoice = entry.invoice_line.invoice if entry.invoice_line_id else None
        return invoice if invoice is not None and invoice.state == Invoice.State.POSTED else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_invoice(self, entry) -> int | None:
        invoice = self._posted(entry)
        return invoice.pk if invoice else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_invoice_number(self, entry) -> str | None:
        invoice = self._posted(entry)
        return invoice.number if invoice else None

    @extend_schema_field(CustomerReviewSerializer(allow_null=True))
    def get_review(self, entry):
        review = review_of(entry)
        return None if review is None else CustomerReviewSerializer(review).data


class DisputeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500, help_text="Why you dispute this time: the support company reads it and answers.",
        error_messages={key: gettext_lazy("Say why you dispute this time.") for key in ("required", "blank", "null")})


class PortalTimesheetFilter(filters.FilterSet):
    ticket = IdFilter(help_text="The time of this ticket.")

    class Meta:
        model = TimeEntry
        fields = ["ticket"]


REVIEW_REFUSED = conflict("Invoiced, written off or not billed, already disputed, or its dispute resolved.")


class PortalTimesheetViewSet(PortalView, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The time logged on your customer's tickets (not internal time), newest first, with your review of each:
    acknowledge an entry not yet invoiced, or dispute it with a reason (held out of invoices until answered, when
    the team says so)."""

    serializer_class = PortalTimesheetSerializer
    filterset_class = PortalTimesheetFilter
    ordering_fields = ["id", "date", "minutes"]

    def get_queryset(self):
        if self.contact is None:
            return TimeEntry.objects.none()
        return contact_entries(contact=self.contact).order_by("-date", "-pk")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.contact is not None:
            context["shows_agents"] = Company.current().portal_shows_agents
        return context

    def _answer(self, entry):
        return Response(self.get_serializer(self.get_queryset().get(pk=entry.pk)).data)

    @extend_schema(request=None, responses={200: PortalTimesheetSerializer, 409: REVIEW_REFUSED})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Agree to the entry as logged (not yet invoiced); nothing changes in what it bills."""
        entry = self.get_object()
        entry_acknowledge(entry=entry, contact=self.contact)
        return self._answer(entry)

    @extend_schema(request=DisputeInputSerializer,
                   responses={200: PortalTimesheetSerializer, 400: REFUSED, 409: REVIEW_REFUSED})
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        """Dispute the entry (not yet invoiced), saying why; an accountant answers: kept, written off or corrected."""
        entry = self.get_object()
        given = DisputeInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        entry_dispute(entry=entry, contact=self.contact, reason=given.validated_data["reason"])
        return self._answer(entry)


# --- Hours: the order lines -------------------------------------------------------------------

class PortalLineSerializer(serializers.ModelSerializer):
    order_name = serializers.CharField(source="order.name", read_only=True)
    name = serializers.SerializerMethodField(help_text="The line's description, else its product's name.")
    product = serializers.CharField(source="product.name", read_only=True)
    unit = serializers.CharField(source="uom", read_only=True, help_text="`hour` or `day`: the unit of the "
                                                                         "quantities.")
    ordered = serializers.DecimalField(source="quantity", **QUANTITY)
    delivered = serializers.DecimalField(**QUANTITY, help_text="The time spent against it (disputed time held: not "
                                                               "counted).")
    invoiced = serializers.DecimalField(**QUANTITY)
    to_invoice = serializers.DecimalField(**QUANTITY)
    prepaid = serializers.SerializerMethodField(help_text="A prepaid block of time.")
    remaining = serializers.SerializerMethodField(help_text="Prepaid lines: ordered less delivered, in the line's "
                                                            "unit; null for other lines.")

    class Meta:
        model = SaleOrderLine
        fields = ["id", "order", "order_name", "name", "product", "unit", "ordered", "delivered", "invoiced",
                  "to_invoice", "prepaid", "remaining"]
        read_only_fields = fields

    def get_name(self, line) -> str:
        return line.name or line.product.name

    def get_prepaid(self, line) -> bool:
        return line.policy == ServicePolicy.ORDERED_PREPAID

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True))
    def get_remaining(self, line) -> str | None:
        if not self.get_prepaid(line):
            return None
        return serializers.DecimalField(**QUANTITY).to_representation(line.remaining)


class PortalLineViewSet(PortalView, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your customer's confirmed orders' lines: ordered, delivered, invoiced and to invoice, in each line's unit;
    for a prepaid block, what remains."""

    serializer_class = PortalLineSerializer
    filter_backends = []

    def get_queryset(self):
        if self.contact is None:
            return SaleOrderLine.objects.none()
        return contact_lines(contact=self.contact)


# --- Invoices and credit notes ----------------------------------------------------------------

class PortalInvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["id", "name", "quantity", "uom", "price_unit", "tax_rate", "amount_untaxed", "amount_tax",
                  "minutes", "explanation"]
        read_only_fields = fields
        extra_kwargs = {"minutes": {"help_text": "Minutes billed, rounding included."},
                        "explanation": {"help_text": "What the line bills and why, as the invoice shows it."}}


class PortalInvoiceSerializer(serializers.ModelSerializer):
    """An invoice or credit note as the customer received it; `amount_residual` is what is left to pay (to refund,
    on a credit note)."""

    lines = PortalInvoiceLineSerializer(many=True, read_only=True)
    is_overdue = serializers.BooleanField(read_only=True, help_text="Past its due date, not paid in full.")

    class Meta:
        model = Invoice
        fields = ["id", "number", "kind", "state", "invoice_date", "due_date", "refers", "currency", "amount_untaxed",
                  "amount_tax", "amount_total", "payment_state", "amount_paid", "amount_residual", "is_overdue",
                  "payment_reference", "lines"]
        read_only_fields = fields
        extra_kwargs = {"refers": {"help_text": "A credit note's invoice."},
                        "payment_reference": {"help_text": "The structured reference to quote when paying."}}


class PortalInvoiceViewSet(PortalView, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your customer's invoices and credit notes, newest first, with their lines, payment state and due date; each
    one's PDF."""

    serializer_class = PortalInvoiceSerializer
    ordering_fields = ["id", "number", "invoice_date"]
    filterset_fields = ["kind", "payment_state"]

    def get_queryset(self):
        if self.contact is None:
            return Invoice.objects.none()
        return contact_invoices(contact=self.contact).prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("pk")))

    @extend_schema(responses={
        (200, "application/pdf"): OpenApiTypes.BINARY,
        202: OpenApiResponse(ErrorSerializer, description="PDF being prepared: ask again after Retry-After seconds."),
        503: OpenApiResponse(ErrorSerializer, description="The stored PDF is missing from storage.")})
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, PDFRenderer])
    def pdf(self, request, pk=None):
        """The invoice's PDF, as it was sent: the stored file of a posted invoice."""
        return pdf_answer(self.get_object())

