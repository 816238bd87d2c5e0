"""REST API v1 of the sales app: customers, taxes, products, sales orders and their lines.

Also the pieces every app's api.py shares (sales is the app all others may import):
the role permissions and the id filter.

`SaleOrderViewSet` here is completed by `invoicing.api.SaleOrderViewSet`, which adds
"Create Invoice" and what agents see: both need apps to the right of sales.
"""

from django import forms
from django.db import transaction
from django.db.models import Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from helpdesk_billing.api_errors import ErrorSerializer
from helpdesk_billing.api_parsers import ReadsItsBody
from core.limits import MAX_ID
from core.roles import has_role, sees_everything

from .models import Customer, Product, SaleOrder, SaleOrderLine, Tax
from .services import (
    sale_line_set_delivered_manual,
    sale_order_cancel,
    sale_order_confirm,
    sale_order_save_quotation,
)
from .units import amount, tax_amount

# --- Shared by every app's api.py ------------------------------------------------------


class RolePermission(BasePermission):
    """Every role reads; writes (any unsafe method) need the rule `perm` (core.permissions)."""

    message = "Your account has no role: ask a manager to add you to Agents, Managers or Accountants."
    write_message = "Your role does not allow this."
    perm = None

    def has_permission(self, request, view):
        if not has_role(request.user):
            return False
        if request.method in SAFE_METHODS or request.user.has_perm(self.perm):
            return True
        self.message = self.write_message
        return False


def writers(perm: str, message: str) -> type[RolePermission]:
    """Return a permission: every role reads, users with the rule `perm` write."""
    return type("WritersPermission", (RolePermission,), {"perm": perm, "write_message": message})


ManagersWrite = writers("core.configure", "Only managers change the configuration.")
SalesWrite = writers("sales.sell", "Only accountants and managers change sales orders.")
InvoicersWrite = writers("invoicing.bill", "Only accountants and managers create, post, cancel and credit invoices.")


class IdFilter(filters.NumberFilter):
    """Filter on a related record's id (a whole number from 1 to MAX_ID, not a decimal)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


@transaction.atomic
def model_save(instance):
    """Validate with the model's own rules (fields, clean, constraints), then save.

    For the configuration records that have no service of their own.
    """
    instance.full_clean()
    instance.save()
    return instance


class ModelSaveSerializer(serializers.ModelSerializer):
    """A ModelSerializer that saves through `model_save`, so the model's constraints answer 400."""

    def create(self, validated_data):
        return model_save(self.Meta.model(**validated_data))

    def update(self, instance, validated_data):
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return model_save(instance)


# --- Customers, taxes, products ---------------------------------------------------------

class CustomerSerializer(ModelSaveSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email", "address", "vat_number"]


class CustomerViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Customers: every role reads, managers write."""

    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    permission_classes = [ManagersWrite]
    filterset_fields = ["name", "vat_number"]
    ordering_fields = ["id", "name"]


class TaxSerializer(ModelSaveSerializer):
    class Meta:
        model = Tax
        fields = ["id", "name", "rate"]
        # The database refuses more than 100 %; say so on the field.
        extra_kwargs = {"rate": {"max_value": 100}}


class TaxViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Taxes; `rate` is a percentage (21.00 for 21 %)."""

    queryset = Tax.objects.all()
    serializer_class = TaxSerializer
    permission_classes = [ManagersWrite]
    ordering_fields = ["id", "name", "rate"]


class ProductSerializer(ModelSaveSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "list_price", "uom", "service_policy", "tax", "billing_increment_minutes"]


class ProductViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Products; "Service on Timesheet" is `service_policy` = `delivered_timesheet`."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    permission_classes = [ManagersWrite]
    filterset_fields = ["service_policy", "uom", "tax"]
    ordering_fields = ["id", "name", "list_price"]


# --- Sales orders ------------------------------------------------------------------------

MONEY = {"max_digits": 14, "decimal_places": 2, "read_only": True}
QUANTITY = {"max_digits": 12, "decimal_places": 2, "read_only": True}


class SaleOrderLineSerializer(serializers.ModelSerializer):
    """An order line as sold, with Delivered, invoiced and to invoice in its unit."""

    delivered = serializers.DecimalField(**QUANTITY)
    invoiced = serializers.DecimalField(**QUANTITY)
    to_invoice = serializers.DecimalField(**QUANTITY)
    invoice_status = serializers.ChoiceField(
        choices=["to invoice", "invoiced", "nothing to invoice"], read_only=True)

    class Meta:
        model = SaleOrderLine
        fields = ["id", "product", "name", "quantity", "uom", "price_unit", "tax",
                  "delivered", "invoiced", "to_invoice", "invoice_status"]
        read_only_fields = fields


class SaleOrderLineCreateSerializer(serializers.ModelSerializer):
    """A line of a new quotation: unit, price, tax and description default to the product's."""

    class Meta:
        model = SaleOrderLine
        fields = ["product", "name", "quantity", "uom", "price_unit", "tax"]
        extra_kwargs = {"quantity": {"required": True}, "name": {"required": False},
                        "uom": {"required": False}, "price_unit": {"required": False},
                        "tax": {"required": False}}


def order_amounts(order: SaleOrder) -> dict:
    """Return the order's untaxed, tax and total amounts from its (prefetched) lines, as quoted."""
    untaxed = tax = 0
    for line in order.lines.all():
        line_untaxed = amount(line.quantity, line.price_unit)
        untaxed += line_untaxed
        if line.tax is not None:
            tax += tax_amount(line_untaxed, line.tax.rate)
    return {"amount_untaxed": untaxed, "amount_tax": tax, "amount_total": untaxed + tax}


class SaleOrderSerializer(serializers.ModelSerializer):
    lines = SaleOrderLineSerializer(many=True, read_only=True)
    amount_untaxed = serializers.SerializerMethodField()
    amount_tax = serializers.SerializerMethodField()
    amount_total = serializers.SerializerMethodField()

    class Meta:
        model = SaleOrder
        fields = ["id", "name", "customer", "state", "date_order", "lines",
                  "amount_untaxed", "amount_tax", "amount_total"]
        read_only_fields = fields

    def _amounts(self, order) -> dict:
        if getattr(order, "_amounts", None) is None:
            order._amounts = order_amounts(order)
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
    lines = SaleOrderLineCreateSerializer(many=True)


class SaleLineDeliveredSerializer(serializers.Serializer):
    delivered = serializers.DecimalField(max_digits=12, decimal_places=2)


def quotation_lines(lines: list[dict]) -> list[SaleOrderLine]:
    """Return the new lines of a quotation; unit, price, tax and description default to the product's."""
    return [
        SaleOrderLine(product=data["product"], name=data.get("name") or data["product"].name,
                      quantity=data["quantity"], uom=data.get("uom", data["product"].uom),
                      price_unit=data.get("price_unit", data["product"].list_price),
                      tax=data["tax"] if "tax" in data else data["product"].tax)
        for data in lines
    ]


class SaleOrderFilter(filters.FilterSet):
    customer = IdFilter()

    class Meta:
        model = SaleOrder
        fields = ["customer", "state"]


LINE_ID = OpenApiParameter("line_id", int, OpenApiParameter.PATH, description="The order line's id.")


class SaleOrderViewSet(ReadsItsBody, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet):
    """Sales orders: a quotation is created with its lines, then confirmed into a sales order."""

    serializer_class = SaleOrderSerializer
    permission_classes = [SalesWrite]
    filterset_class = SaleOrderFilter
    ordering_fields = ["id", "name", "date_order"]

    def get_queryset(self):
        orders = SaleOrder.objects.prefetch_related(
            Prefetch("lines", queryset=SaleOrderLine.objects.select_related("product", "tax").order_by("pk")))
        return self.visible(orders, self.request.user)

    def visible(self, orders, user):
        """Managers and accountants see every order (agents: see invoicing.api)."""
        return orders if sees_everything(user) else orders.none()

    def _answer(self, order, status_code=status.HTTP_200_OK):
        order = self.get_queryset().get(pk=order.pk)
        return Response(SaleOrderSerializer(order, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(request=SaleOrderCreateSerializer, responses={201: SaleOrderSerializer})
    def create(self, request, *args, **kwargs):
        """Create a quotation with its lines."""
        serializer = SaleOrderCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = sale_order_save_quotation(order=SaleOrder(customer=data["customer"]),
                                          lines=quotation_lines(data["lines"]))
        return self._answer(order, status.HTTP_201_CREATED)

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
        return Response(SaleOrderLineSerializer(line).data)
