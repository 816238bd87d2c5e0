"""Send by email (DESIGN Rule 16): a posted invoice or credit note to its customer's billing address, its
stored PDF attached, by a job; each sending in the audit log; a real SMTP server on loopback; the console
backend of `make run`."""

import datetime
import email
import email.policy
import io

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage

from audit.models import AuditEvent
from core.errors import Conflict
from core.mail import ConsoleBackend
from invoicing.mail import invoice_send, invoice_send_queue
from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from sales.models import Company
from timesheets.services import timesheet_log

from ..factories import days_ago
from ..jobs import queued, run_jobs, stored_pdf


@pytest.fixture(autouse=True)
def bank(db):
    """The company's bank account, which the email names with the payment reference."""
    Company.objects.filter(pk=Company.current().pk).update(iban="BE68539007547034", bic="GKCCBEBB")


@pytest.fixture
def posted(agent, ticket, line_a):
    """A posted invoice of 1:30 and 0:45 on line A (202.50), its PDF job not run yet."""
    timesheet_log(user=agent, date=days_ago(2), minutes=90, ticket=ticket, description="Reset the router")
    timesheet_log(user=agent, date=days_ago(1), minutes=45, ticket=ticket, description="Called back")
    return invoice_post(invoice=invoice_create_from_order(order=line_a.order))


def test_sending_is_a_job_that_mails_the_stored_pdf(posted, accountant, line_a):
    to = invoice_send_queue(invoice=posted, actor=accountant)

    assert to == line_a.order.customer.email
    assert queued("invoicing.tasks.send_invoice") == [[posted.pk, accountant.pk]]
    assert mail.outbox == []  # nothing is sent in the request
    run_jobs()

    [message] = mail.outbox
    number = posted.number
    assert message.to == [to]
    assert message.from_email == "billing@example.com"
    assert message.reply_to == ["billing@example.com"]
    assert message.subject == f"Invoice {number} from Helpdesk Services SRL"
    assert f"Dear {posted.customer_name}," in message.body
    assert message.body.splitlines()[2] == (
        f"Please find attached our invoice {number} of {posted.invoice_date:%Y-%m-%d} for €202.50 (sales order "
        f"{posted.sale_order.name}), due on {posted.due_date:%Y-%m-%d}. Please quote the reference "
        f"{posted.payment_reference} with your payment to BE68 5390 0754 7034. The time it bills is listed, entry by "
        "entry, in its Timesheets appendix.")
    assert posted.due_date == posted.invoice_date + datetime.timedelta(days=30)  # the company's terms
    assert message.body.endswith("Kind regards,\nHelpdesk Services SRL\nbilling@example.com\n")
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == (f"{number.replace('/', '-')}.pdf", "application/pdf")
    assert content == stored_pdf(posted)


def test_each_sending_is_in_the_audit_log_and_resending_sends_again(posted, accountant, line_a):
    invoice_send_queue(invoice=posted, actor=accountant)
    run_jobs()
    invoice_send_queue(invoice=posted, actor=accountant)
    run_jobs()

    assert len(mail.outbox) == 2
    events = AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_SENT, object_id=posted.pk)
    assert [(e.actor, e.changes) for e in events] == [(accountant, {
        "to": line_a.order.customer.email, "subject": f"Invoice {posted.number} from Helpdesk Services SRL",
        "attachment": f"{posted.number.replace('/', '-')}.pdf"})] * 2


def test_a_credit_note_is_sent_as_one(posted, accountant):
    note = invoice_post(invoice=invoice_credit_note(invoice=posted))
    invoice_send_queue(invoice=note, actor=accountant)
    run_jobs()

    [message] = mail.outbox
    assert message.subject == f"Credit note {note.number} from Helpdesk Services SRL"
    assert message.body.splitlines()[2] == (
        f"Please find attached our credit note {note.number} of {note.invoice_date:%Y-%m-%d}, for €202.50, which "
        f"corrects invoice {posted.number}.")
    assert message.attachments[0].content == stored_pdf(note)


def test_a_draft_is_not_sent(agent, ticket, line_a, accountant):
    timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    draft = invoice_create_from_order(order=line_a.order)

    with pytest.raises(Conflict) as refused:
        invoice_send_queue(invoice=draft, actor=accountant)
    assert refused.value.messages == [f"{draft} is draft: only posted invoices are sent."]
    assert queued("invoicing.tasks.send_invoice") == []


def test_a_customer_without_billing_email_is_refused_before_the_job(posted, accountant, line_a):
    customer = posted.customer
    customer.email = ""
    customer.save(update_fields=["email"])

    with pytest.raises(ValidationError) as refused:
        invoice_send_queue(invoice=posted, actor=accountant)
    assert refused.value.messages == [f"{customer} has no billing email: add one to the customer first."]
    assert queued("invoicing.tasks.send_invoice") == []


def test_a_pdf_missing_from_storage_is_not_sent_and_says_what_to_do(posted):
    run_jobs()
    posted.refresh_from_db()
    default_storage.delete(posted.pdf.name)

    with pytest.raises(FileNotFoundError, match="`manage.py render_missing_pdfs` renders it again"):
        invoice_send(invoice_id=posted.pk)
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_SENT).exists()


# --- A real SMTP server on loopback ----------------------------------------------------------

def test_an_invoice_goes_through_a_real_smtp_server(posted, accountant, line_a, settings, smtp_server):
    controller, handler = smtp_server
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": controller.hostname, "port": controller.port,
                                                "timeout": 10}}}
    invoice_send_queue(invoice=posted, actor=accountant)
    run_jobs()

    [envelope] = handler.envelopes
    to = line_a.order.customer.email
    assert (envelope.mail_from, envelope.rcpt_tos) == ("billing@example.com", [to])
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert (message["To"], message["Subject"]) == (to, f"Invoice {posted.number} from Helpdesk Services SRL")
    assert "Please find attached our invoice" in message.get_body(preferencelist=("plain",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{posted.number.replace('/', '-')}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == stored_pdf(posted)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_SENT, object_id=posted.pk).count() == 1


# --- make run's console backend --------------------------------------------------------------

def test_the_console_backend_prints_headers_text_and_a_line_per_attachment():
    message = EmailMessage(subject="Invoice INV/2026/00001 from Hélpdesk", body="Dear Acme,\n\nHere it is.\n",
                           from_email="billing@example.com", to=["billing@acme.example"])
    message.attach("INV-2026-00001.pdf", b"%PDF-1.7\n" + bytes(5000), "application/pdf")
    stream = io.StringIO()

    assert ConsoleBackend(stream=stream).send_messages([message]) == 1

    text = stream.getvalue()
    assert "Subject: Invoice INV/2026/00001 from Hélpdesk\n" in text
    assert "From: billing@example.com\nTo: billing@acme.example\n" in text
    assert "\nDear Acme,\n\nHere it is.\n" in text
    assert "Attachment: INV-2026-00001.pdf (5009 bytes, application/pdf)\n" in text
    assert "base64" not in text and "AAAA" not in text
    assert len(text.splitlines()) < 20


def test_make_run_prints_email_with_it_unless_an_smtp_server_is_named(monkeypatch):
    import importlib

    from helpdesk_billing import settings as module

    for name in ("EMAIL_HOST", "EMAIL_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    assert importlib.reload(module).MAILERS["default"]["BACKEND"] == "core.mail.ConsoleBackend"
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    assert importlib.reload(module).MAILERS["default"]["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    monkeypatch.delenv("EMAIL_HOST")
    assert importlib.reload(module).MAILERS["default"]["BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    monkeypatch.undo()
    importlib.reload(module)
