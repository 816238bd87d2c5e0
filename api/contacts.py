"""Customers' contacts (issue 18), for managers and accountants: who may use a customer's portal, an invitation
to a new one (`POST /customers/{id}/contacts/`: an email with a link to set a password, once), the invitation sent
again, and a contact's access closed. The services do the work and audit it (sales.contacts); the link points at
the address the request came to.

Agents neither see nor invite contacts (403): a customer's people and their access are billing's business.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from sales.contacts import contact_deactivate, contact_invite, contact_reinvite
from sales.models import Contact

from .filters import IdFilter
from .parsers import ReadsItsBody
from .permissions import needs
from .schema import REFUSED, conflict

Inviters = needs("sales.invite_contact", gettext_lazy("Only managers and accountants see and invite customers' "
                                                      "contacts."))


def contacts():
    """Every contact with what its answer shows, in the page's one query."""
    return Contact.objects.select_related("user", "customer", "invited_by").order_by("customer__name", "user__email",
                                                                                      "pk")


class ContactSerializer(serializers.ModelSerializer):
    """A customer's contact: a user of the customer portal, who sees that customer's tickets, time and invoices."""

    name = serializers.CharField(read_only=True, help_text="Their full name, else their email address.")
    email = serializers.EmailField(source="user.email", read_only=True, help_text="Also their username.")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    joined = serializers.BooleanField(read_only=True, help_text="Whether they set their password (followed the "
                                                                "invitation's link).")
    active = serializers.BooleanField(source="user.is_active", read_only=True,
                                      help_text="False once their portal access is closed (deactivate).")

    class Meta:
        model = Contact
        fields = ["id", "customer", "customer_name", "name", "email", "joined", "active", "invited_at", "invited_by"]
        read_only_fields = fields
        extra_kwargs = {"invited_by": {"help_text": "The user id of whoever invited them; null if no one (a command)."}}


class ContactInviteSerializer(serializers.Serializer):
    """Whom to invite: their address is their username; the service checks it (sales.contacts.contact_invite)."""

    email = serializers.CharField(max_length=254, help_text="Their email address: the invitation goes there.")
    name = serializers.CharField(required=False, allow_blank=True, max_length=301,
                                 help_text="Their full name, e.g. \"Hank Scorpio\"; optional.")


class QueuedInvitationSerializer(serializers.Serializer):
    detail = serializers.CharField()
    to = serializers.EmailField(help_text="The contact's address the invitation goes to.")


class ContactFilter(filters.FilterSet):
    customer = IdFilter()

    class Meta:
        model = Contact
        fields = ["customer"]


def site_of(request) -> str:
    """The address the invitation's link points at: the one this request came to, as Django's password reset."""
    return request.build_absolute_uri("/")


class CustomerContacts:
    """`GET/POST /customers/{id}/contacts/`: mixed into the customers' viewset (api.configuration)."""

    @extend_schema(methods=["GET"], request=None, responses={200: ContactSerializer(many=True)})
    @extend_schema(methods=["POST"], request=ContactInviteSerializer, responses={
        201: ContactSerializer, 400: REFUSED, 409: conflict("The address already has an account.")})
    @action(detail=True, methods=["get", "post"], url_path="contacts", url_name="contacts",
            permission_classes=[Inviters], filter_backends=[], pagination_class=None)
    def contacts(self, request, pk=None):
        """The customer's contacts (GET); or invite one (POST): their account is made, without a password, and an
        email with a link to set it is queued (the link works once, for three days unless PORTAL_LINK_SECONDS says
        otherwise)."""
        customer = self.get_object()
        if request.method == "GET":
            return Response(ContactSerializer(contacts().filter(customer=customer), many=True).data)
        given = ContactInviteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        contact = contact_invite(customer=customer, email=given.validated_data["email"],
                                 name=given.validated_data.get("name", ""), site=site_of(request), actor=request.user)
        return Response(ContactSerializer(contacts().get(pk=contact.pk)).data, status=status.HTTP_201_CREATED)


class ContactViewSet(ReadsItsBody, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Customers' contacts, every customer's (`?customer=`): send an invitation again, or close a contact's portal
    access. Managers and accountants."""

    serializer_class = ContactSerializer
    permission_classes = [Inviters]
    filterset_class = ContactFilter
    ordering_fields = ["id", "invited_at"]

    def get_queryset(self):
        return contacts()

    @extend_schema(request=None, responses={
        202: QueuedInvitationSerializer,
        409: conflict("The contact has set a password already, or is deactivated.")})
    @action(detail=True, methods=["post"])
    def reinvite(self, request, pk=None):
        """Email a contact who has not set a password yet a new invitation (the first link works too, until used)."""
        contact = contact_reinvite(contact=self.get_object(), site=site_of(request), actor=request.user)
        detail = _("Queued: a new invitation will be sent to {email}.").format(email=contact.user.email)
        return Response({"detail": detail, "to": contact.user.email}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: ContactSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Close the contact's portal access: they cannot sign in, their sessions, tokens and links stop working.
        Closing a closed access changes nothing."""
        contact = contact_deactivate(contact=self.get_object(), actor=request.user)
        return Response(ContactSerializer(contacts().get(pk=contact.pk)).data)
