"""Invoice PDFs (DESIGN Rules 9 and 16): what a PDF shows, a posted one's rendered once by its job and
stored, a draft's a preview marked "Draft" on every page, render_missing_pdfs."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from audit.models import AuditEvent
from invoicing import documents
from invoicing.documents import pdf_store
from invoicing.pdf import invoice_pdf, invoice_pdf_filename
from invoicing.selectors import invoice_entries
from invoicing.services import invoice_cancel, invoice_create_from_order, invoice_credit_note, invoice_post
from tickets.models import Ticket
from timesheets.services import timesheet_log

from ..factories import TicketFactory, confirmed_line, days_ago
from ..jobs import queued, run_jobs


@pytest.fixture
def other_line(db):
    """A line of another customer's order."""
    return confirmed_line(quantity=10, price_unit=80)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_pdf_lists_lines_totals_and_every_billed_entry(agent, ticket, line_a):
    timesheet_log(user=agent, date=days_ago(2), minutes=90, ticket=ticket, description="Reset the <b>router</b>")
    timesheet_log(user=agent, date=days_ago(1), minutes=45, ticket=ticket, description="Called the customer back")
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    pdf = invoice_pdf(invoice=invoice)
    assert pdf.startswith(b"%PDF")
    assert invoice_pdf_filename(invoice) == invoice.number.replace("/", "-") + ".pdf"
    text = pdf_text(pdf)
    assert invoice.number in text
    assert "Reset the <b>router</b>" in text  # escaped, printed as typed
    assert "Called the customer back" in text
    assert "202.50" in text  # 2.25 h × 90
    assert "Subtotal (2:15 billed)" in text


def test_a_credited_entry_stays_on_the_posted_invoice(agent, ticket, line_a):
    kept = timesheet_log(user=agent, date=days_ago(2), minutes=90, ticket=ticket)
    given_back = timesheet_log(user=agent, date=days_ago(1), minutes=45, ticket=ticket)
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    note = invoice_post(invoice=invoice_credit_note(invoice=invoice, entry_ids=[given_back.pk]))
    [line] = invoice.lines.all()
    assert invoice_entries(invoice=invoice) == {line.pk: [kept, given_back]}
    assert invoice_entries(invoice=note) == {note.lines.get().pk: [given_back]}


# --- Rendered once, stored (DESIGN Rule 16) ----------------------------------------------------

def posted_invoice(agent, ticket, line_a, entries=2):
    for n in range(entries):
        timesheet_log(user=agent, date=days_ago(1 + n % 5), minutes=30 + n, ticket=ticket,
                      description=f"Entry {n}: " + "checked the printer queue and the spooler logs " * 2)
    return invoice_post(invoice=invoice_create_from_order(order=line_a.order))


def stored_bytes(invoice) -> bytes:
    invoice.refresh_from_db()
    with default_storage.open(invoice.pdf.name, "rb") as file:
        return file.read()


def test_posting_queues_one_render_job_which_stores_the_pdf(agent, ticket, line_a):
    invoice = posted_invoice(agent, ticket, line_a)
    assert queued("invoicing.tasks.render_pdf") == [[invoice.pk]]
    assert not invoice.pdf

    assert run_jobs() == 1

    invoice.refresh_from_db()
    # Named after the invoice (a suffix when another run of the suite left a file of that name).
    assert invoice.pdf.name.startswith(f"invoices/{invoice.invoice_date:%Y}/{invoice_pdf_filename(invoice)[:-4]}")
    data = stored_bytes(invoice)
    assert data.startswith(b"%PDF") and invoice.number in pdf_text(data)
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_PDF_STORED, object_id=invoice.pk)
    assert event.changes == {"file": invoice.pdf.name, "bytes": len(data)}
    assert queued("invoicing.tasks.render_pdf") == []


def test_a_credit_note_gets_its_pdf_too(agent, ticket, line_a):
    invoice = posted_invoice(agent, ticket, line_a)
    note = invoice_post(invoice=invoice_credit_note(invoice=invoice))
    assert queued("invoicing.tasks.render_pdf") == [[invoice.pk], [note.pk]]
    run_jobs()
    assert note.number in pdf_text(stored_bytes(note))


def test_two_renderings_store_one_file(agent, ticket, line_a):
    invoice = posted_invoice(agent, ticket, line_a)
    folder = Path(settings.MEDIA_ROOT) / f"invoices/{invoice.invoice_date:%Y}"
    before = set(folder.glob("*")) if folder.exists() else set()

    assert pdf_store(invoice_id=invoice.pk) is True
    assert pdf_store(invoice_id=invoice.pk) is False  # a second job (a resumed one) finds the file there
    assert run_jobs() == 1  # the posting's own job: nothing to do either

    invoice.refresh_from_db()
    assert set(folder.glob("*")) - before == {Path(settings.MEDIA_ROOT) / invoice.pdf.name}
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_PDF_STORED).count() == 1


def test_a_job_that_lost_the_race_deletes_its_own_copy(agent, ticket, line_a, monkeypatch):
    """Two jobs render at once: the second to record its file finds the first's and removes its own."""
    invoice = posted_invoice(agent, ticket, line_a)
    folder = Path(settings.MEDIA_ROOT) / f"invoices/{invoice.invoice_date:%Y}"
    before = set(folder.glob("*")) if folder.exists() else set()
    real = documents.invoice_pdf

    def render_while_another_job_stores(*, invoice):
        data = real(invoice=invoice)
        monkeypatch.setattr(documents, "invoice_pdf", real)
        assert pdf_store(invoice_id=invoice.pk) is True  # the other job, done first
        return data

    monkeypatch.setattr(documents, "invoice_pdf", render_while_another_job_stores)
    assert pdf_store(invoice_id=invoice.pk) is False

    invoice.refresh_from_db()
    assert set(folder.glob("*")) - before == {Path(settings.MEDIA_ROOT) / invoice.pdf.name}


def test_a_draft_is_a_preview_marked_draft_on_every_page_and_a_posted_pdf_on_none(agent, ticket, line_a):
    for n in range(60):
        timesheet_log(user=agent, date=days_ago(1 + n % 20), minutes=15, ticket=ticket,
                      description=f"Entry {n}: " + "went through the printer queue, the spooler and its logs " * 2)
    draft = invoice_create_from_order(order=line_a.order)

    pages = [page.extract_text() for page in PdfReader(io.BytesIO(invoice_pdf(invoice=draft))).pages]
    assert len(pages) >= 3
    assert all("Draft" in text for text in pages)

    posted = invoice_post(invoice=draft)
    run_jobs()
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(stored_bytes(posted))).pages]
    assert len(pages) >= 3
    assert not any("Draft" in text for text in pages)


def test_a_cancelled_invoices_preview_says_cancelled(agent, ticket, line_a):
    timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    invoice = invoice_cancel(invoice=invoice_create_from_order(order=line_a.order))
    assert "Cancelled" in pdf_text(invoice_pdf(invoice=invoice))


def test_render_missing_pdfs_renders_the_lost_files_only(agent, ticket, line_a, other_line):
    kept = posted_invoice(agent, ticket, line_a)
    TicketFactory(customer=other_line.order.customer, sale_line=other_line)
    timesheet_log(user=agent, date=days_ago(1), minutes=45, ticket=Ticket.objects.get(sale_line=other_line))
    lost = invoice_post(invoice=invoice_create_from_order(order=other_line.order))
    unrendered = posted_invoice(agent, ticket, line_a, entries=1)  # its job never ran
    run_jobs_except(unrendered)
    kept.refresh_from_db()
    lost.refresh_from_db()
    kept_path = Path(settings.MEDIA_ROOT) / kept.pdf.name
    kept_bytes, kept_mtime = kept_path.read_bytes(), kept_path.stat().st_mtime_ns
    default_storage.delete(lost.pdf.name)  # a restore without the files, say
    out = io.StringIO()

    call_command("render_missing_pdfs", stdout=out)

    assert out.getvalue().splitlines() == [f"{lost.number}: rendered", f"{unrendered.number}: rendered",
                                           "2 PDFs rendered; every other posted invoice has its file."]
    assert (kept_path.read_bytes(), kept_path.stat().st_mtime_ns) == (kept_bytes, kept_mtime)
    for invoice in (lost, unrendered):
        assert invoice.number in pdf_text(stored_bytes(invoice))
    out = io.StringIO()
    call_command("render_missing_pdfs", stdout=out)
    assert out.getvalue() == "0 PDFs rendered; every other posted invoice has its file.\n"


def run_jobs_except(invoice):
    """Run the queued jobs but `invoice`'s render job (as if no worker had come to it yet)."""
    DBTaskResult.objects.filter(task_path="invoicing.tasks.render_pdf", args_kwargs__args=[invoice.pk]).delete()
    run_jobs()
