"""The portal's forms: signing in (throttled like /login/), a password, a new ticket, a message, a dispute.

The forms read and check what was typed; the services (sales.contacts, tickets.services, timesheets.disputes)
decide, and their refusals come back on the form's fields (views.base.add_service_error).
"""

import math

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from audit.services import login_locked_for
from core.limits import searchable
from core.roles import is_contact
from tickets.selectors import portal_teams
from tickets.services import MESSAGE_LIMIT, TITLE_LIMIT
from timesheets.disputes import REASON_LIMIT

# The one import of another interface (tests/test_layout.py): /login/'s throttling, the same for contacts.
from web.forms.login import ThrottledLogin, client_ip


class PortalLoginForm(ThrottledLogin, AuthenticationForm):
    """A customer's contact signs in with their email address. Anyone else is told the same as for a wrong
    password: the form says nothing of which accounts exist."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Please enter a correct email address and password. Note that the password is "
                           "case-sensitive."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Email address")
        self.fields["username"].widget.attrs.update({"autocomplete": "email", "inputmode": "email"})

    def clean_username(self):
        # A contact's username is their address in lower case (sales.contacts): typed as they like.
        return self.cleaned_data["username"].strip().lower()

    def clean(self):
        try:
            return super().clean()
        except ValidationError as error:
            if error.code != "throttled":
                raise
            # /login/'s words send staff to a manager; a customer is sent to "Forgot your password?".
            wait = login_locked_for(username=self.cleaned_data["username"], ip=client_ip(self.request))
            minutes = math.ceil(max(wait, 1) / 60)
            message = ngettext(
                "Too many failed logins for this address. Try again in {minutes} minute, or choose a new password "
                "with \"Forgot your password?\".",
                "Too many failed logins for this address. Try again in {minutes} minutes, or choose a new "
                "password with \"Forgot your password?\".", minutes)
            raise ValidationError(message.format(minutes=minutes), code="throttled") from None

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not is_contact(user) or not hasattr(user, "contact"):
            raise self.get_invalid_login_error()


class ForgotPasswordForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=150,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))


class PasswordSetForm(forms.Form):
    """Choose a password, twice; Django's validators (through sales.contacts.contact_set_password) judge it."""

    password1 = forms.CharField(label=_("New password"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}))
    password2 = forms.CharField(label=_("New password again"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ: type the same one twice."))
        return cleaned

    @staticmethod
    def help_html():
        return password_validators_help_text_html()


STATUS_CHOICES = [("open", pgettext_lazy("tickets", "Open")), ("all", pgettext_lazy("tickets", "All"))]


class TicketFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Show"), choices=STATUS_CHOICES, required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Title or number")}))

    def clean_q(self):
        return searchable(self.cleaned_data.get("q", ""))


class NewTicketForm(forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=portal_teams().order_by("name"),
                                  empty_label=_("Choose a team"),
                                  error_messages={"invalid_choice": _("Choose one of the teams in the list.")})
    title = forms.CharField(label=_("Title"), max_length=TITLE_LIMIT,
                            widget=forms.TextInput(attrs={"placeholder": _("What do you need help with?")}))
    description = forms.CharField(label=_("Description"), required=False, max_length=MESSAGE_LIMIT,
                                  widget=forms.Textarea(attrs={"rows": 8, "placeholder": _(
                                      "What happened, since when, who is affected, what you tried…")}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        teams = self.fields["team"].queryset
        if len(teams) == 1:  # one team: chosen already
            self.fields["team"].initial = teams[0].pk


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Your message"), max_length=MESSAGE_LIMIT,
                           widget=forms.Textarea(attrs={"rows": 4}))


class DisputeForm(forms.Form):
    reason = forms.CharField(label=_("Why do you dispute this time?"), max_length=REASON_LIMIT,
                             error_messages={"required": _("Say why you dispute this time.")},
                             widget=forms.Textarea(attrs={"rows": 2}))
