"""A posted invoice's PDF and its email done by a real `manage.py worker` process, run with the production
settings module configured from the environment as the README's Deploy says: the PDF stored under
MEDIA_ROOT, the email through an SMTP server (aiosmtpd, on loopback in this process). PostgreSQL: the
worker opens the test database from another process."""

import email
import email.policy

import pytest
from django.core.files.storage import default_storage

from audit.models import AuditEvent
from core.roles import sync_groups
from invoicing.mail import invoice_send_queue
from invoicing.models import Invoice
from invoicing.services import invoice_create_from_order, invoice_post
from timesheets.services import timesheet_log

from ..conftest import requires_postgres
from ..factories import TicketFactory, UserFactory, confirmed_line, days_ago
from ..jobs import worker_process
from .test_run_workers import stop, wait_for

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def groups(transactional_db):
    sync_groups()  # a transactional test starts from empty tables, the migrations' groups gone


def test_a_worker_renders_the_pdf_once_and_sends_it_through_smtp(smtp_server, settings):
    controller, handler = smtp_server
    line = confirmed_line(price_unit=90)
    timesheet_log(user=UserFactory(role="Agents"), date=days_ago(1), minutes=90,
                  ticket=TicketFactory(customer=line.order.customer, sale_line=line), description="Reset the router")
    invoice = invoice_post(invoice=invoice_create_from_order(order=line.order))
    to = invoice_send_queue(invoice=invoice, actor=UserFactory(role="Accountants"))

    worker = worker_process(env={"DJANGO_SETTINGS_MODULE": "helpdesk_billing.settings",
                                 "MEDIA_ROOT": str(settings.MEDIA_ROOT),
                                 "EMAIL_HOST": controller.hostname, "EMAIL_PORT": str(controller.port),
                                 "EMAIL_BACKEND": "", "S3_BUCKET": ""})
    try:
        wait_for(lambda: AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_SENT).exists())
    finally:
        [log] = stop(worker)

    invoice = Invoice.objects.get(pk=invoice.pk)
    with default_storage.open(invoice.pdf.name, "rb") as file:
        stored = file.read()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_PDF_STORED).count() == 1, log
    [envelope] = handler.envelopes
    assert envelope.rcpt_tos == [to]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content() == stored
    assert "Traceback" not in log
