"""Customers' contacts (issue 18): invite one, let them set their password once, deactivate them.

A contact is a user in the "Customer contacts" group (core.roles.CONTACTS) with a `Contact` row naming
their customer. An invitation creates the user without a password and emails a link to set one; the
link is Django's password-reset token under a salt of our own, so it works once (setting a password
changes what it signs), for PASSWORD_RESET_TIMEOUT, and only for that user. "Forgot your password?"
sends the same link, at most once per PORTAL_LINK_INTERVAL_SECONDS for a contact, and answers the same whether
the address is a contact's or not.

Emails go out from a job (sales.tasks), never in the request: an SMTP server may be slow. The address
the link points at (`site`) comes from the request that asked, as Django's password reset does.
"""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from core.errors import Conflict
from core.languages import CODES
from core.roles import CONTACTS

from .models import Company, Contact, Customer

User = get_user_model()
NAME_LIMIT = 150  # the user's first and last name fields


class LinkTokens(PasswordResetTokenGenerator):
    """The portal's one-time links: a password reset token that no other reset link can stand for."""

    key_salt = "portal.contact_link"


tokens = LinkTokens()


def _email(email) -> str:
    if not isinstance(email, str) or not email.strip():
        raise ValidationError({"email": _("Give the contact's email address.")})
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("{email} is not an email address.").format(email=email)}) from None
    if len(email) > 150:
        raise ValidationError({"email": _("Keep the email address under 150 characters.")})
    return email


def _name(name) -> tuple[str, str]:
    if name is None:
        name = ""
    if not isinstance(name, str):
        raise ValidationError({"name": _("Give the contact's name as text.")})
    first, _sep, last = name.strip().partition(" ")
    if len(first) > NAME_LIMIT or len(last) > NAME_LIMIT:
        raise ValidationError({"name": _("Keep the name under {limit} characters.").format(limit=NAME_LIMIT)})
    return first, last.strip()


def _site(site) -> str:
    return (site or settings.PORTAL_SITE).rstrip("/")


@transaction.atomic
def contact_invite(*, customer: Customer, email: str, name: str = "", site: str = "", actor=None,
                   send: bool = True) -> Contact:
    """Create `customer`'s contact for `email` and email them a link to set their password (once, for a while);
    `send=False` leaves the email out, for a contact whose password is set at once (the demo's).

    The email is their username. An address that already has an account of any kind is refused: one person,
    one account, and a contact never becomes staff by an invitation (nor staff a contact)."""
    email = _email(email)
    first, last = _name(name)
    if User.objects.filter(username__iexact=email).exists() or User.objects.filter(email__iexact=email).exists():
        raise Conflict(_("{email} already has an account: each contact needs an address of their own.")
                       .format(email=email))
    user = User(username=email, email=email, first_name=first, last_name=last, is_staff=False)
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get(name=CONTACTS))
    contact = Contact.objects.create(user=user, customer=customer, invited_by=actor if actor else None)
    audit_record(action=AuditEvent.Action.CONTACT_INVITED, obj=contact, actor=actor,
                 changes={"customer": str(customer), "email": email})
    if send:
        _queue_link(user, kind="invitation", site=site)
    return contact


@transaction.atomic
def contact_reinvite(*, contact: Contact, site: str = "", actor=None) -> Contact:
    """Email a contact who has not set a password yet a new invitation (the old link works too, until used)."""
    if not contact.user.is_active:
        raise Conflict(_("{contact} is deactivated: invite them again only once reactivated.").format(
            contact=contact.name))
    if contact.joined:
        raise Conflict(_("{contact} has already set a password: they use \"Forgot your password?\" on the portal.")
                       .format(contact=contact.name))
    audit_record(action=AuditEvent.Action.CONTACT_INVITED, obj=contact, actor=actor,
                 changes={"customer": str(contact.customer), "email": contact.user.email, "again": True})
    _queue_link(contact.user, kind="invitation", site=site)
    return contact


@transaction.atomic
def contact_deactivate(*, contact: Contact, actor=None) -> Contact:
    """Close a contact's portal: they cannot sign in, their sessions and tokens stop working, their links too."""
    user = contact.user
    if not user.is_active:
        return contact
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(action=AuditEvent.Action.CONTACT_DEACTIVATED, obj=contact, actor=actor,
                 changes={"customer": str(contact.customer), "email": user.email})
    return contact


def password_reset_request(*, email, site: str = "") -> None:
    """"Forgot your password?": email the link to an active contact with this address; nothing otherwise.
    The caller answers the same either way, so the form tells no one whether an address has an account."""
    if not isinstance(email, str):
        return
    contact = (Contact.objects.select_related("user", "customer")
               .filter(user__email__iexact=email.strip(), user__is_active=True).first())
    if contact is None:
        return
    # One link a while per contact: asking again and again floods no one's mailbox (the first link still works).
    recent = timezone.now() - datetime.timedelta(seconds=settings.PORTAL_LINK_INTERVAL_SECONDS)
    if contact.reset_sent_at is not None and contact.reset_sent_at > recent:
        return
    Contact.objects.filter(pk=contact.pk).update(reset_sent_at=timezone.now())
    _queue_link(contact.user, kind="reset", site=site)


def link_user(uidb64: str, token: str):
    """The contact a link is for, or None: an unknown user, a used or expired token, a deactivated contact."""
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True, contact__isnull=False).first()
    if user is None or not tokens.check_token(user, token):
        return None
    return user


@transaction.atomic
def contact_set_password(*, uidb64: str, token: str, password: str):
    """Set the password of the link's contact; the link is then spent. Returns the user."""
    user = link_user(uidb64, token)
    if user is None:
        raise ValidationError({"token": _("This link has expired or was already used: ask for a new one with "
                                          "\"Forgot your password?\".")})
    if not isinstance(password, str) or not password:
        raise ValidationError({"password": _("Choose a password.")})
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    joined = not user.has_usable_password()
    user.set_password(password)
    user.last_login = timezone.now()  # also spends any other link sent before (the token signs it)
    user.save(update_fields=["password", "last_login"])
    if joined:
        audit_record(action=AuditEvent.Action.CONTACT_JOINED, obj=user.contact, actor=user,
                     changes={"customer": str(user.contact.customer)})
    return user


# --- Names, as a contact reads them ---------------------------------------------------------------

def staff_name_for_contact(user, *, shows_agents: bool) -> str:
    """One of the support team (who logged a timesheet), as a contact reads them: by name when the company shows
    agents' names (Company.portal_shows_agents), else "Support team"."""
    if user is None or not shows_agents:
        return _("Support team")
    return user.get_full_name() or user.username


def name_for_contact(user, *, customer_id: int, shows_agents: bool) -> str:
    """Who did something, as a contact of customer `customer_id` reads it: their own customer's people by name
    (else email); the support team's by name when the company shows agents' names, else "Support team"; another
    customer's contacts (a ticket moved from them) by no name at all.

    Tells a contact from staff by `user.contact`: read it with the user (select_related), or it costs a query."""
    contact = getattr(user, "contact", None) if user is not None else None
    if contact is None:
        return staff_name_for_contact(user, shows_agents=shows_agents)
    if contact.customer_id != customer_id:
        return _("Customer contact")
    return user.get_full_name() or user.email


# --- The email --------------------------------------------------------------------------------------

def _queue_link(user, *, kind: str, site: str) -> None:
    from .tasks import send_contact_link

    send_contact_link.enqueue(user.pk, kind, _site(site))


def link_path(user) -> str:
    return f"/portal/password/{urlsafe_base64_encode(force_bytes(user.pk))}/{tokens.make_token(user)}/"


def link_message(user, *, kind: str, site: str) -> EmailMessage:
    """The invitation or reset email, in the customer's language, with a fresh link."""
    contact = Contact.objects.select_related("customer").get(user=user)
    language = contact.customer.language if contact.customer.language in CODES else settings.LANGUAGE_CODE
    company = Company.current()
    context = {"contact": contact, "company": company, "link": _site(site) + link_path(user),
               "hours": settings.PASSWORD_RESET_TIMEOUT // 3600, "kind": kind}
    with translation.override(language):
        subject = " ".join(render_to_string("sales/email/link_subject.txt", context).split())
        body = render_to_string("sales/email/link_body.txt", context)
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email],
                        reply_to=[company.email] if company.email else None)


def contact_link_send(*, user_id: int, kind: str, site: str) -> bool:
    """Send the link email now (the job's work); nothing for a contact since deactivated."""
    user = User.objects.filter(pk=user_id, is_active=True, contact__isnull=False).first()
    if user is None:
        return False
    link_message(user, kind=kind, site=site).send()
    return True
