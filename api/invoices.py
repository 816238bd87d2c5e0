"""Invoices and credit notes: accountants and managers see, post, cancel and credit them, and
download their PDF. ("Create Invoice" is an action of the sales order: api.orders.)"""

from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.limits import MAX_ID
from invoicing.models import Invoice, InvoiceLine
from invoicing.pdf import invoice_pdf, invoice_pdf_filename
from invoicing.selectors import invoice_line_entry_ids
from invoicing.services import invoice_cancel, invoice_credit_note, invoice_post, invoice_remove_timesheets

from .filters import InvoiceFilter
from .parsers import ReadsItsBody
from .permissions import InvoicesOnly
from .schema import REFUSED, conflict


class InvoiceLineSerializer(serializers.ModelSerializer):
    timesheets = serializers.SerializerMethodField(help_text="The time entries this line bills (or gives back).")

    class Meta:
        model = InvoiceLine
        fields = ["id", "sale_line", "name", "quantity", "uom", "price_unit", "tax_rate", "amount_untaxed",
                  "amount_tax", "timesheets"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_timesheets(self, line) -> list[int]:
        return self.context["entry_ids"].get(line.pk, [])


class InvoiceSerializer(serializers.ModelSerializer):
    """An invoice or credit note; `number` is null while it is a draft."""

    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = ["id", "number", "kind", "state", "customer", "sale_order", "invoice_date", "refers", "lines",
                  "amount_untaxed", "amount_tax", "amount_total"]
        read_only_fields = fields


class TimesheetIdsSerializer(serializers.Serializer):
    timesheets = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID))


class CreditNoteSerializer(serializers.Serializer):
    timesheets = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, allow_null=True,
        help_text="The entries to give back; omit for a full credit note.")


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
    return Invoice.objects.prefetch_related(Prefetch("lines", queryset=InvoiceLine.objects.order_by("pk")))


class InvoiceViewSet(ReadsItsBody, InvoicesAnswer, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """Invoices and credit notes: accountants and managers see, post, cancel and credit them."""

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

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, PDFRenderer])
    def pdf(self, request, pk=None):
        """The invoice as a PDF, with its Timesheets appendix."""
        invoice = self.get_object()
        response = HttpResponse(invoice_pdf(invoice=invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice_pdf_filename(invoice)}"'
        return response
