"""Tickets: agents see and work their teams' tickets (file, correct, assign, link a task and a Sales Order
Item, move the status) and read their History; a manager moves a ticket with its time to another customer."""

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from audit.selectors import audit_events_for
from sales.units import HOUR, minutes_to_qty
from tickets.models import Ticket, TicketMessage
from tickets.selectors import assignable_people, teams_for, ticket_messages, tickets_for, with_minutes_spent
from tickets.services import (
    ticket_assign,
    ticket_create,
    ticket_link_task,
    ticket_message_add,
    ticket_set_customer,
    ticket_set_sale_line,
    ticket_set_status,
)

from .filters import TicketFilter
from .parsers import ReadsItsBody
from .permissions import TicketsWrite, writers
from .saving import model_save
from .schema import REFUSED, conflict

CUSTOMER_FIXED = _("Time is logged on this ticket, so its customer is fixed: a manager can move the ticket "
                  "and its time to another customer.")


class TicketSerializer(serializers.ModelSerializer):
    hours_spent = serializers.SerializerMethodField(help_text="Time logged on the ticket, in hours.")

    class Meta:
        model = Ticket
        fields = ["id", "team", "customer", "title", "description", "status", "assignee", "task", "sale_line",
                  "hours_spent"]
        # ticket_link_task says it better than the generic uniqueness check.
        extra_kwargs = {"task": {"validators": []}}

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and "team" in fields:
            # An agent files tickets in the teams they belong to.
            fields["team"].queryset = teams_for(user=request.user)
            # Only people a ticket of those teams may go to: any other id is unknown, as if there were none,
            # so the service's refusal (which names the person) never tells an agent who an id is.
            fields["assignee"].queryset = assignable_people(teams_for(user=request.user))
        return fields

    def validate_customer(self, customer):
        ticket = self.instance
        user = self.context["request"].user
        if ticket is not None and customer != ticket.customer and not user.has_perm(
                "tickets.change_ticket_customer", ticket):
            raise serializers.ValidationError(CUSTOMER_FIXED)
        return customer

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_hours_spent(self, ticket) -> str:
        minutes = getattr(ticket, "minutes_spent", None)
        if minutes is None:
            minutes = ticket.time_entries.aggregate(m=Sum("minutes"))["m"] or 0
        return f"{minutes_to_qty(minutes, HOUR):.2f}"

    @transaction.atomic
    def create(self, validated_data):
        """File the ticket (the service checks the assignee), then move its status: both with who did it."""
        data = dict(validated_data)
        actor = self.context["request"].user
        status = data.pop("status", Ticket.Status.NEW)
        ticket = ticket_create(**data, actor=actor)
        if status != ticket.status:
            ticket = ticket_set_status(ticket=ticket, status=status, actor=actor)
        return ticket

    @transaction.atomic
    def update(self, ticket, validated_data):
        """Move the ticket to its new customer, save the plain fields, then assign it and link the task, the
        Sales Order Item and the status through their services."""
        actor = self.context["request"].user
        if "customer" in validated_data and validated_data["customer"] != ticket.customer:
            line = {"sale_line": validated_data["sale_line"]} if "sale_line" in validated_data else {}
            ticket = ticket_set_customer(ticket=ticket, customer=validated_data["customer"], **line, actor=actor)
        plain = {name: value for name, value in validated_data.items()
                 if name in ("team", "title", "description")
                 and value != getattr(ticket, name)}
        if plain:
            for name, value in plain.items():
                setattr(ticket, name, value)
            model_save(ticket)
        if "assignee" in validated_data and validated_data["assignee"] != ticket.assignee:
            ticket = ticket_assign(ticket=ticket, assignee=validated_data["assignee"], actor=actor)
        if "task" in validated_data and validated_data["task"] != ticket.task:
            ticket = ticket_link_task(ticket=ticket, task=validated_data["task"])
        if "sale_line" in validated_data and validated_data["sale_line"] != ticket.sale_line:
            ticket = ticket_set_sale_line(ticket=ticket, sale_line=validated_data["sale_line"])
        if "status" in validated_data and validated_data["status"] != ticket.status:
            ticket = ticket_set_status(ticket=ticket, status=validated_data["status"], actor=actor)
        return ticket


class TicketEventSerializer(serializers.Serializer):
    """One line of a ticket's History."""

    at = serializers.DateTimeField(help_text="When.")
    actor = serializers.CharField(source="actor_name", help_text="Who: their username as it was then; empty for a "
                                                                 "change made outside a request (a command).")
    action = serializers.CharField(help_text="`ticket.created`, `ticket.assigned`, `ticket.status_changed` or "
                                             "`ticket.customer_changed`.")
    sentence = serializers.CharField(help_text='What, as the History reads it: "Status changed from New to '
                                               'In Progress".')
    changes = serializers.JSONField(help_text='The figures recorded: {"field": [before, after]} for a change.')


class TicketMessageSerializer(serializers.ModelSerializer):
    """A message on a ticket: from the customer's contact (on the portal) or from the support team."""

    author_name = serializers.SerializerMethodField(help_text="The author's full name, else their username.")

    class Meta:
        model = TicketMessage
        fields = ["id", "created_at", "author", "author_name", "from_customer", "body"]
        read_only_fields = fields

    def get_author_name(self, message) -> str:
        return message.author.get_full_name() or message.author.username


class TicketMessageInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10_000, help_text="The message the customer reads on the portal.")


MessageWriters = writers("tickets.post_message", _("Only agents of the ticket's team and managers write to the "
                                                   "customer."))


class TicketViewSet(ReadsItsBody, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Tickets: agents see and work their teams' tickets; `hours_spent` is the time logged on them."""

    serializer_class = TicketSerializer
    permission_classes = [TicketsWrite]
    filterset_class = TicketFilter
    ordering_fields = ["id", "created_at", "title", "status"]

    def get_queryset(self):
        if not self.request.user.is_authenticated:  # the schema generator's request
            return Ticket.objects.none()
        tickets = tickets_for(user=self.request.user)
        if self.action == "list":
            # The answer holds the related records' ids only (no join needed), and planning the five joins
            # cost more than running the query: 15 ms on 50,000 tickets against 1.5 ms on 50.
            tickets = tickets.select_related(None)
        # The hours as a correlated sum of the page's rows: a GROUP BY over the entries would read every
        # matching ticket's entries, for the page and again for its COUNT.
        return with_minutes_spent(tickets).order_by("-pk")

    @extend_schema(responses={200: TicketEventSerializer(many=True)})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, pk=None):
        """The ticket's History, oldest first: who filed it, assigned it, changed its status or moved it to
        another customer, and when."""
        ticket = self.get_object()
        return Response(TicketEventSerializer(audit_events_for(obj=ticket), many=True).data)

    @extend_schema(methods=["GET"], request=None, responses={200: TicketMessageSerializer(many=True)})
    @extend_schema(methods=["POST"], request=TicketMessageInputSerializer, responses={
        201: TicketMessageSerializer, 400: REFUSED,
        409: conflict("The ticket is solved or closed: messages go on open tickets.")})
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None,
            permission_classes=[MessageWriters])
    def messages(self, request, pk=None):
        """The ticket's messages with its customer, oldest first (GET), as the portal shows them; or one to the
        customer added to an open ticket (POST: agents of its team, managers)."""
        ticket = self.get_object()
        if request.method == "GET":
            return Response(TicketMessageSerializer(ticket_messages(ticket=ticket), many=True).data)
        given = TicketMessageInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        message = ticket_message_add(ticket=ticket, author=request.user, body=given.validated_data["body"])
        return Response(TicketMessageSerializer(message).data, status=status.HTTP_201_CREATED)
