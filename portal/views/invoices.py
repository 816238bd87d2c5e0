"""The customer's invoices and credit notes: the list, an invoice's page (its lines, taxes, totals, what is
left to pay and the timesheets it bills) and its PDF, the stored one their email carried (invoicing.documents).
Drafts and cancelled drafts are never shown: they never reached the customer."""

from django.shortcuts import get_object_or_404

from core.http import attachment
from invoicing.documents import MISSING, PREPARING, RETRY_SECONDS, pdf_download
from invoicing.models import Invoice
from invoicing.pdf import invoice_pdf_filename, mark_no_charge
from invoicing.selectors import invoice_entries_page, taxes_by_rate

from .base import Names, page, paginate, portal_view, shown_invoices


@portal_view
def invoice_list(request):
    invoices = shown_invoices(request.contact).order_by("-invoice_date", "-pk")
    return page(request, "portal/invoices.html", {"page_obj": paginate(request, invoices)})


@portal_view
def invoice_detail(request, pk):
    invoice = get_object_or_404(shown_invoices(request.contact), pk=pk)
    lines = list(invoice.lines.order_by("pk"))
    entries_page, entries = invoice_entries_page(invoice=invoice, lines=lines, number=request.GET.get("page"))
    mark_no_charge(entries_page.object_list)
    names = Names(request)
    for entry in entries_page.object_list:
        entry.agent = names.staff(entry.user)
    return page(request, "portal/invoice.html", {
        "invoice": invoice,
        "lines": [(line, entries.get(line.pk, [])) for line in lines],
        "taxes": taxes_by_rate(invoice=invoice),
        "credit_notes": list(invoice.credit_notes.filter(state=Invoice.State.POSTED).order_by("pk")),
        "page_obj": entries_page,
        # What credit notes took off what is due: the total less what was paid and what is left to pay.
        "credited": invoice.amount_total - invoice.amount_paid - invoice.amount_residual,
    })


@portal_view
def invoice_pdf(request, pk):
    """The invoice's stored PDF; "being prepared" (202, the page asks again) until its job has stored it."""
    invoice = get_object_or_404(shown_invoices(request.contact), pk=pk)
    pdf = pdf_download(invoice)
    if pdf == MISSING:
        return page(request, "portal/invoice_pdf_status.html", {"invoice": invoice, "missing": True}, status=503)
    if pdf == PREPARING:
        return page(request, "portal/invoice_pdf_status.html", {"invoice": invoice, "retry": RETRY_SECONDS},
                    status=202)
    return attachment(pdf, invoice_pdf_filename(invoice), "application/pdf")
