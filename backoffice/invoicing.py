"""Invoices and credit notes, read-only: they are documents, created and posted by the services. Their
payments and reminders are shown on them, read-only too (registered and reversed on the invoice's page).

A sales order's invoices are shown on its page (`InvoiceInline`, used by sales.SaleOrderAdmin).
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, ReadOnlyInline, ScopedAdmin
from invoicing.models import Invoice, InvoiceLine, Payment, Reminder
from invoicing.selectors import invoices_for
from timesheets.durations import format_minutes


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ("name", "sale_line", "quantity", "uom", "price_unit", "tax_rate", "time", "amount_untaxed",
              "amount_tax", "explanation")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sale_line__order", "sale_line__product")

    @admin.display(description=_("time"))
    def time(self, line):
        return format_minutes(line.minutes) if line.minutes else "-"


class PaymentInline(ReadOnlyInline):
    """Payments received (refunds on a credit note) and their reversals: managers and accountants see them."""

    model = Payment
    fk_name = "invoice"
    fields = ("date", "amount", "method", "reference", "reverses", "created_by", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice", "reverses__invoice", "created_by")


class ReminderInline(ReadOnlyInline):
    model = Reminder
    fields = ("step_days", "to", "sent_at", "skipped", "created_at")
    readonly_fields = fields


class InvoiceAdmin(ScopedAdmin, ReadOnlyAdmin):
    scope = staticmethod(invoices_for)
    list_display = ("__str__", "kind", "state", "customer_name", "sale_order", "invoice_date", "amount_total",
                    "due_date", "payment_state", "amount_residual")
    list_filter = ("kind", "state", "payment_state")
    list_select_related = ("sale_order",)
    search_fields = ("number", "customer_name", "sale_order__name", "payment_reference")
    fields = ("number", "kind", "state", "refers", "sale_order", "customer", "customer_name", "customer_address",
              "customer_vat", "customer_country", "invoice_date", "period_start", "period_end", "currency",
              "amount_untaxed", "amount_tax", "amount_total", "due_date", "payment_reference", "payment_state",
              "amount_paid", "amount_residual", "created_by", "created_at", "posted_at")
    readonly_fields = fields
    inlines = [InvoiceLineInline, PaymentInline, ReminderInline]


class InvoiceInline(ReadOnlyInline):
    """The invoices and credit notes of a sales order."""

    model = Invoice
    fk_name = "sale_order"
    fields = ("number", "kind", "state", "invoice_date", "amount_total")
    readonly_fields = fields
    show_change_link = True
