"""Customers, taxes, products, and sales orders with their Order Lines, invoices and Create Invoice."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from core.admin import BOTH_PAGES, ReadOnlyAdmin, Scoped, ScopedAdmin
from core.errors import error_message
from invoicing.services import invoice_create_from_order
from sales.models import TIMESHEET_POLICIES, SaleOrder, SaleOrderLine
from sales.services import sale_order_confirm
from timesheets.selectors import customers_for, order_lines_for, sale_orders_for

from .invoicing import InvoiceInline

# --- Customers, taxes, products ----------------------------------------------

class CustomerAdmin(ScopedAdmin):
    scope = staticmethod(customers_for)
    list_display = ("name", "email", "vat_number")
    search_fields = ("name", "email", "vat_number")


class TaxAdmin(ScopedAdmin):
    list_display = ("name", "rate")
    search_fields = ("name",)


class ProductAdmin(ScopedAdmin):
    list_display = ("name", "list_price", "uom", "service_policy", "billing_increment_minutes")
    list_filter = ("service_policy", "uom")
    list_select_related = ("tax",)
    search_fields = ("name",)


# --- Sales orders ----------------------------------------------------------------

class SaleOrderLineForm(forms.ModelForm):
    class Meta:
        model = SaleOrderLine
        fields = ("product", "name", "quantity", "uom", "price_unit", "tax")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "price_unit" in self.fields:
            self.fields["price_unit"].required = False
            self.fields["price_unit"].help_text = "Empty: the product's price."

    def clean(self):
        cleaned_data = super().clean()
        product = cleaned_data.get("product")
        if "price_unit" in self.fields and cleaned_data.get("price_unit") is None and product is not None:
            cleaned_data["price_unit"] = product.list_price
        return cleaned_data


class QuantityColumns:
    """Delivered, invoiced and to invoice of a line, in the line's unit (the model's properties)."""

    @admin.display(description="Delivered")
    def delivered(self, line):
        return line.delivered if line.pk else "-"

    @admin.display(description="Invoiced")
    def invoiced(self, line):
        return line.invoiced if line.pk else "-"

    @admin.display(description="To invoice")
    def to_invoice(self, line):
        return line.to_invoice if line.pk else "-"


class SaleOrderLineInline(QuantityColumns, Scoped, admin.TabularInline):
    """The "Order Lines": editable while the order is a quotation, read-only once confirmed."""

    model = SaleOrderLine
    form = SaleOrderLineForm
    verbose_name = "order line"
    verbose_name_plural = "Order Lines"
    fields = ("product", "name", "quantity", "uom", "price_unit", "tax", "delivered", "invoiced", "to_invoice")
    readonly_fields = ("delivered", "invoiced", "to_invoice")
    autocomplete_fields = ("product",)
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "tax")

    @staticmethod
    def _is_quotation(order) -> bool:
        # Lines of a confirmed order carry time and invoices: they stay as they were sold.
        return order is None or order.state == SaleOrder.State.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._is_quotation(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._is_quotation(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._is_quotation(obj) and super().has_delete_permission(request, obj)


class SaleOrderAdmin(ScopedAdmin):
    scope = staticmethod(sale_orders_for)
    list_display = ("__str__", "customer", "state", "date_order", "confirmed_at")
    list_filter = ("state",)
    list_select_related = ("customer",)
    search_fields = ("name", "customer__name")
    autocomplete_fields = ("customer",)
    fields = ("name", "customer", "state", "date_order", "confirmed_at")
    inlines = [SaleOrderLineInline, InvoiceInline]
    actions = ["confirm", "create_invoice"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state != SaleOrder.State.DRAFT:
            return ("name", "customer", "state", "date_order", "confirmed_at")
        return ("name", "state", "date_order", "confirmed_at")

    @admin.action(description="Confirm", permissions=["change"], location=BOTH_PAGES)
    def confirm(self, request, queryset):
        for order in queryset.order_by("pk"):
            try:
                order = sale_order_confirm(order=order, actor=request.user)
            except ValidationError as error:
                self.message_user(request, error_message(error), messages.ERROR)
            else:
                self.message_user(request, f"{order.name} is confirmed.", messages.SUCCESS)

    @admin.action(description="Create Invoice", permissions=["change"], location=BOTH_PAGES)
    def create_invoice(self, request, queryset):
        for order in queryset.order_by("pk"):
            try:
                invoice = invoice_create_from_order(order=order, actor=request.user)
            except ValidationError as error:
                self.message_user(request, error_message(error), messages.ERROR)
            else:
                url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
                self.message_user(
                    request, format_html('<a href="{}">{}</a> created for {}.', url, invoice, order.name),
                    messages.SUCCESS,
                )


class SaleOrderLineAdmin(QuantityColumns, ScopedAdmin, ReadOnlyAdmin):
    """The lines ("Sales Order Items") across orders, read-only: they are changed on their order."""

    scope = staticmethod(order_lines_for)
    list_display = ("__str__", "customer", "product", "quantity", "uom", "price_unit",
                    "delivered", "invoiced", "to_invoice")
    list_filter = ("order__state", "product__service_policy")
    list_select_related = ("order__customer", "product")
    search_fields = ("order__name", "name", "product__name", "order__customer__name")
    fields = ("order", "product", "name", "quantity", "uom", "price_unit", "tax", "qty_delivered_manual",
              "delivered", "invoiced", "to_invoice")
    readonly_fields = ("delivered", "invoiced", "to_invoice")

    # Fields picking the line time bills: their search lists only lines time may bill.
    BILLING_FIELDS = {("tickets", "ticket"), ("projects", "project"), ("projects", "task"),
                      ("timesheets", "timeentry")}

    def get_queryset(self, request):
        # Each line's label names its order and product, in the autocomplete results too.
        # (A changelist applies list_select_related only to a queryset without select_related.)
        return super().get_queryset(request).select_related("order__customer", "product")

    @admin.display(description="customer", ordering="order__customer__name")
    def customer(self, line):
        return line.order.customer

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        source = (request.GET.get("app_label"), request.GET.get("model_name"))
        if request.GET.get("field_name") == "sale_line" and source in self.BILLING_FIELDS:
            queryset = queryset.filter(order__state=SaleOrder.State.SALE,
                                       product__service_policy__in=TIMESHEET_POLICIES)
        return queryset, may_have_duplicates
