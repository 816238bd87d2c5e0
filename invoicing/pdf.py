"""The invoice as a PDF a client would accept, rendered by WeasyPrint from a template."""

import base64
import mimetypes
from collections.abc import Iterable

from django.conf import settings
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django_countries import countries

from sales.models import WorkType
from timesheets.models import TimeEntry

from .models import Invoice
from .selectors import invoice_entries, taxes_by_rate


def mark_no_charge(entries: Iterable[TimeEntry]) -> None:
    """Set `no_charge` on each entry: of a "No charge" work type (Rule 13), it is on the invoice at 0:00 billed.

    The invoice selectors read each entry's work type with it: no query.
    """
    for entry in entries:
        entry.no_charge = entry.work_type_id is not None and entry.work_type.billing == WorkType.Billing.NO_CHARGE


def logo_src(name: str) -> str:
    """The company's logo as a data URI: stored files are not served publicly, so WeasyPrint gets the bytes."""
    if not name:
        return ""
    try:
        with default_storage.open(name, "rb") as file:
            data = file.read()
    except (FileNotFoundError, OSError):
        return ""  # a lost logo leaves the invoice without one, never without a PDF
    kind = mimetypes.guess_type(name)[0] or "image/png"
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def invoice_pdf_context(*, invoice: Invoice) -> dict:
    entries = invoice_entries(invoice=invoice)
    mark_no_charge(entry for rows in entries.values() for entry in rows)
    lines = list(invoice.lines.select_related("sale_line").order_by("pk"))
    company = invoice.issuer
    terms = (invoice.due_date - invoice.invoice_date).days if invoice.due_date and invoice.invoice_date else None
    return {
        "company": company,
        "logo_src": logo_src(company.get("logo", "")),
        "company_country_name": countries.name(company.get("country", "")),
        "customer_country_name": countries.name(invoice.customer_country),
        "payment_terms_days": None if invoice.is_credit_note else terms,
        "invoice": invoice,
        "lines": lines,
        "taxes": taxes_by_rate(invoice=invoice),
        "appendix": [(line, entries.get(line.pk, [])) for line in lines if entries.get(line.pk)],
    }


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """Return the invoice's PDF bytes: PDF/A-3b, so that the stored file is the base of its Factur-X."""
    from weasyprint import HTML  # heavy import, only where a PDF is made

    html = render_to_string("invoicing/invoice_pdf.html", invoice_pdf_context(invoice=invoice))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(pdf_variant="pdf/a-3b")


def invoice_pdf_filename(invoice: Invoice) -> str:
    return f"{(invoice.number or f'draft-{invoice.pk}').replace('/', '-')}.pdf"
