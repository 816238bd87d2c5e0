"""Sales orders: a quotation is created with its lines, confirmed into a sales order, its rates by
agent and by work type set (which line time bills), then invoiced ("Create Invoice", previewed first);
a manual line's Delivered is typed. Accountants and managers write."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from core.limits import MAX_ID
from core.roles import ACCOUNTANTS, sees_everything
from invoicing.models import InvoiceLine
from invoicing.preview import invoice_preview
from invoicing.selectors import rounded_to_invoice
from invoicing.services import invoice_create_from_order
from sales.models import AgentRate, Company, Customer, SaleOrder, SaleOrderLine, WorkType, WorkTypeRate
from sales.services import (
    sale_line_set_delivered_manual,
    sale_order_cancel,
    sale_order_confirm,
    sale_order_save_quotation,
)
from sales.units import amount, tax_amount
from timesheets.models import TimeEntry
from timesheets.rates import MAX_RATES, order_rates_set
from timesheets.selectors import awaiting_quantities, sale_orders_for

from .filters import SaleOrderFilter
from .invoices import InvoicesAnswer, InvoiceSerializer
from .parsers import ReadsItsBody
from .permissions import InvoicersWrite, SalesWrite
from .schema import REFUSED, ErrorSerializer

MONEY = {"max_digits": 14, "decimal_places": 2, "read_only": True}
QUANTITY = {"max_digits": 12, "decimal_places": 2, "read_only": True}


class SaleOrderLineSerializer(serializers.ModelSerializer):
    """An order line as sold, with Delivered, awaiting approval, invoiced and to invoice in its unit."""

    delivered = serializers.DecimalField(**QUANTITY)
    invoiced = serializers.DecimalField(**QUANTITY)
    to_invoice = serializers.DecimalField(**QUANTITY)
    invoice_status = serializers.ChoiceField(
        choices=["to invoice", "invoiced", "nothing to invoice"], read_only=True)
    awaiting_approval = serializers.SerializerMethodField(
        help_text='Time that counts in Delivered once approved (teams on "Approved timesheets only").')
    to_invoice_billed = serializers.SerializerMethodField(
        help_text="What Create Invoice would bill of `to_invoice` now, rounded per ticket and raised to minimums "
                  "when the product says so (Rule 14); `to_invoice` otherwise.")

    class Meta:
        model = SaleOrderLine
        fields = ["id", "product", "name", "quantity", "uom", "price_unit", "tax",
                  "delivered", "awaiting_approval", "invoiced", "to_invoice", "to_invoice_billed", "invoice_status",
                  "rounding_minutes"]
        read_only_fields = fields
        extra_kwargs = {"rounding_minutes": {
            "help_text": "Minutes invoiced beyond the time logged (rounding per ticket, minimums); in `invoiced`."}}

    @extend_schema_field(serializers.DecimalField(**QUANTITY))
    def get_awaiting_approval(self, line) -> str:
        # Read for the whole page at once (`with_awaiting`); in the line's unit, as Delivered.
        quantity = self.context["awaiting"].get(line.pk, Decimal("0.00"))
        return serializers.DecimalField(**QUANTITY).to_representation(quantity)

    @extend_schema_field(serializers.DecimalField(**QUANTITY))
    def get_to_invoice_billed(self, line) -> str:
        quantity = self.context["rounded"].get(line.pk, line.to_invoice)
        return serializers.DecimalField(**QUANTITY).to_representation(quantity)


def line_context(lines) -> dict:
    """The figures of these lines read for the whole page at once: awaiting approval (one query) and what
    Create Invoice would bill when rounded per ticket (one query, none when no line rounds so)."""
    return {"awaiting": awaiting_quantities(lines=lines), "rounded": rounded_to_invoice(lines=lines)}


def with_awaiting(context: dict, orders) -> dict:
    """Return `context` with `line_context` of these orders' (prefetched) lines."""
    return {**context, **line_context([line for order in orders for line in order.lines.all()])}


class SaleOrderLineCreateSerializer(serializers.ModelSerializer):
    """A line of a new quotation: unit, price, tax and description default to the product's."""

    class Meta:
        model = SaleOrderLine
        fields = ["product", "name", "quantity", "uom", "price_unit", "tax"]
        extra_kwargs = {"quantity": {"required": True}, "name": {"required": False},
                        "uom": {"required": False}, "price_unit": {"required": False},
                        "tax": {"required": False}}


def order_amounts(order: SaleOrder, currency: str = "EUR") -> dict:
    """Return the order's untaxed, tax and total amounts from its (prefetched) lines, as quoted, rounded to
    the currency's minor unit."""
    untaxed = tax = 0
    for line in order.lines.all():
        line_untaxed = amount(line.quantity, line.price_unit, currency)
        untaxed += line_untaxed
        if line.tax is not None:
            tax += tax_amount(line_untaxed, line.tax.rate, currency)
    return {"amount_untaxed": untaxed, "amount_tax": tax, "amount_total": untaxed + tax}


class AgentRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgentRate
        fields = ["user", "sale_line"]
        read_only_fields = fields


class WorkTypeRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkTypeRate
        fields = ["work_type", "sale_line"]
        read_only_fields = fields


class SaleOrderSerializer(serializers.ModelSerializer):
    lines = SaleOrderLineSerializer(many=True, read_only=True)
    agent_rates = AgentRateSerializer(many=True, read_only=True,
                                      help_text="Rates by agent: this agent's time on the order bills this line.")
    work_type_rates = WorkTypeRateSerializer(
        many=True, read_only=True, help_text="Rates by work type: time of this work type bills this line (before "
                                             "the agent's rate; a line set by hand on an entry wins over both).")
    amount_untaxed = serializers.SerializerMethodField()
    amount_tax = serializers.SerializerMethodField()
    amount_total = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField(help_text="The company's currency (ISO 4217): its invoices' too.")

    class Meta:
        model = SaleOrder
        fields = ["id", "name", "customer", "accountant", "state", "date_order", "lines", "agent_rates",
                  "work_type_rates", "currency", "amount_untaxed", "amount_tax", "amount_total"]
        read_only_fields = fields

    def get_currency(self, order) -> str:
        return self.context["currency"]

    def _amounts(self, order) -> dict:
        if getattr(order, "_amounts", None) is None:
            order._amounts = order_amounts(order, self.context["currency"])
        return order._amounts

    def _money(self, order, name) -> str:
        return serializers.DecimalField(**MONEY).to_representation(self._amounts(order)[name])

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_amount_untaxed(self, order) -> str:
        return self._money(order, "amount_untaxed")

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_amount_tax(self, order) -> str:
        return self._money(order, "amount_tax")

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_amount_total(self, order) -> str:
        return self._money(order, "amount_total")


class SaleOrderCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    accountant = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(groups__name=ACCOUNTANTS, is_active=True).distinct(), required=False,
        allow_null=True, help_text="The accountant its billing alerts go to (an active accountant); every "
                                   "accountant when absent.")
    lines = SaleOrderLineCreateSerializer(many=True)


class SaleLineDeliveredSerializer(serializers.Serializer):
    delivered = serializers.DecimalField(max_digits=12, decimal_places=2)


def _id_field():
    return serializers.IntegerField(min_value=1, max_value=MAX_ID)


class AgentRateInputSerializer(serializers.Serializer):
    user = _id_field()
    sale_line = _id_field()


class WorkTypeRateInputSerializer(serializers.Serializer):
    work_type = _id_field()
    sale_line = _id_field()


class SaleOrderRatesSerializer(serializers.Serializer):
    """The order's rates, each list replaced as a whole when given (an empty list removes them all)."""

    agent_rates = AgentRateInputSerializer(
        many=True, required=False, max_length=MAX_RATES,
        help_text="Rates by agent: [{\"user\": id, \"sale_line\": id}], a line of this order billed on timesheets.")
    work_type_rates = WorkTypeRateInputSerializer(
        many=True, required=False, max_length=MAX_RATES,
        help_text="Rates by work type: [{\"work_type\": id, \"sale_line\": id}].")

    # Per list: the key naming who or what the rate is for, the refusal of an unknown id, its model.
    KEYS = {"agent_rates": ("user", gettext_lazy("No user has the id {id}."), get_user_model()),
            "work_type_rates": ("work_type", gettext_lazy("No work type has the id {id}."), WorkType)}

    def validate(self, data):
        """Return the rates with their records: users, work types and lines, read in one query each."""
        line_ids = {rate["sale_line"] for rates in data.values() for rate in rates}
        lines = SaleOrderLine.objects.select_related("order", "product").in_bulk(line_ids)
        errors = {}
        for kind, rates in data.items():
            key, no_such, model = self.KEYS[kind]
            found = model.objects.in_bulk({rate[key] for rate in rates})
            unknown = [no_such.format(id=rate[key]) for rate in rates if rate[key] not in found]
            unknown += [_("No Sales Order Item has the id {id}.").format(id=rate["sale_line"]) for rate in rates
                        if rate["sale_line"] not in lines]
            if unknown:
                errors[kind] = list(dict.fromkeys(unknown))
            else:
                data[kind] = [{key: found[rate[key]], "sale_line": lines[rate["sale_line"]]} for rate in rates]
        if errors:
            raise serializers.ValidationError(errors)
        return data


class CreateInvoiceSerializer(serializers.Serializer):
    period_start = serializers.DateField(required=False, allow_null=True, help_text="Timesheets from this date.")
    period_end = serializers.DateField(required=False, allow_null=True, help_text="Timesheets up to this date.")


def quotation_lines(lines: list[dict]) -> list[SaleOrderLine]:
    """Return the new lines of a quotation; unit, price, tax and description default to the product's."""
    return [
        SaleOrderLine(product=data["product"], name=data.get("name") or data["product"].name,
                      quantity=data["quantity"], uom=data.get("uom", data["product"].uom),
                      price_unit=data.get("price_unit", data["product"].list_price),
                      tax=data["tax"] if "tax" in data else data["product"].tax)
        for data in lines
    ]


class InvoicePreviewLineSerializer(serializers.ModelSerializer):
    """A line Create Invoice would create, with what it bills and why (`explanation`)."""

    class Meta:
        model = InvoiceLine
        fields = ["sale_line", "name", "quantity", "uom", "price_unit", "amount_untaxed", "minutes",
                  "rounding_minutes", "explanation"]
        read_only_fields = fields


class LeftOutReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text='"rejected", "written off (no charge)", "non-billable work type", '
                                             '"on another invoice (a draft)", "before the period", '
                                             '"after the period" or "not approved yet".')
    entries = serializers.IntegerField()
    minutes = serializers.IntegerField()


class LeftOutEntrySerializer(serializers.ModelSerializer):
    reason = serializers.CharField(read_only=True)

    class Meta:
        model = TimeEntry
        fields = ["id", "date", "user", "ticket", "minutes", "reason"]
        read_only_fields = fields


class LeftOutSerializer(serializers.Serializer):
    reasons = LeftOutReasonSerializer(many=True, help_text="The time left out, by reason.")
    examples = LeftOutEntrySerializer(many=True, help_text="The first entries left out, by date (at most 50).")


class InvoicePreviewSerializer(serializers.Serializer):
    """What Create Invoice would do now; nothing is created."""

    lines = InvoicePreviewLineSerializer(many=True)
    amount_untaxed = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    amount_tax = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    amount_total = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True,
                                            help_text="Null when Create Invoice would refuse (`error`).")
    error = serializers.CharField(allow_blank=True, help_text='Create Invoice\'s refusal, or "".')
    left_out = LeftOutSerializer(help_text="The order's time Create Invoice would not bill now, and why.")


LINE_ID = OpenApiParameter("line_id", int, OpenApiParameter.PATH, description="The order line's id.")


class SaleOrderViewSet(ReadsItsBody, InvoicesAnswer, mixins.CreateModelMixin, mixins.ListModelMixin,
                       mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sales orders: a quotation is created with its lines, confirmed, then invoiced ("Create Invoice").

    A line's `delivered` counts only approved time where its team invoices "Approved timesheets only";
    `awaiting_approval` beside it is the time that will count once approved. `agent_rates` and
    `work_type_rates` say which line an agent's or a work type's time bills (PATCH sets them). Agents see
    the orders whose lines bill the tickets and time they see.
    """

    serializer_class = SaleOrderSerializer
    permission_classes = [SalesWrite]
    filterset_class = SaleOrderFilter
    ordering_fields = ["id", "name", "date_order"]

    def get_queryset(self):
        orders = SaleOrder.objects.prefetch_related(
            Prefetch("lines", queryset=SaleOrderLine.objects.select_related("product", "tax").order_by("pk")),
            Prefetch("agent_rates", queryset=AgentRate.objects.order_by("pk")),
            Prefetch("work_type_rates", queryset=WorkTypeRate.objects.order_by("pk")))
        user = self.request.user
        if sees_everything(user):
            return orders
        return orders.filter(pk__in=sale_orders_for(user=user).values("pk"))

    def order_data(self, orders, *, many=False):
        context = with_awaiting(self.get_serializer_context(), orders if many else [orders])
        # One company, one currency: read once for the page, not once per order.
        context["currency"] = Company.current().currency
        return SaleOrderSerializer(orders, many=many, context=context).data

    def list(self, request, *args, **kwargs):
        page = list(self.paginate_queryset(self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response(self.order_data(page, many=True))

    def retrieve(self, request, *args, **kwargs):
        return Response(self.order_data(self.get_object()))

    def _answer(self, order, status_code=status.HTTP_200_OK):
        order = self.get_queryset().get(pk=order.pk)
        return Response(self.order_data(order), status=status_code)

    @extend_schema(request=SaleOrderCreateSerializer, responses={201: SaleOrderSerializer})
    def create(self, request, *args, **kwargs):
        """Create a quotation with its lines."""
        serializer = SaleOrderCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = sale_order_save_quotation(order=SaleOrder(customer=data["customer"], accountant=data.get("accountant")),
                                          lines=quotation_lines(data["lines"]))
        return self._answer(order, status.HTTP_201_CREATED)

    @extend_schema(request=SaleOrderRatesSerializer, responses={200: SaleOrderSerializer, 400: REFUSED})
    def partial_update(self, request, *args, **kwargs):
        """Set the order's rates by agent and by work type: each list given replaces the order's.

        Its unbilled time not set by hand moves to the line its work type maps to, else its agent's, else its
        ticket's; both lines' Delivered follow. Unknown ids, a line of another order or not billed on
        timesheets, or two rates for one agent or work type are refused (400), and nothing changes.
        """
        order = self.get_object()
        serializer = SaleOrderRatesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:
            order = order_rates_set(order=order, actor=request.user, **serializer.validated_data)
        return self._answer(order)

    @extend_schema(request=None, responses={200: SaleOrderSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm a quotation: it becomes a sales order whose lines time may bill."""
        return self._answer(sale_order_confirm(order=self.get_object(), actor=request.user))

    @extend_schema(request=None, responses={200: SaleOrderSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an order that has no time logged and nothing invoiced."""
        return self._answer(sale_order_cancel(order=self.get_object(), actor=request.user))

    @extend_schema(parameters=[LINE_ID], request=SaleLineDeliveredSerializer,
                   responses={200: SaleOrderLineSerializer, 404: ErrorSerializer})
    @action(detail=True, methods=["patch"], url_path=r"lines/(?P<line_id>[^/.]+)")
    def lines(self, request, pk=None, line_id=None):
        """Type Delivered of a line "Based on Delivered Quantity (Manual)"."""
        order = self.get_object()
        line = get_object_or_404(SaleOrderLine.objects.filter(order=order), pk=line_id)
        serializer = SaleLineDeliveredSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        line = sale_line_set_delivered_manual(line=line, qty=serializer.validated_data["delivered"])
        line = SaleOrderLine.objects.select_related("product").get(pk=line.pk)
        context = line_context([line])
        return Response(SaleOrderLineSerializer(line, context=context).data)

    @extend_schema(request=CreateInvoiceSerializer, responses={201: InvoiceSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"], url_path="create-invoice", permission_classes=[InvoicersWrite])
    def create_invoice(self, request, pk=None):
        """Create Invoice: a draft billing what the order has to invoice, timesheets within the optional period."""
        order = self.get_object()
        serializer = CreateInvoiceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invoice = invoice_create_from_order(order=order, actor=request.user, **serializer.validated_data)
        return self.invoice_response(invoice, status.HTTP_201_CREATED)

    @extend_schema(request=CreateInvoiceSerializer, responses={200: InvoicePreviewSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"], url_path="invoice-preview", url_name="invoice-preview",
            permission_classes=[InvoicersWrite])
    def preview_invoice(self, request, pk=None):
        """Create Invoice's preview: the lines it would create, or its refusal, and the time it would leave out
        and why, for the optional period. Nothing is created."""
        order = self.get_object()
        serializer = CreateInvoiceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preview = invoice_preview(order=order, actor=request.user, **serializer.validated_data)
        return Response(InvoicePreviewSerializer(preview).data)
