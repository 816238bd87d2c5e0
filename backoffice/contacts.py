"""Customers' contacts (issue 18): who may use the customer portal. Read on the customer's page and in their own
list; invited from the customer's page ("Invite a contact"); sent their invitation again or closed from the list.

Managers and accountants invite and close (the rule sales.invite_contact); their groups hold no model permission
on contacts, so these admins answer the rule for viewing too. Contacts are made and closed by the services
(sales.contacts), never edited here: their user, customer and dates are the service's.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.admin import BOTH_PAGES, ReadOnlyAdmin, ReadOnlyInline, add_refusal
from core.errors import Conflict, error_message
from sales.contacts import contact_deactivate, contact_invite, contact_reinvite
from sales.models import Contact

INVITE = "sales.invite_contact"


def may_invite(request) -> bool:
    return request.user.has_perm(INVITE)


class ContactColumns:
    """What the contact's user says of them: name, email, joined (set a password), active."""

    @admin.display(description=_("name"), ordering="user__first_name")
    def name(self, contact):
        return contact.user.get_full_name()

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, contact):
        return contact.user.email

    @admin.display(description=_("joined"), boolean=True)
    def joined(self, contact):
        return contact.joined

    @admin.display(description=_("active"), boolean=True, ordering="user__is_active")
    def active(self, contact):
        return contact.user.is_active

    @admin.display(description=_("invited by"))
    def inviter(self, contact):
        # A name, not a link: the users' admin is not every inviter's to open.
        user = contact.invited_by
        return (user.get_full_name() or user.username) if user else "—"


class ContactInline(ContactColumns, ReadOnlyInline):
    """The customer's contacts on its page, read-only: "Invite a contact" above adds one."""

    model = Contact
    fields = ("name", "email", "joined", "active", "invited_at", "inviter")
    readonly_fields = fields
    verbose_name = _("portal contact")
    verbose_name_plural = _("Portal contacts")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "invited_by")

    def has_view_permission(self, request, obj=None):
        return may_invite(request)


class ContactAdmin(ContactColumns, ReadOnlyAdmin):
    """Every customer's contacts: "Send the invitation again" to one who has not joined, "Close portal access"."""

    list_display = ("email", "name", "customer", "joined", "active", "invited_at")
    list_select_related = ("user", "customer")
    list_filter = ("user__is_active",)
    search_fields = ("user__email", "user__first_name", "user__last_name", "customer__name")
    fields = ("customer", "name", "email", "joined", "active", "invited_at", "inviter")
    readonly_fields = fields
    actions = ["reinvite", "deactivate"]

    def has_view_permission(self, request, obj=None):
        return may_invite(request)

    def has_invite_permission(self, request):
        return may_invite(request)

    def _each(self, request, queryset, service, done: str) -> None:
        for contact in queryset.select_related("user", "customer").order_by("pk"):
            try:
                service(contact)
            except ValidationError as error:
                self.message_user(request, error_message(error), messages.ERROR)
            else:
                self.message_user(request, done.format(contact=contact.name, email=contact.user.email),
                                  messages.SUCCESS)

    @admin.action(description=_("Send the invitation again"), permissions=["invite"], location=BOTH_PAGES)
    def reinvite(self, request, queryset):
        site = request.build_absolute_uri("/")
        self._each(request, queryset, lambda contact: contact_reinvite(contact=contact, site=site, actor=request.user),
                   gettext("Invitation sent again to {email}."))

    @admin.action(description=_("Close portal access"), permissions=["invite"], location=BOTH_PAGES)
    def deactivate(self, request, queryset):
        self._each(request, queryset, lambda contact: contact_deactivate(contact=contact, actor=request.user),
                   gettext("{contact} can no longer sign in to the portal."))


class InviteForm(forms.Form):
    """The address the invitation goes to, and the contact's name; the service checks both."""

    # Not required here: the service says what is missing, as it does to the API.
    # In a context of its own: Django's catalogues, read before ours, say « Courriel » for a plain "Email".
    email = forms.CharField(label=pgettext_lazy("a contact's", "Email"), required=False,
                            widget=forms.EmailInput(attrs={"autofocus": True, "size": 40, "required": True}))
    name = forms.CharField(label=_("Name"), required=False, widget=forms.TextInput(attrs={"size": 40}))


class InvitesContacts:
    """A CustomerAdmin mixin: "Invite a contact" on the customer's page (`<customer>/invite/`), for managers and
    accountants; the invitation email goes out from a job, with a link to set a password."""

    def get_urls(self):
        from django.urls import path

        # Before the admin's own: its "<path:object_id>/" would take "<id>/invite/" for an object id.
        return [path("<path:object_id>/invite/", self.admin_site.admin_view(self.invite_view),
                     name=f"{self.opts.app_label}_{self.opts.model_name}_invite"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "may_invite": may_invite(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def invite_view(self, request, object_id):
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not may_invite(request):
            raise PermissionDenied
        form = InviteForm(request.POST if request.method == "POST" else None)  # NUL or huge text: refused below
        if form.is_valid():
            try:
                contact = contact_invite(customer=customer, email=form.cleaned_data["email"],
                                         name=form.cleaned_data["name"], site=request.build_absolute_uri("/"),
                                         actor=request.user)
            except Conflict as error:  # the address has an account: said of the address
                form.add_error("email", error.messages)
            except ValidationError as error:
                add_refusal(form, error)
            else:
                self.message_user(request, gettext(
                    "{email} is invited: the email with a link to set their password is on its way.").format(
                    email=contact.user.email), messages.SUCCESS)
                return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", customer.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Invite a contact of {customer}").format(customer=customer),
            "subtitle": None,
            "opts": self.opts,
            "original": customer,
            "form": form,
            "has_view_permission": True,
            "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,  # how long the link works
        }
        return TemplateResponse(request, "admin/sales/customer/invite.html", context)
