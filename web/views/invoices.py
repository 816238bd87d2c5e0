"""Invoices and credit notes: the list, the page, its actions (post, cancel, remove or write off entries,
credit note, send by email), the PDF and the Timesheets as CSV.

Everyone signed in reads the invoices they may see; only accountants and managers (the rule
invoicing.bill) post, cancel, credit and send them: others get the 403 page.

A posted invoice's PDF is the file its job stored (invoicing.documents), never rendered in a request:
until the job has run the download answers "PDF being prepared" (202) and asks the browser to come back.
A draft's PDF is a preview, rendered on request and marked "Draft" on every page.
"""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from audit.selectors import audit_events_for
from audit.sentences import entry_ids, sentence
from core.http import attachment
from core.money import format_money
from core.roles import sees_everything
from invoicing import einvoice
from invoicing.documents import MISSING, PREPARING, RETRY_SECONDS, pdf_download
from invoicing.mail import invoice_send_queue
from invoicing.models import Invoice, PaymentState
from invoicing.payments import overdue_invoices
from invoicing.pdf import invoice_pdf_filename, mark_no_charge
from invoicing.selectors import (
    invoice_entries,
    invoice_entries_page,
    invoice_ids_of,
    invoices_for,
    invoices_search,
    taxes_by_rate,
)
from invoicing.services import (
    invoice_cancel,
    invoice_credit_note,
    invoice_post,
    invoice_remove_timesheets,
    invoice_write_off,
)
from tickets.selectors import tickets_for
from timesheets.models import TimeEntry
from timesheets.selectors import sale_orders_for, time_entries_for

from .base import act, page, paginate, record_id, refuse_unless, search_text
from .receivables import receivable_panel
from .timesheets import timesheets_csv

INVOICERS_ONLY = gettext_lazy("Only accountants and managers create, post, cancel and credit invoices.")
OVERDUE = "overdue"
PDF_INVOICERS_ONLY = gettext_lazy("Only accountants and managers download invoices: the PDF lists every team's "
                                  "Timesheets.")


@login_required
def invoice_list(request):
    invoices = invoices_for(user=request.user).select_related("sale_order", "refers")
    filters = {}
    state = request.GET.get("state", "")
    if state in Invoice.State.values:
        invoices, filters["state"] = invoices.filter(state=state), state
    kind = request.GET.get("kind", "")
    if kind in Invoice.Kind.values:
        invoices, filters["kind"] = invoices.filter(kind=kind), kind
    if (order_id := record_id(request.GET.get("order"))) is not None:
        order = get_object_or_404(sale_orders_for(user=request.user), pk=order_id)
        invoices, filters["order"] = invoices.filter(sale_order=order), order
    if (ticket_id := record_id(request.GET.get("ticket"))) is not None:
        ticket = get_object_or_404(tickets_for(user=request.user), pk=ticket_id)
        ids = invoice_ids_of(TimeEntry.objects.filter(ticket=ticket))
        invoices, filters["ticket"] = invoices.filter(pk__in=ids), ticket
    receivables = request.user.has_perm("invoicing.see_receivables")
    if receivables:
        invoices = _payment_filter(request, invoices, filters)
    search = search_text(request)
    invoices = invoices_search(invoices, search)
    return page(request, "web/invoices/invoice_list.html", {
        "page_obj": paginate(request, invoices), "filters": filters, "search": search,
        "states": Invoice.State.choices, "kinds": Invoice.Kind.choices,
        "receivables": receivables, "payment_states": [*PaymentState.choices, (OVERDUE, _("Overdue"))],
    })


def _payment_filter(request, invoices, filters: dict):
    """Narrow the list to a payment state, or to the overdue invoices (the Overdue list's)."""
    payment = request.GET.get("payment", "")
    if payment == OVERDUE:
        filters["payment"] = payment
        return invoices.filter(pk__in=overdue_invoices().values("pk"))
    if payment in PaymentState.values:
        filters["payment"] = payment
        return invoices.filter(payment_state=payment)
    return invoices


@login_required
def invoice_detail(request, pk):
    invoice = get_object_or_404(invoice_shown(request.user), pk=pk)
    return invoice_page(request, invoice)


def invoice_shown(user):
    """Return the invoices `user` may open, with what their page reads beside them."""
    return invoices_for(user=user).select_related("sale_order", "refers", "customer")


def invoice_page(request, invoice: Invoice, forms: dict | None = None, status: int = 200):
    """Render the invoice page; `forms` are the Payment panel's forms sent back with their errors."""
    lines = list(invoice.lines.order_by("pk"))
    # A page of entries at a time: an invoice may bill thousands.
    entries_page, entries = invoice_entries_page(invoice=invoice, lines=lines, number=request.GET.get("page"))
    entries = _entries_shown(request.user, invoice, lines, entries)
    mark_no_charge(entries_page.object_list)
    return page(request, "web/invoices/invoice_detail.html", {
        "invoice": invoice,
        "lines": [(line, entries.get(line.pk, [])) for line in lines],
        "taxes": taxes_by_rate(invoice=invoice),
        "credit_notes": list(invoice.credit_notes.all()),
        "can_invoice": request.user.has_perm("invoicing.bill"),
        "can_download": request.user.has_perm("invoicing.download_invoice_pdf"),
        "has_entries": entries_page.paginator.count > 0,
        "page_obj": entries_page,
        "events": _history(request.user, invoice),
        "pdf_preparing": invoice.state == Invoice.State.POSTED and not invoice.pdf,
        "tick_form": _tick_form(request.user, invoice),
        "receivable": receivable_panel(request.user, invoice, forms or {}),
    }, status=status)


def _history(user, invoice: Invoice) -> list:
    """The invoice's events, each with its sentence (`text`): amounts in its currency, the timesheets it names
    dated (one query, whatever the events name; only those the user may see)."""
    events = list(audit_events_for(obj=invoice))
    ids = entry_ids(events)
    dates = dict(time_entries_for(user=user).filter(pk__in=ids).values_list("pk", "date")) if ids else {}
    for event in events:
        event.text = sentence(event, money=lambda value: format_money(value, invoice.currency), dates=dates)
    return events


def _tick_form(user, invoice: Invoice) -> str:
    """Return the form the entries' boxes tick for: a posted invoice's credit note, a draft's write-off; or none."""
    if invoice.is_credit_note or not user.has_perm("invoicing.bill"):
        return ""
    return {Invoice.State.POSTED: "credit-form", Invoice.State.DRAFT: "write-off-form"}.get(invoice.state, "")


def _entries_shown(user, invoice: Invoice, lines, entries: dict) -> dict:
    """Return the entries of each line the user may read, each marked billed here or not, and creditable or not."""
    if not sees_everything(user):  # an agent reads the rows of the time they see, not other teams'
        shown = [entry.pk for rows in entries.values() for entry in rows]
        seen = set(time_entries_for(user=user).filter(pk__in=shown).values_list("pk", flat=True))
        entries = {line_id: [entry for entry in rows if entry.pk in seen] for line_id, rows in entries.items()}
    line_ids = {line.pk for line in lines}
    # Entries a draft credit note already gives back cannot be ticked again.
    pending = set(TimeEntry.objects.filter(credit_lines__invoice__refers=invoice,
                                           credit_lines__invoice__state=Invoice.State.DRAFT,
                                           pk__in=[entry.pk for rows in entries.values() for entry in rows])
                  .values_list("pk", flat=True))
    for rows in entries.values():
        for entry in rows:
            entry.billed_here = entry.invoice_line_id in line_ids
            entry.creditable = entry.billed_here and entry.pk not in pending
    return entries


def _invoice_to_act_on(request, pk) -> Invoice:
    refuse_unless(request.user.has_perm("invoicing.bill"), INVOICERS_ONLY)
    return get_object_or_404(Invoice, pk=pk)


def _entry_ids(request) -> list[int]:
    return [entry_id for value in request.POST.getlist("entry") if (entry_id := record_id(value)) is not None]


@login_required
@require_POST
def invoice_post_view(request, pk):
    invoice = _invoice_to_act_on(request, pk)
    act(request, lambda: invoice_post(invoice=invoice, actor=request.user),
        lambda posted: _("Posted {number}: it can no longer change.").format(number=posted.number))
    return redirect("invoice_detail", pk=invoice.pk)


@login_required
@require_POST
def invoice_cancel_view(request, pk):
    invoice = _invoice_to_act_on(request, pk)
    act(request, lambda: invoice_cancel(invoice=invoice, actor=request.user),
        _("{invoice} is cancelled; its Timesheets are to invoice again.").format(invoice=invoice))
    return redirect("invoice_detail", pk=invoice.pk)


@login_required
@require_POST
def invoice_remove_view(request, pk):
    """Take an entry off a draft invoice: it is to invoice again, and editable."""
    invoice = _invoice_to_act_on(request, pk)
    act(request, lambda: invoice_remove_timesheets(invoice=invoice, entry_ids=_entry_ids(request), actor=request.user),
        _("Removed from the invoice: that time is to invoice again."))
    return redirect("invoice_detail", pk=invoice.pk)


@login_required
@require_POST
def invoice_write_off_view(request, pk):
    """Write the ticked entries off a draft as "No charge", with a reason: the customer never pays for them."""
    invoice = _invoice_to_act_on(request, pk)
    ids = _entry_ids(request)
    act(request, lambda: invoice_write_off(invoice=invoice, entry_ids=ids, reason=request.POST.get("reason", ""),
                                           actor=request.user),
        ngettext("Wrote off {count} timesheet: No charge.", "Wrote off {count} timesheets: No charge.",
                 len(ids)).format(count=len(ids)))
    return redirect("invoice_detail", pk=invoice.pk)


@login_required
@require_POST
def invoice_credit_view(request, pk):
    """"Credit Note": in full, or for the ticked entries only; posting the note gives them back."""
    invoice = _invoice_to_act_on(request, pk)
    entry_ids = None
    if request.POST.get("mode") != "full":
        entry_ids = _entry_ids(request)
        if not entry_ids:
            messages.error(request, _("Tick the Timesheets to give back, or make a full credit note."))
            return redirect("invoice_detail", pk=invoice.pk)
    note = act(request, lambda: invoice_credit_note(invoice=invoice, entry_ids=entry_ids, actor=request.user),
               lambda note: _("{note} created for {invoice}: post it to give the time back.").format(
                   note=note, invoice=invoice))
    return redirect("invoice_detail", pk=note.pk if note else invoice.pk)


@login_required
@require_POST
def invoice_send_view(request, pk):
    """"Send by email": checked now, sent by a job (invoicing.mail); each click sends once more."""
    invoice = _invoice_to_act_on(request, pk)
    act(request, lambda: invoice_send_queue(invoice=invoice, actor=request.user),
        lambda to: _("Queued: {invoice} will be sent to {to}.").format(invoice=invoice, to=to))
    return redirect("invoice_detail", pk=invoice.pk)


@login_required
def invoice_pdf_view(request, pk):
    """A posted invoice's stored PDF; "PDF being prepared" until its job stored it; a draft's preview."""
    invoice = get_object_or_404(invoices_for(user=request.user).select_related("sale_order", "refers"), pk=pk)
    refuse_unless(request.user.has_perm("invoicing.download_invoice_pdf"), PDF_INVOICERS_ONLY)
    pdf = pdf_download(invoice)
    if pdf == MISSING:
        return page(request, "web/invoices/invoice_pdf_status.html", {"invoice": invoice, "missing": True},
                    status=503)
    if pdf == PREPARING:
        return page(request, "web/invoices/invoice_pdf_status.html",
                    {"invoice": invoice, "retry": RETRY_SECONDS}, status=202)
    return attachment(pdf, invoice_pdf_filename(invoice), "application/pdf")


def _posted_document(request, pk) -> Invoice:
    """A posted invoice or credit note for its e-invoice: the same rule as its PDF; a draft has none (404)."""
    invoice = get_object_or_404(invoices_for(user=request.user).select_related("sale_order", "refers", "customer"),
                                pk=pk)
    refuse_unless(request.user.has_perm("invoicing.download_invoice_pdf"), PDF_INVOICERS_ONLY)
    if invoice.state != Invoice.State.POSTED:
        raise Http404("Only posted invoices and credit notes have e-invoices.")
    return invoice


@login_required
def invoice_facturx_view(request, pk):
    """The Factur-X PDF (EN 16931): the invoice's PDF/A-3 with its CII XML embedded."""
    invoice = _posted_document(request, pk)
    return attachment(einvoice.facturx_pdf(invoice), einvoice.facturx_filename(invoice), "application/pdf")


@login_required
def invoice_ubl_view(request, pk):
    """The UBL 2.1 XML (Peppol BIS Billing 3.0) of a posted invoice or credit note."""
    invoice = _posted_document(request, pk)
    return attachment(einvoice.ubl_xml(invoice), einvoice.ubl_filename(invoice), "application/xml")


@login_required
def invoice_timesheets_csv(request, pk):
    invoice = get_object_or_404(invoices_for(user=request.user), pk=pk)
    ids = [entry.pk for rows in invoice_entries(invoice=invoice).values() for entry in rows]
    name = (invoice.number or f"draft-{invoice.pk}").replace("/", "-")
    return timesheets_csv(time_entries_for(user=request.user).filter(pk__in=ids), f"{name}-timesheets.csv")
