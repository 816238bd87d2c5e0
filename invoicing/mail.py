"""Send by email: a posted invoice or credit note to its customer's billing address, its stored PDF attached.

Sending happens in a job (tasks.send_invoice, or a billing run's Send step), never in a request:
the stored PDF may still be rendering, and an SMTP server may be slow. A job killed mid-send is not
run again (django-tasks-db never retries a job it started), so an invoice is sent at most once per
click; sending again is a new click, and every sending is in the audit log and the invoice's History.
The email is written in the customer's language (languages.py), like the PDF it carries.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from core.errors import Conflict

from .documents import pdf_file, pdf_store
from .languages import customer_language
from .models import Invoice
from .pdf import invoice_pdf_filename
from .tasks import send_invoice


def sendable(invoice: Invoice) -> str:
    """Check the invoice can be sent now; return the address it goes to."""
    if invoice.state == Invoice.State.DRAFT:
        raise Conflict(_("{invoice} is draft: only posted invoices are sent.").format(invoice=invoice))
    if invoice.state != Invoice.State.POSTED:
        raise Conflict(_("{invoice} is cancelled: only posted invoices are sent.").format(invoice=invoice))
    to = invoice.customer.invoice_email
    if not to:
        raise ValidationError(_("{customer} has no billing email: add one to the customer first.")
                              .format(customer=invoice.customer))
    return to


def invoice_send_queue(*, invoice: Invoice, actor=None) -> str:
    """Check the invoice can be sent and queue its sending (tasks.send_invoice); return the address.

    The check runs here too, so that the click that cannot succeed is refused at once, with its reason.
    """
    to = sendable(invoice)
    send_invoice.enqueue(invoice.pk, actor.pk if actor else None)
    return to


def invoice_message(invoice: Invoice, to: str) -> EmailMessage:
    """Return the email of the invoice to `to`: subject and body from templates, in the customer's language,
    its stored PDF attached."""
    context = {"invoice": invoice, "company": invoice.issuer}
    with translation.override(customer_language(invoice.customer)):
        subject = one_line(render_to_string("invoicing/email/subject.txt", context))
        body = render_to_string("invoicing/email/body.txt", context)
    if invoice.pdf is None or not invoice.pdf:
        pdf_store(invoice_id=invoice.pk)  # its job has not run yet: render it now, once
        invoice.refresh_from_db(fields=["pdf"])
    try:
        with pdf_file(invoice) as file:
            data = file.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{invoice}: its stored PDF {invoice.pdf.name} is missing from storage; "
                                "`manage.py render_missing_pdfs` renders it again.") from None
    message = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to],
                           reply_to=reply_to(invoice))
    message.attach(invoice_pdf_filename(invoice), data, "application/pdf")
    return message


def one_line(text: str) -> str:
    """A subject rendered from a template, on one line: its line breaks and runs of spaces made one space; the
    no-break spaces of French typography ("Rappel\u00a0:") kept."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def reply_to(invoice: Invoice) -> list[str]:
    email = invoice.issuer.get("email")
    return [email] if email else []


def invoice_send(*, invoice_id: int, actor_id: int | None = None, run_id: int | None = None) -> str:
    """Email the invoice now and record it; return the address. Called by jobs only (see above)."""
    invoice = Invoice.objects.select_related("customer").get(pk=invoice_id)
    to = sendable(invoice)
    message = invoice_message(invoice, to)
    message.send()
    with transaction.atomic():
        changes = {"to": to, "subject": message.subject, "attachment": invoice_pdf_filename(invoice)}
        if run_id:
            changes["billing_run"] = run_id
        audit_record(action=AuditEvent.Action.INVOICE_SENT, obj=invoice, actor=_user(actor_id), changes=changes)
    return to


def _user(user_id):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).first() if user_id else None
