"""The receivable in a real Chromium (issue 14): an accountant registers a payment in two parts, reverses
one with its reason, finds an overdue invoice in the Overdue list, and downloads the PDF (how to pay) and
the e-invoices. Clicks, labelled fields and links, as a person would; a failed test leaves screenshots."""

import datetime
import io
import os

from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from invoicing.models import Invoice
from invoicing.services import invoice_create_from_order, invoice_post
from sales.models import Company
from timesheets.services import timesheet_log

from ..browser import download
from ..factories import days_ago
from ..jobs import run_jobs

IBAN, BIC = "BE68539007547034", "GKCCBEBB"
SHOTS = os.environ.get("RECEIVABLES_SCREENSHOTS")  # a folder: the test saves its screens there to be looked at


def shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def posted_invoice(member, ticket, line_a) -> Invoice:
    """A posted invoice of 1:30 and 0:45 at 90.00 an hour: €202.50, its PDF stored."""
    company = Company.current()
    company.iban, company.bic = IBAN, BIC
    company.save()
    timesheet_log(user=member, date=days_ago(2), minutes=90, ticket=ticket, description="Diagnosed")
    timesheet_log(user=member, date=days_ago(1), minutes=45, ticket=ticket, description="Fixed")
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    run_jobs()
    return invoice


def test_an_accountant_is_paid_in_two_parts_and_reverses_one(open_browser, accountant, member, ticket, line_a):
    invoice = posted_invoice(member, ticket, line_a)
    books = open_browser(accountant)
    books.get_by_role("link", name="Invoices").click()
    books.get_by_role("link", name=invoice.number).click()
    panel = books.locator("#payment-panel")
    expect(panel.locator("[data-payment-state]")).to_have_text("Not paid")
    expect(panel.locator("#balance")).to_have_text("€202.50")
    due = timezone.localdate() + datetime.timedelta(days=30)
    expect(panel.locator("#due-date")).to_have_text(f"{due:%Y-%m-%d}")
    expect(panel.locator("#payment-reference")).to_have_text(invoice.payment_reference)

    # A first part, by bank transfer.
    form = books.locator("#payment-form")
    expect(form.get_by_label("Amount")).to_have_value("202.50")
    expect(form.get_by_label("Date")).to_have_value(f"{timezone.localdate():%Y-%m-%d}")
    form.get_by_label("Amount").fill("abc")
    form.get_by_role("button", name="Register Payment").click()
    expect(books.locator("#id_payment-amount_error")).to_have_text("abc is not an amount: e.g. 120.50.")
    form.get_by_label("Amount").fill("150.00")
    form.get_by_label("Reference").fill("Statement 2026/12")
    form.get_by_role("button", name="Register Payment").click()
    expect(books.locator(".msg.success")).to_have_text(
        f"Payment of €150.00 registered on {invoice.number}: partially paid, €52.50 left to settle.")
    expect(panel.locator("[data-payment-state]")).to_have_text("Partially paid")
    expect(books.locator("#invoice-state ~ #payment-state [data-payment-state]")).to_have_text("Partially paid")
    expect(panel.locator("#amount-paid")).to_have_text("€150.00")
    expect(panel.locator("#balance")).to_have_text("€52.50")
    shot(books, "invoice-partially-paid")

    # The rest, by card: paid, nothing left to register.
    form.get_by_label("Method").select_option(label="Card")
    expect(form.get_by_label("Amount")).to_have_value("52.50")
    form.get_by_role("button", name="Register Payment").click()
    expect(panel.locator("[data-payment-state]")).to_have_text("Paid")
    expect(panel.locator("#balance")).to_have_text("€0.00")
    expect(books.locator("#payment-form")).to_have_count(0)
    expect(panel.locator("#payments tbody tr")).to_have_count(2)

    # The card payment was a mistake: reversed, with its reason; the balance comes back.
    card = panel.locator("#payments tbody tr", has_text="Card")
    card.get_by_text("Reverse", exact=True).click()
    card.get_by_role("button", name="Reverse payment").click()
    expect(books.locator(".errorlist")).to_have_text("Say why the payment is reversed (e.g. returned by the bank).")
    card = books.locator("#payment-panel #payments tbody tr", has_text="Card").first
    card.get_by_label("Why is it reversed?").fill("Card charged twice by mistake")
    card.get_by_role("button", name="Reverse payment").click()
    expect(books.locator(".msg.success")).to_contain_text("Payment of €52.50 of")
    expect(panel.locator("[data-payment-state]")).to_have_text("Partially paid")
    expect(panel.locator("#balance")).to_have_text("€52.50")
    expect(panel.locator("#payments tbody tr", has_text="Card charged twice by mistake")).to_contain_text("-€52.50")
    expect(panel.locator("#payments tbody tr").nth(1)).to_contain_text("Reversed")
    expect(books.locator("#payment-form").get_by_label("Amount")).to_have_value("52.50")
    expect(books.locator("#invoice-events")).to_contain_text(
        "Payment of €52.50 reversed: “Card charged twice by mistake”")
    shot(books, "invoice-reversed")


def test_the_overdue_list_and_the_documents(open_browser, accountant, member, ticket, line_a):
    invoice = posted_invoice(member, ticket, line_a)
    Invoice.objects.filter(pk=invoice.pk).update(due_date=days_ago(12))
    books = open_browser(accountant)
    books.get_by_role("link", name="Overdue").click()
    row = books.locator("#overdue tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(invoice.number)
    expect(row.locator("[data-col=days-late]")).to_have_text("12")
    expect(row.locator("[data-col=balance]")).to_have_text("€202.50")
    expect(books.locator("#overdue-totals")).to_contain_text("EUR")
    shot(books, "overdue-list")

    row.get_by_role("link", name=invoice.number).click()
    expect(books.locator("#payment-panel .badge.overdue")).to_have_text("Overdue")
    name, pdf = download(books, "Download PDF")
    assert name == f"{invoice.number.replace('/', '-')}.pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    due = invoice.invoice_date + datetime.timedelta(days=30)  # the PDF says what was due when it was posted
    assert "IBAN BE68 5390 0754 7034" in text and f"BIC {BIC}" in text  # grouped by four for people
    assert f"Reference {invoice.payment_reference}" in text and f"Due date {due:%Y-%m-%d}" in text
    assert "Amount due €202.50" in text

    name, facturx = download(books, "Factur-X PDF")
    assert name == f"{invoice.number.replace('/', '-')}-facturx.pdf"
    assert "factur-x.xml" in PdfReader(io.BytesIO(facturx)).attachments
    name, ubl = download(books, "UBL XML")
    assert name == f"{invoice.number.replace('/', '-')}-ubl.xml"
    assert f"<cbc:ID>{invoice.number}</cbc:ID>".encode() in ubl and IBAN.encode() in ubl


def test_an_accountant_sets_a_drafts_due_date_and_filters_the_list(open_browser, accountant, member, ticket, line_a):
    posted_invoice(member, ticket, line_a)
    timesheet_log(user=member, date=days_ago(1), minutes=30, ticket=ticket, description="Follow-up")
    draft = invoice_create_from_order(order=line_a.order)
    books = open_browser(accountant)
    books.get_by_role("link", name="Invoices").click()
    books.get_by_role("link", name=str(draft)).click()
    panel = books.locator("#payment-panel")
    expect(panel.locator("#due-date")).to_have_text(
        "From the payment terms when posted: 30 days after the invoice date (the company's payment terms)")
    due = timezone.localdate() + datetime.timedelta(days=10)
    panel.get_by_label("New due date").fill(f"{due:%Y-%m-%d}")
    panel.get_by_role("button", name="Set due date").click()
    expect(books.locator(".msg.success")).to_have_text(f"{draft} is due on {due:%Y-%m-%d}.")
    expect(panel.locator("#due-date")).to_have_text(f"{due:%Y-%m-%d} (set by hand)")
    shot(books, "draft-due-date")
    panel.get_by_role("button", name="Clear: due 30 days after the invoice date (the company's payment terms)").click()
    expect(panel.locator("#due-date")).to_contain_text("From the payment terms when posted")
    panel.get_by_label("New due date").fill(f"{due:%Y-%m-%d}")
    panel.get_by_role("button", name="Set due date").click()
    books.get_by_role("button", name="Post").click()
    expect(panel.locator("#due-date")).to_have_text(f"{due:%Y-%m-%d}")

    books.get_by_role("navigation").get_by_role("link", name="Invoices").click()
    shot(books, "invoice-list")
    books.get_by_label("Payment").select_option(label="Overdue")
    books.get_by_role("button", name="Filter").click()
    expect(books.locator("#invoices tbody tr")).to_have_text(["No invoices."])
    books.get_by_label("Payment").select_option(label="Not paid")
    books.get_by_role("button", name="Filter").click()
    expect(books.locator("#invoices tbody tr")).to_have_count(2)


def test_an_agent_has_no_overdue_link(open_browser, member, ticket):
    desk = open_browser(member)
    expect(desk.get_by_role("link", name="Overdue")).to_have_count(0)
    desk.goto("/invoices/overdue/")
    expect(desk.locator("h1")).to_have_text("You may not do this")
    expect(desk.locator(".error-page")).to_contain_text(
        "Only managers and accountants see payments, balances and overdue invoices.")
