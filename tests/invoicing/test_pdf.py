import io

from pypdf import PdfReader

from invoicing.pdf import invoice_pdf, invoice_pdf_filename
from invoicing.selectors import invoice_entries
from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from timesheets.services import timesheet_log

from ..factories import days_ago


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
