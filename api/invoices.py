"""Invoices and credit notes: accountants and managers see, post, cancel, credit and send them, and
download their PDF and, once posted, their e-invoices (Factur-X, UBL); on a draft they take time off, or
write it off as "No charge" with a reason.
("Create Invoice" is an action of the sales order: api.orders.)

A posted invoice's PDF is the file its job stored, never rendered in a request: until the job has run,
`pdf` answers 202 with Retry-After. Sending is a job too: `send` checks, queues and answers 202.
"""


from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.http import attachment
from core.limits import MAX_ID
from invoicing.documents import MISSING, PREPARING, RETRY_SECONDS, pdf_download, pdf_file
from invoicing.einvoice import facturx_filename, facturx_pdf, refuse_unposted, ubl_filename, ubl_xml
from invoicing.mail import invoice_send_queue
from invoicing.models import Invoice, InvoiceLine, PaymentState, Reminder, TicketCharge
from invoicing.pdf import invoice_pdf_filename
from invoicing.selectors import invoice_line_entry_ids
from invoicing.services import (
    invoice_cancel,
    invoice_credit_note,
    invoice_post,
    invoice_remove_timesheets,
    invoice_write_off,
)

from .filters import InvoiceFilter
from .parsers import ReadsItsBody
from .permissions import InvoicesOnly
from .receivables import ReceivableActions, ReminderSerializer
from .schema import REFUSED, ErrorSerializer, conflict
from .timesheets import TimesheetIdsField, reason_field


class TicketChargeSerializer(serializers.ModelSerializer):
    """What a line charges for one ticket (or a task without a ticket): its entries' billable minutes
    summed, rounded up to the increment, raised to the minimum."""

    class Meta:
        model = TicketCharge
        fields = ["ticket", "task", "entries", "minutes", "billed"]
        read_only_fields = fields


class InvoiceLineSerializer(serializers.ModelSerializer):
    timesheets = serializers.SerializerMethodField(help_text="The time entries this line bills (or gives back).")
    charges = TicketChargeSerializer(many=True, read_only=True,
                                     help_text="Per ticket, when the product rounds per ticket or has a minimum.")

    class Meta:
        model = InvoiceLine
        fields = ["id", "sale_line", "name", "quantity", "uom", "price_unit", "tax_rate", "amount_untaxed",
                  "amount_tax", "minutes", "worked_minutes", "entry_count", "rounding_minutes", "explanation",
                  "charges", "timesheets"]
        read_only_fields = fields
        extra_kwargs = {
            "minutes": {"help_text": "Minutes billed: the entries' billable minutes plus `rounding_minutes`."},
            "worked_minutes": {"help_text": "The entries' minutes as logged (no-charge ones included)."},
            "rounding_minutes": {"help_text": "Minutes billed beyond the entries (per ticket rounding, minimums)."},
            "explanation": {"help_text": "What the line bills and why, as the invoice shows it."},
        }

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_timesheets(self, line) -> list[int]:
        return self.context["entry_ids"].get(line.pk, [])


class InvoiceSerializer(serializers.ModelSerializer):
    """An invoice or credit note; `number` is null while it is a draft. Its receivable: `amount_paid`,
    `amount_residual` (what is left to pay, or to refund on a credit note), `payment_state`, `due_date`."""

    lines = InvoiceLineSerializer(many=True, read_only=True)
    is_overdue = serializers.BooleanField(read_only=True, help_text="Posted, past its due date, not paid in full.")
    seller = serializers.JSONField(read_only=True, help_text="The company as the invoice printed it when posted; "
                                                              "{} on a draft (see GET /company/).")
    reminders = ReminderSerializer(many=True, read_only=True, help_text="Payment reminders sent for it.")
    payment_state = serializers.ChoiceField(choices=PaymentState.choices, allow_blank=True, read_only=True,
                                            help_text="Empty on a draft or a cancelled document.")

    class Meta:
        model = Invoice
        fields = ["id", "number", "kind", "state", "customer", "sale_order", "invoice_date", "refers", "lines",
                  "currency", "amount_untaxed", "amount_tax", "amount_total", "due_date", "payment_reference",
                  "payment_state", "amount_paid", "amount_residual", "is_overdue", "seller", "reminders"]
        read_only_fields = fields
        extra_kwargs = {"payment_reference": {"help_text": "The structured reference a payer quotes (OGM or RF)."}}


class TimesheetIdsSerializer(serializers.Serializer):
    timesheets = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID))


class WriteOffSerializer(serializers.Serializer):
    timesheets = TimesheetIdsField(help_text="Entries of this draft to write off: all of them, or none.")
    reason = reason_field(gettext_lazy("Give the reason for writing off."))


class CreditNoteSerializer(serializers.Serializer):
    timesheets = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, allow_null=True,
        help_text="The entries to give back; omit for a full credit note.")


class QueuedSendingSerializer(serializers.Serializer):
    detail = serializers.CharField()
    to = serializers.EmailField(help_text="The customer's billing address the invoice goes to.")


class PDFRenderer(renderers.BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; an error still answers JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        renderer_context["response"]["Content-Type"] = "application/json"
        return renderers.JSONRenderer().render(data)


class XMLRenderer(PDFRenderer):
    """Lets a client ask for `Accept: application/xml` (the UBL e-invoice); an error still answers JSON."""

    media_type = "application/xml"
    format = "xml"


def stored_pdf_waits(invoice) -> Response | None:
    """The answer while a posted invoice's stored PDF is not there to build on (as `pdf` answers), else None."""
    try:
        file = pdf_file(invoice)
    except FileNotFoundError:
        return pdf_missing(invoice)
    if file is None:
        return pdf_preparing()
    file.close()
    return None


def pdf_missing(invoice) -> Response:
    """The 503 of a posted invoice whose stored PDF is gone."""
    return Response({"detail": _("The PDF of {invoice} is missing from storage: an administrator renders it again "
                                 "with `manage.py render_missing_pdfs`.").format(invoice=invoice)},
                    status=status.HTTP_503_SERVICE_UNAVAILABLE)


def pdf_preparing() -> Response:
    """The 202 of a posted invoice whose PDF a job has not stored yet: ask again after Retry-After."""
    detail = ngettext("PDF being prepared: ask again in {n} second.", "PDF being prepared: ask again in {n} seconds.",
                      RETRY_SECONDS).format(n=RETRY_SECONDS)
    return Response({"detail": detail}, status=status.HTTP_202_ACCEPTED, headers={"Retry-After": str(RETRY_SECONDS)})


def pdf_answer(invoice):
    """The answer to a PDF's download: the file, 202 while its job renders it, 503 when storage lost it."""
    pdf = pdf_download(invoice)
    if pdf == MISSING:
        return pdf_missing(invoice)
    if pdf == PREPARING:
        return pdf_preparing()
    return attachment(pdf, invoice_pdf_filename(invoice), "application/pdf")

EINVOICES_OF_POSTED = conflict("A draft or cancelled invoice has no e-invoice: only posted ones do.")


class InvoicesAnswer:
    """Serialize invoices with the time entry ids of their lines."""

    def invoice_data(self, invoices, *, many=False):
        items = list(invoices) if many else [invoices]
        entry_ids = invoice_line_entry_ids(invoice_ids=[invoice.pk for invoice in items])
        context = {**self.get_serializer_context(), "entry_ids": entry_ids}
        return InvoiceSerializer(invoices, many=many, context=context).data

    def invoice_response(self, invoice, status_code=status.HTTP_200_OK):
        invoice = invoices_with_lines().get(pk=invoice.pk)
        return Response(self.invoice_data(invoice), status=status_code)


def invoices_with_lines():
    """Return the invoices with their lines and the lines' charges: two queries for any number of lines."""
    lines = InvoiceLine.objects.order_by("pk").prefetch_related(
        Prefetch("charges", queryset=TicketCharge.objects.order_by("pk")))
    reminders = Reminder.objects.order_by("step_days")
    return Invoice.objects.prefetch_related(Prefetch("lines", queryset=lines),
                                            Prefetch("reminders", queryset=reminders))


class InvoiceViewSet(ReadsItsBody, InvoicesAnswer, ReceivableActions, mixins.ListModelMixin,
                     mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Invoices and credit notes: accountants and managers see, post, cancel and credit them; on a draft,
    time is taken off (to invoice again) or written off as "No charge" (never invoiced unless reinstated)."""

    serializer_class = InvoiceSerializer
    permission_classes = [InvoicesOnly]
    filterset_class = InvoiceFilter
    ordering_fields = ["id", "number", "invoice_date"]

    def get_queryset(self):
        return invoices_with_lines()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.invoice_data(page, many=True))

    def retrieve(self, request, *args, **kwargs):
        return Response(self.invoice_data(self.get_object()))

    @extend_schema(request=None, responses={200: InvoiceSerializer, 400: REFUSED,
                                            409: conflict("Only a draft is posted.")})
    @action(detail=True, methods=["post"], url_path="post", url_name="post")
    def post_invoice(self, request, pk=None):
        """Post a draft: it gets the next number of its year and never changes again."""
        return self.invoice_response(invoice_post(invoice=self.get_object(), actor=request.user))

    @extend_schema(request=None, responses={
        200: InvoiceSerializer, 409: conflict("Only a draft is cancelled; a posted one is credited.")})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a draft; its time entries are to invoice again."""
        return self.invoice_response(invoice_cancel(invoice=self.get_object(), actor=request.user))

    @extend_schema(request=TimesheetIdsSerializer, responses={200: InvoiceSerializer,
                                                              409: conflict("Only a draft invoice is changed.")})
    @action(detail=True, methods=["post"], url_path="remove-timesheets")
    def remove_timesheets(self, request, pk=None):
        """Take time entries off a draft invoice: they are to invoice again and editable."""
        invoice = self.get_object()
        serializer = TimesheetIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invoice = invoice_remove_timesheets(invoice=invoice, entry_ids=serializer.validated_data["timesheets"],
                                            actor=request.user)
        return self.invoice_response(invoice)

    @extend_schema(request=WriteOffSerializer, responses={
        200: InvoiceSerializer, 400: REFUSED, 409: conflict("Only a draft invoice is changed.")})
    @action(detail=True, methods=["post"], url_path="write-off")
    def write_off(self, request, pk=None):
        """Write time entries off a draft as "No charge": they keep their minutes, bill 0, and never reach an
        invoice again unless a manager reinstates them (POST /timesheets/{id}/reinstate/)."""
        invoice = self.get_object()
        serializer = WriteOffSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        invoice = invoice_write_off(invoice=invoice, entry_ids=data["timesheets"], reason=data["reason"],
                                    actor=request.user)
        return self.invoice_response(invoice)

    @extend_schema(request=CreditNoteSerializer, responses={201: InvoiceSerializer,
                                                            409: conflict("Only a posted invoice is credited.")})
    @action(detail=True, methods=["post"], url_path="credit-note")
    def credit_note(self, request, pk=None):
        """Draft a credit note for a posted invoice, in full or for the named time entries."""
        invoice = self.get_object()
        serializer = CreditNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = invoice_credit_note(invoice=invoice, entry_ids=serializer.validated_data.get("timesheets"),
                                   actor=request.user)
        return self.invoice_response(note, status.HTTP_201_CREATED)

    @extend_schema(responses={
        (200, "application/pdf"): OpenApiTypes.BINARY,
        202: OpenApiResponse(ErrorSerializer, description="PDF being prepared: ask again after Retry-After seconds."),
        503: OpenApiResponse(ErrorSerializer, description="The stored PDF is missing from storage.")})
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, PDFRenderer])
    def pdf(self, request, pk=None):
        """The invoice as a PDF, with its Timesheets appendix: a posted one's stored file, a draft's preview."""
        return pdf_answer(self.get_object())

    @extend_schema(responses={
        (200, "application/pdf"): OpenApiTypes.BINARY,
        202: OpenApiResponse(ErrorSerializer, description="PDF being prepared: ask again after Retry-After seconds."),
        409: EINVOICES_OF_POSTED,
        503: OpenApiResponse(ErrorSerializer, description="The stored PDF is missing from storage.")})
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, PDFRenderer])
    def facturx(self, request, pk=None):
        """The posted invoice or credit note as a Factur-X file (EN 16931 profile): its stored PDF, as PDF/A-3,
        with the CII XML embedded. The same bytes every time."""
        invoice = self.get_object()
        refuse_unposted(invoice)
        return stored_pdf_waits(invoice) or attachment(facturx_pdf(invoice), facturx_filename(invoice),
                                                       "application/pdf")

    @extend_schema(responses={(200, "application/xml"): OpenApiTypes.BINARY, 409: EINVOICES_OF_POSTED})
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, XMLRenderer])
    def ubl(self, request, pk=None):
        """The posted invoice or credit note as a UBL 2.1 e-invoice, Peppol BIS Billing 3.0 (Invoice or
        CreditNote)."""
        invoice = self.get_object()
        return attachment(ubl_xml(invoice), ubl_filename(invoice), "application/xml")

    @extend_schema(request=None, responses={
        202: QueuedSendingSerializer, 400: REFUSED,
        409: conflict("Only a posted invoice or credit note is sent.")})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Email a posted invoice or credit note to its customer's billing address, its PDF attached.

        Sending is queued and done by a worker; each call sends once more, and each sending is in its history.
        """
        invoice = self.get_object()
        to = invoice_send_queue(invoice=invoice, actor=request.user)
        detail = _("Queued: {invoice} will be sent to {to}.").format(invoice=invoice, to=to)
        return Response({"detail": detail, "to": to}, status=status.HTTP_202_ACCEPTED)
