"""The company that issues the invoices (sales.Company, one row): `GET /company/`, `PATCH /company/`.

Managers and accountants read it; agents do not (403). The company's record is billing data (its bank
account, VAT number, payment terms and reminder steps): agents neither see invoices in this API nor
bill anyone, so nothing of their work needs it, and a bank account is better shown to fewer people.
Managers change it (`sales.change_company`), through `company_save`: validated (VAT number, IBAN, BIC,
currency, reminder days: a 400 naming the field) and audited. Posted invoices keep what they printed.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.roles import has_role
from sales.models import Company
from sales.services import company_save

from .parsers import ReadsItsBody
from .saving import ServiceSaveSerializer


class CompanyPermission(BasePermission):
    """Managers and accountants read the company (`sales.view_company`); managers change it."""

    message = _("Only managers and accountants see the company's billing details.")

    def has_permission(self, request, view):
        user = request.user
        if not has_role(user) or not user.has_perm("sales.view_company"):
            return False
        if request.method in SAFE_METHODS or user.has_perm("sales.change_company"):
            return True
        self.message = _("Only managers change the company.")
        return False


class CompanySerializer(ServiceSaveSerializer):
    """The company printed on every invoice; `currency` is that of new orders and invoices."""

    logo = serializers.ImageField(read_only=True, help_text="Set in the admin.")

    class Meta:
        model = Company
        fields = ["name", "address", "country", "vat_number", "email", "iban", "bic", "currency",
                  "payment_terms_days", "reminder_days", "invoice_footer", "logo", "portal_shows_agents"]
        extra_kwargs = {
            "reminder_days": {"help_text": 'Days after the due date when an unpaid invoice is reminded, e.g. "7, 21".'},
            "currency": {"help_text": "ISO 4217, e.g. EUR: orders and invoices created from now on are in it."},
        }

    def save_through(self, instance):
        return company_save(company=instance, actor=self.context["request"].user)


class CompanyView(ReadsItsBody, generics.RetrieveUpdateAPIView):
    """The company that issues the invoices: name, address, VAT number, bank account (IBAN, BIC), currency,
    default payment terms, reminder steps and invoice footer. Managers and accountants read it; managers
    change it (PATCH), each change audited; a number that does not check out is refused on its field (400)."""

    serializer_class = CompanySerializer
    permission_classes = [CompanyPermission]
    http_method_names = ["get", "patch", "options"]

    def get_object(self):
        return Company.current()

    @extend_schema(operation_id="company_retrieve")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="company_partial_update")
    def patch(self, request, *args, **kwargs):
        return super().patch(request, *args, **kwargs)
