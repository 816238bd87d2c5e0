"""Admin of invoices, read-only: they are documents, created and posted by the services.

Adds "Create Invoice" and the order's invoices to the sales order admin, and scopes the
sales admins (customers, orders, their lines) to what an agent sees: their scopes are
made of the selectors of the apps above sales.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from audit.admin import ReadOnlyAdmin
from sales import admin as sales_admin
from sales.admin import BOTH_PAGES, Scoped, ScopedAdmin, error_message
from sales.models import Customer, SaleOrder, SaleOrderLine
from timesheets.durations import format_minutes
from timesheets.selectors import customers_for, order_lines_for, sale_orders_for

from .models import Invoice, InvoiceLine
from .selectors import invoices_for
from .services import invoice_create_from_order


class ReadOnlyInline(Scoped, admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ("name", "sale_line", "quantity", "uom", "price_unit", "tax_rate", "time", "amount_untaxed",
              "amount_tax")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sale_line__order", "sale_line__product")

    @admin.display(description="time")
    def time(self, line):
        return format_minutes(line.minutes) if line.minutes else "-"


@admin.register(Invoice)
class InvoiceAdmin(ScopedAdmin, ReadOnlyAdmin):
    scope = staticmethod(invoices_for)
    list_display = ("__str__", "kind", "state", "customer_name", "sale_order", "invoice_date", "amount_total")
    list_filter = ("kind", "state")
    list_select_related = ("sale_order",)
    search_fields = ("number", "customer_name", "sale_order__name")
    fields = ("number", "kind", "state", "refers", "sale_order", "customer", "customer_name", "customer_address",
              "customer_vat", "invoice_date", "period_start", "period_end", "amount_untaxed", "amount_tax",
              "amount_total", "created_by", "created_at", "posted_at")
    readonly_fields = fields
    inlines = [InvoiceLineInline]


class InvoiceInline(ReadOnlyInline):
    """The invoices and credit notes of a sales order."""

    model = Invoice
    fk_name = "sale_order"
    fields = ("number", "kind", "state", "invoice_date", "amount_total")
    readonly_fields = fields
    show_change_link = True


admin.site.unregister(Customer)
admin.site.unregister(SaleOrder)
admin.site.unregister(SaleOrderLine)


@admin.register(Customer)
class CustomerAdmin(sales_admin.CustomerAdmin):
    scope = staticmethod(customers_for)


@admin.register(SaleOrderLine)
class SaleOrderLineAdmin(sales_admin.SaleOrderLineAdmin):
    scope = staticmethod(order_lines_for)


@admin.register(SaleOrder)
class SaleOrderAdmin(sales_admin.SaleOrderAdmin):
    scope = staticmethod(sale_orders_for)
    inlines = [*sales_admin.SaleOrderAdmin.inlines, InvoiceInline]
    actions = [*sales_admin.SaleOrderAdmin.actions, "create_invoice"]

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
