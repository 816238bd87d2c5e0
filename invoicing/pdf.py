"""The invoice as a PDF a client would accept, rendered by WeasyPrint from a template."""

from django.conf import settings
from django.template.loader import render_to_string

from .models import Invoice
from .selectors import invoice_entries, taxes_by_rate


def invoice_pdf_context(*, invoice: Invoice) -> dict:
    entries = invoice_entries(invoice=invoice)
    lines = list(invoice.lines.select_related("sale_line").order_by("pk"))
    return {
        "company": settings.COMPANY,
        "invoice": invoice,
        "lines": lines,
        "taxes": taxes_by_rate(invoice=invoice),
        "appendix": [(line, entries.get(line.pk, [])) for line in lines if entries.get(line.pk)],
    }


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """Return the invoice's PDF bytes."""
    from weasyprint import HTML  # heavy import, only where a PDF is made

    html = render_to_string("invoicing/invoice_pdf.html", invoice_pdf_context(invoice=invoice))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def invoice_pdf_filename(invoice: Invoice) -> str:
    return f"{(invoice.number or f'draft-{invoice.pk}').replace('/', '-')}.pdf"
