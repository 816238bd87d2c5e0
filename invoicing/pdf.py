"""The invoice as a PDF a client would accept, rendered by WeasyPrint from a template.

It is written in the customer's language (languages.py), whoever asks for it and wherever (a request, a job):
its words, its dates (SHORT_DATE_FORMAT), its numbers and its amounts (the money filter, Babel). What the
invoice stores (its lines' names and explanations, written when they were made) is printed as stored.
"""

import base64
import mimetypes
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django_countries import countries

from sales.models import WorkType
from timesheets.models import TimeEntry

from .languages import customer_language
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


def css_string(text: str) -> str:
    """`text` as a CSS string, quoted: the page's margin boxes print it (and no "</style>" can end the sheet)."""
    return '"' + re.sub(r'[\\"<>\n]', lambda m: f"\\{ord(m.group()):x} ", text) + '"'


def page_counter() -> str:
    """The margin box's "Page 2 of 5", as CSS: the translated sentence around the page counters."""
    parts = re.split(r"(\{page\}|\{pages\})", _("Page {page} of {pages}"))
    css = [f"counter({part[1:-1]})" if part in ("{page}", "{pages}") else css_string(part) for part in parts if part]
    return mark_safe(" ".join(css))  # every piece of text is escaped by css_string


def page_footer(company: dict) -> str:
    """The margin box's "Helpdesk Services SRL · VAT BE0403019261", as a CSS string."""
    text = company.get("name", "")
    if company.get("vat_number"):
        text += " · " + _("VAT %(number)s") % {"number": company["vat_number"]}
    return mark_safe(css_string(text))  # escaped by css_string


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
        "page_counter": page_counter(),
        "page_footer": page_footer(company),
    }


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """Return the invoice's PDF bytes: PDF/A-3b, so that the stored file is the base of its Factur-X. In the
    customer's language."""
    from weasyprint import HTML  # heavy import, only where a PDF is made

    with translation.override(customer_language(invoice.customer)):
        html = render_to_string("invoicing/invoice_pdf.html", invoice_pdf_context(invoice=invoice))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(pdf_variant="pdf/a-3b")


def invoice_pdf_filename(invoice: Invoice) -> str:
    return f"{(invoice.number or f'draft-{invoice.pk}').replace('/', '-')}.pdf"
