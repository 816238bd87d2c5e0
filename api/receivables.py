"""The receivable side of an invoice: its payments (refunds on a credit note), their reversal, its due date,
and the reminders sent for it. Mixed into the invoices' viewset (api.invoices.InvoiceViewSet).

Accountants and managers read them; accountants register and reverse payments and set a draft's due date
(`invoicing.register_payment`). The services check everything (invoicing.payments): an amount over the
balance, not more than 0, not a number or with more than two decimals, a date in the future, an unknown
method are refused on their field (400); a draft, a payment reversed already, are 409s.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from invoicing.models import Invoice, Payment, Reminder
from invoicing.payments import invoice_due_date_set, payment_register, payment_reverse

from .schema import REFUSED, conflict

MONEY = {"max_digits": 14, "decimal_places": 2, "read_only": True}


class ReceivablesWrite(BasePermission):
    """Registering and reversing payments, and a draft's due date, are the accountants'."""

    message = _("Only accountants register and reverse payments and set due dates.")

    def has_permission(self, request, view):
        return request.user.has_perm("invoicing.register_payment")


class ReminderSerializer(serializers.ModelSerializer):
    """A payment reminder of an overdue invoice, once per step (days after the due date)."""

    class Meta:
        model = Reminder
        fields = ["step_days", "to", "sent_at", "skipped", "created_at"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    """Money received for an invoice, or refunded on a credit note; a reversal is a row of the opposite
    amount pointing at the payment it cancels (`reverses`)."""

    reversed = serializers.SerializerMethodField(help_text="Whether a later row reverses this payment.")

    class Meta:
        model = Payment
        fields = ["id", "invoice", "date", "amount", "method", "reference", "reverses", "reversed", "created_by",
                  "created_at"]
        read_only_fields = fields

    def get_reversed(self, payment) -> bool:
        return payment.is_reversed


@extend_schema_field({"type": "string", "format": "decimal", "example": "120.50"})
class AmountField(serializers.CharField):
    """An amount as a string ("120.50") or a number; the service says what is wrong with it."""

    def __init__(self, **kwargs):
        super().__init__(max_length=40, trim_whitespace=True, **kwargs)


class PaymentRegisterSerializer(serializers.Serializer):
    date = serializers.DateField(required=False, help_text="When it was received (YYYY-MM-DD); today by default.")
    amount = AmountField(help_text="More than 0, at most the balance, two decimals at most: e.g. 120.50.")
    method = serializers.ChoiceField(choices=Payment.Method.choices, required=False,
                                     default=Payment.Method.BANK_TRANSFER)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                      help_text="The bank's reference, the payer's communication.")


class PaymentReverseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, allow_blank=True,
                                   help_text="Why it is reversed, e.g. returned by the bank.")


class DueDateSerializer(serializers.Serializer):
    due_date = serializers.DateField(allow_null=True, help_text="Null: from the payment terms when it is posted.")


class BalanceSerializer(serializers.ModelSerializer):
    """What the invoice (or credit note) owes after the change."""

    class Meta:
        model = Invoice
        fields = ["id", "number", "currency", "amount_total", "amount_paid", "amount_residual", "payment_state"]
        read_only_fields = fields


class PaymentAnswerSerializer(serializers.Serializer):
    payment = PaymentSerializer(help_text="The row registered: the payment, or the reversal.")
    invoice = BalanceSerializer()


# The invoice as api.invoices.InvoiceSerializer gives it (that module imports this one).
INVOICE = {"$ref": "#/components/schemas/Invoice"}
PAYMENT_ID = OpenApiParameter("payment_id", int, OpenApiParameter.PATH, description="The payment's id.")


class ReceivableActions:
    """The invoices' viewset's actions on payments and due dates (`self.get_object()` is a visible invoice)."""

    def _payment_answer(self, payment: Payment, invoice: Invoice) -> Response:
        invoice.refresh_from_db()
        payment = Payment.objects.select_related("reversal").get(pk=payment.pk)
        return Response({"payment": PaymentSerializer(payment).data, "invoice": BalanceSerializer(invoice).data},
                        status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], request=None, responses={200: PaymentSerializer(many=True)})
    @extend_schema(methods=["POST"], request=PaymentRegisterSerializer, responses={
        201: PaymentAnswerSerializer, 400: REFUSED,
        409: conflict("Only a posted invoice (or credit note) is paid.")})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def payments(self, request, pk=None):
        """GET: the invoice's payments (a credit note's refunds), reversals included, oldest first.

        POST: register a payment (accountants): `amount` at most the balance; the answer has the payment and
        the invoice's new balance and payment state.
        """
        invoice = self.get_object()
        if request.method == "GET":
            rows = Payment.objects.filter(invoice=invoice).select_related("reversal").order_by("pk")
            return Response(PaymentSerializer(rows, many=True).data)
        self.check_receivables_write(request)
        serializer = PaymentRegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = payment_register(invoice=invoice, actor=request.user, **serializer.validated_data)
        return self._payment_answer(payment, invoice)

    @extend_schema(parameters=[PAYMENT_ID], request=PaymentReverseSerializer, responses={
        201: PaymentAnswerSerializer, 400: REFUSED, 409: conflict("The payment is reversed already.")})
    @action(detail=True, methods=["post"], url_path=r"payments/(?P<payment_id>[0-9]{1,18})/reverse",
            url_name="payment-reverse", permission_classes=[ReceivablesWrite], filterset_class=None)
    def reverse_payment(self, request, pk=None, payment_id=None):
        """Reverse a payment registered by mistake or returned by the bank (accountants): a row of the opposite
        amount; the payment stays, and the invoice owes it again. `reason` is required."""
        invoice = self.get_object()
        payment = get_object_or_404(Payment.objects.filter(invoice=invoice), pk=payment_id)
        serializer = PaymentReverseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reversal = payment_reverse(payment=payment, reason=serializer.validated_data["reason"], actor=request.user)
        return self._payment_answer(reversal, invoice)

    @extend_schema(request=DueDateSerializer, responses={
        200: INVOICE, 400: REFUSED, 409: conflict("Only a draft invoice's due date is set.")})
    @action(detail=True, methods=["post"], url_path="due-date", url_name="due-date",
            permission_classes=[ReceivablesWrite])
    def due_date(self, request, pk=None):
        """Set a draft invoice's due date (accountants); null: from the customer's payment terms at posting."""
        invoice = self.get_object()
        serializer = DueDateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invoice = invoice_due_date_set(invoice=invoice, due_date=serializer.validated_data["due_date"],
                                       actor=request.user)
        return self.invoice_response(invoice)

    def check_receivables_write(self, request):
        permission = ReceivablesWrite()
        if not permission.has_permission(request, self):
            self.permission_denied(request, message=permission.message)

