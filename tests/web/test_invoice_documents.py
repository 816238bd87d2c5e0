"""The invoice page's PDF and "Send by email": the stored file downloaded as it was stored, "PDF being
prepared" until its job ran, a lost file answered with the command to run, a draft's preview, sending
queued as a job and read back in the History."""

import datetime
import io
import re

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from invoicing.payments import payment_register
from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from sales.models import Company
from timesheets.services import timesheet_log

from ..factories import days_ago
from ..jobs import queued, run_jobs, stored_pdf


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def posted(member, ticket, line_a):
    """A posted invoice billing 1:30 and 0:45; its PDF job has not run."""
    timesheet_log(user=member, date=days_ago(2), minutes=90, ticket=ticket, description="Diagnosed")
    timesheet_log(user=member, date=days_ago(1), minutes=45, ticket=ticket, description="Fixed")
    return invoice_post(invoice=invoice_create_from_order(order=line_a.order))


def test_the_download_is_the_stored_file_never_a_new_rendering(accountant_client, posted, monkeypatch):
    run_jobs()
    stored = stored_pdf(posted)
    # Whatever the company or the template become, a posted invoice's PDF stays what was stored.
    Company.objects.filter(pk=Company.current().pk).update(name="Renamed Company SA", iban="BE68539007547034")
    monkeypatch.setattr("weasyprint.HTML.write_pdf", lambda *a, **k: pytest.fail("rendered in the request"))

    response = accountant_client.get(reverse("invoice_pdf", args=[posted.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{posted.number.replace("/", "-")}.pdf"'
    data = b"".join(response.streaming_content)
    assert data == stored
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Helpdesk Services SRL" in text and "Renamed" not in text and "BE68 5390 0754 7034" not in text


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def company(db):
    """The company with its bank account, country and invoice footer."""
    company = Company.current()
    company.iban, company.bic = "BE68539007547034", "GKCCBEBB"
    company.invoice_footer = "Helpdesk Services SRL · RPM Brussels · Late payments bear interest at 8% a year."
    company.save()
    return company


def test_the_pdf_says_how_and_when_to_pay(accountant_client, company, member, ticket, line_a):
    timesheet_log(user=member, date=days_ago(2), minutes=90, ticket=ticket, description="Diagnosed")
    timesheet_log(user=member, date=days_ago(1), minutes=45, ticket=ticket, description="Fixed")
    posted = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    run_jobs()
    lines = pdf_text(stored_pdf(posted)).splitlines()

    due = f"{posted.invoice_date + datetime.timedelta(days=30):%Y-%m-%d}"  # the company's terms, 30 days
    assert lines[:6] == ["Helpdesk Services SRL", "12 Rue de la Loi", "1000 Brussels", "Belgium",
                         "VAT BE0403019261", "billing@example.com"]
    assert lines[11:16] == [f"Invoice {posted.number}", f"Date {posted.invoice_date:%Y-%m-%d}",
                            f"Sales Order {posted.sale_order.name}",
                            f"Due date {due}", "Payment terms 30 days after the invoice date"]
    assert "2.25 hours €90.00 0% €202.50" in lines
    assert lines[lines.index("Untaxed amount €202.50"):][:3] == ["Untaxed amount €202.50", "Tax 0% on €202.50 €0.00",
                                                                 "Total due €202.50"]
    assert lines[lines.index("How to pay"):][:9] == [
        "How to pay", "Amount due €202.50", f"Due date {due}", "IBAN BE68 5390 0754 7034", "BIC GKCCBEBB",
        "Beneficiary Helpdesk Services SRL", f"Reference {posted.payment_reference}",
        "Please quote the reference exactly, so that your payment is matched to this invoice.",
        "Helpdesk Services SRL · RPM Brussels · Late payments bear interest at 8% a year."]
    assert re.fullmatch(r"\+\+\+\d{3}/\d{4}/\d{5}\+\+\+", posted.payment_reference)  # a Belgian OGM


def test_the_company_logo_is_printed_from_storage(company, posted):
    image = io.BytesIO()
    Image.new("RGB", (120, 40), (200, 30, 30)).save(image, "PNG")
    company.logo.save("logo.png", ContentFile(image.getvalue()))
    note = invoice_post(invoice=invoice_credit_note(invoice=posted))  # posted now: it copies the logo
    run_jobs()
    [page] = PdfReader(io.BytesIO(stored_pdf(note))).pages[:1]
    assert [img.image.size for img in page.images] == [(120, 40)]
    assert [img.image.size for img in PdfReader(io.BytesIO(stored_pdf(posted))).pages[0].images] == []


def test_a_credit_notes_pdf_says_what_it_corrects_and_the_refund_due(company, accountant, posted):
    payment_register(invoice=posted, amount="202.50", actor=accountant)
    note = invoice_post(invoice=invoice_credit_note(invoice=posted))
    run_jobs()
    lines = pdf_text(stored_pdf(note)).splitlines()

    assert f"Credit Note {note.number}" in lines
    assert f"Corrects invoice {posted.number} of {posted.invoice_date:%Y-%m-%d}" in lines
    assert "Total credited €202.50" in lines
    assert lines[lines.index("Refund"):][:3] == ["Refund", "Refund due €202.50",
                                                 f"We refund it to your account, quoting {note.payment_reference}."]
    assert "How to pay" not in lines and not any(line.startswith("Due date") for line in lines)


def test_a_credit_note_of_an_unpaid_invoice_refunds_nothing(company, posted):
    note = invoice_post(invoice=invoice_credit_note(invoice=posted))
    run_jobs()
    lines = pdf_text(stored_pdf(note)).splitlines()
    assert lines[lines.index("Refund"):][:3] == [
        "Refund", "Refund due €0.00", f"The rest of this credit note reduces what invoice {posted.number} still owes."]


def test_until_its_job_ran_the_pdf_is_being_prepared(accountant_client, posted):
    address = reverse("invoice_pdf", args=[posted.pk])
    page = accountant_client.get(reverse("invoice_detail", args=[posted.pk])).content.decode()
    assert 'id="pdf-state"' in page and "PDF being prepared" in page and "Download PDF" in page

    response = accountant_client.get(address)

    assert response.status_code == 202
    html = response.content.decode()
    assert "<h1>PDF being prepared</h1>" in html
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "Helpdesk billing" in html  # the app's page, with its top bar
    # No inline script: the CSP forbids it; only the app's own static files.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/js/app.js" defer>',
                                                   '<script src="/static/js/lookup.js" defer>']

    run_jobs()
    assert accountant_client.get(address).status_code == 200
    page = accountant_client.get(reverse("invoice_detail", args=[posted.pk])).content.decode()
    assert "PDF being prepared" not in page and "Download PDF" in page


def test_a_file_lost_from_storage_is_a_clear_page_not_a_server_error(accountant_client, posted):
    run_jobs()
    posted.refresh_from_db()
    default_storage.delete(posted.pdf.name)

    response = accountant_client.get(reverse("invoice_pdf", args=[posted.pk]))

    assert response.status_code == 503
    html = response.content.decode()
    assert "PDF missing from storage" in html and "python manage.py render_missing_pdfs" in html
    assert "http-equiv" not in html


def test_a_drafts_pdf_is_a_preview_marked_draft(accountant_client, member, ticket, line_a):
    timesheet_log(user=member, date=days_ago(1), minutes=45, ticket=ticket, description="Fixed")
    draft = invoice_create_from_order(order=line_a.order)
    page = accountant_client.get(reverse("invoice_detail", args=[draft.pk])).content.decode()
    assert "Preview PDF" in page and "Download PDF" not in page and "Send by email" not in page

    response = accountant_client.get(reverse("invoice_pdf", args=[draft.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="draft-{draft.pk}.pdf"'
    pages = PdfReader(io.BytesIO(response.content)).pages
    assert all("Draft" in page.extract_text() for page in pages)
    draft.refresh_from_db()
    assert not draft.pdf  # a preview is never stored


# --- Send by email -----------------------------------------------------------------------------

def test_send_by_email_queues_the_sending_and_the_history_says_it(accountant_client, accountant, posted, line_a):
    to = line_a.order.customer.email
    page = accountant_client.get(reverse("invoice_detail", args=[posted.pk])).content.decode()
    assert "Send by email</button>" in page and f"to {to}, its PDF attached?" in page

    response = accountant_client.post(reverse("invoice_send", args=[posted.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("invoice_detail", args=[posted.pk])
    assert messages_of(response) == [f"Queued: {posted.number} will be sent to {to}."]
    assert queued("invoicing.tasks.send_invoice") == [[posted.pk, accountant.pk]]
    run_jobs()
    [message] = mail.outbox
    assert message.to == [to]
    assert message.attachments[0].content == stored_pdf(posted)

    history = accountant_client.get(reverse("invoice_detail", args=[posted.pk])).context["events"]
    html = accountant_client.get(reverse("invoice_detail", args=[posted.pk])).content.decode()
    assert [event.action for event in history] == ["invoice.created", "invoice.posted", "invoice.pdf_stored",
                                                   "invoice.sent"]
    pdf = f"{posted.number.replace('/', '-')}.pdf"
    assert f"<td>Sent by email to {to}: “Invoice {posted.number} from " in html
    assert f"”, {pdf} attached</td>" in html
    assert "<td>PDF stored (" in html and "): every download serves this file</td>" in html


def test_sending_again_is_a_second_sending(accountant_client, manager, posted, line_a):
    accountant_client.post(reverse("invoice_send", args=[posted.pk]))
    manager_client = Client()
    manager_client.force_login(manager)
    manager_client.post(reverse("invoice_send", args=[posted.pk]))
    run_jobs()

    assert len(mail.outbox) == 2
    html = accountant_client.get(reverse("invoice_detail", args=[posted.pk])).content.decode()
    assert html.count(f"<td>Sent by email to {line_a.order.customer.email}: ") == 2
    assert "<td>accountant</td>" in html and "<td>manager</td>" in html


def test_a_credit_note_is_sent_too(accountant_client, posted):
    note = invoice_post(invoice=invoice_credit_note(invoice=posted))
    response = accountant_client.post(reverse("invoice_send", args=[note.pk]), follow=True)
    assert messages_of(response) == [f"Queued: {note.number} will be sent to {posted.customer.email}."]
    run_jobs()
    assert mail.outbox[0].subject.startswith(f"Credit note {note.number}")


def test_refusals_are_messages_not_errors(accountant_client, member, ticket, line_a, posted):
    customer = line_a.order.customer
    customer.email = ""
    customer.save(update_fields=["email"])
    response = accountant_client.post(reverse("invoice_send", args=[posted.pk]), follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [f"{customer} has no billing email: add one to the customer first."]

    timesheet_log(user=member, date=days_ago(1), minutes=30, ticket=ticket)
    draft = invoice_create_from_order(order=line_a.order)
    response = accountant_client.post(reverse("invoice_send", args=[draft.pk]), follow=True)
    assert messages_of(response) == [f"{draft} is draft: only posted invoices are sent."]
    assert queued("invoicing.tasks.send_invoice") == []

    assert accountant_client.get(reverse("invoice_send", args=[posted.pk])).status_code == 405
    assert accountant_client.post(reverse("invoice_send", args=[999999])).status_code == 404


def test_agents_may_not_send(agent_client, posted):
    response = agent_client.post(reverse("invoice_send", args=[posted.pk]))
    assert response.status_code == 403
    assert "Only accountants and managers" in response.content.decode()
    assert "Send by email" not in agent_client.get(reverse("invoice_detail", args=[posted.pk])).content.decode()
    assert queued("invoicing.tasks.send_invoice") == []
