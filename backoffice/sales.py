"""The company, customers, taxes, work types, products, and sales orders with their Order Lines, rates, invoices and
Create Invoice."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import BOTH_PAGES, ReadOnlyAdmin, Scoped, ScopedAdmin, ServiceAdmin
from core.errors import error_message
from core.roles import AGENTS
from invoicing.services import invoice_create_from_order
from sales.models import TIMESHEET_POLICIES, AgentRate, Company, SaleOrder, SaleOrderLine, WorkType, WorkTypeRate
from sales.services import company_save, customer_save, product_save, sale_order_confirm, work_type_save
from timesheets.rates import order_rates_set
from timesheets.selectors import customers_for, order_lines_for, sale_orders_for

from .contacts import ContactInline, InvitesContacts
from .invoicing import InvoiceInline

# --- Customers, taxes, products ----------------------------------------------

class CompanyAdmin(ServiceAdmin):
    """The company that issues the invoices: one row, so its list opens the row itself. Managers change it
    (`sales.change_company`), accountants read it; it is never added (the row exists once asked for) nor
    deleted. Saved through `company_save`: validated, compacted and audited."""

    fieldsets = [
        (None, {"fields": ("name", "address", "country", "vat_number", "email")}),
        (_("Bank and terms"), {"fields": ("iban", "bic", "currency", "payment_terms_days", "reminder_days")}),
        (_("Invoices"), {"fields": ("logo", "invoice_footer")}),
        (_("Customer portal"), {"fields": ("portal_shows_agents",)}),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:sales_company_change", args=[Company.current().pk]))

    def save_model(self, request, obj, form, change):
        company_save(company=obj, actor=request.user)


class CustomerAdmin(InvitesContacts, ServiceAdmin):
    """Customers, and their contacts on the customer portal (issue 18): listed on the page, invited from it."""

    scope = staticmethod(customers_for)
    inlines = [ContactInline]
    list_display = ("name", "email", "country", "vat_number", "payment_terms_days")
    list_filter = ("country",)
    search_fields = ("name", "email", "billing_email", "vat_number")
    fieldsets = [
        (None, {"fields": ("name", "email", "address", "country", "vat_number")}),
        (_("Billing"), {"fields": ("billing_email", "payment_terms_days")}),
    ]

    def save_model(self, request, obj, form, change):
        # The VAT number is checked for the country; a change of what invoices print is audited.
        customer_save(customer=obj, actor=request.user)


class TaxAdmin(ScopedAdmin):
    list_display = ("name", "rate")
    search_fields = ("name",)


class WorkTypeAdmin(ServiceAdmin):
    """Work types (DESIGN Rule 13): managers add them and switch their billing; the time follows."""

    list_display = ("name", "billing")
    list_filter = ("billing",)
    search_fields = ("name",)
    fields = ("name", "billing")

    def save_model(self, request, obj, form, change):
        work_type_save(work_type=obj, actor=request.user)


class ProductAdmin(ServiceAdmin):
    list_display = ("name", "list_price", "uom", "service_policy", "billing_increment_minutes", "rounding",
                    "minimum_minutes")
    list_filter = ("service_policy", "uom", "rounding")
    list_select_related = ("tax",)
    search_fields = ("name",)
    fieldsets = [
        (None, {"fields": ("name", "list_price", "uom", "service_policy", "tax", "billing_increment_minutes",
                           "rounding", "minimum_minutes")}),
        # The order's accountant is alerted once per crossing (reports.alerts); empty: never.
        (_("Alerts"), {"fields": ("alert_delivered_percent", "alert_remaining_hours")}),
    ]

    def save_model(self, request, obj, form, change):
        # A new rounding or increment recounts the lines' unbilled time (Rule 14); a new threshold is audited.
        product_save(product=obj, actor=request.user)


# --- Sales orders ----------------------------------------------------------------

class SaleOrderLineForm(forms.ModelForm):
    class Meta:
        model = SaleOrderLine
        fields = ("product", "name", "quantity", "uom", "price_unit", "tax")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "price_unit" in self.fields:
            self.fields["price_unit"].required = False
            self.fields["price_unit"].help_text = gettext("Empty: the product's price.")

    def clean(self):
        cleaned_data = super().clean()
        product = cleaned_data.get("product")
        if "price_unit" in self.fields and cleaned_data.get("price_unit") is None and product is not None:
            cleaned_data["price_unit"] = product.list_price
        return cleaned_data


class QuantityColumns:
    """Delivered, invoiced and to invoice of a line, in the line's unit (the model's properties)."""

    @admin.display(description=_("Delivered"))
    def delivered(self, line):
        return line.delivered if line.pk else "-"

    @admin.display(description=_("Invoiced"))
    def invoiced(self, line):
        return line.invoiced if line.pk else "-"

    @admin.display(description=_("To invoice"))
    def to_invoice(self, line):
        return line.to_invoice if line.pk else "-"


class SaleOrderLineInline(QuantityColumns, Scoped, admin.TabularInline):
    """The "Order Lines": editable while the order is a quotation, read-only once confirmed."""

    model = SaleOrderLine
    form = SaleOrderLineForm
    verbose_name = _("order line")
    verbose_name_plural = _("Order Lines")
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


class RateInline(admin.TabularInline):
    """Rates by agent or by work type (DESIGN Rule 13): which of this order's lines their time bills.

    The rows are not saved one by one: SaleOrderAdmin.save_related hands the rates they leave to
    `order_rates_set`, which checks them, writes them, moves the order's unbilled time once and audits.
    """

    key = None  # "user" or "work_type"
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(self.key, "sale_line__order", "sale_line__product")

    @staticmethod
    def _open(order) -> bool:
        # A cancelled order bills nothing: its rates stay as they were.
        return order is None or order.state != SaleOrder.State.CANCEL

    def has_add_permission(self, request, obj=None):
        return self._open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._open(obj) and super().has_delete_permission(request, obj)

    def key_choices(self, rows):
        """Return who or what a rate may name: the rows' own, and the others a new row may pick."""
        raise NotImplementedError

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        fields = formset.form.base_fields  # built for this call: safe to adjust
        rows = self.model.objects.filter(order=obj) if obj is not None else self.model.objects.none()
        if "sale_line" in fields:
            # This order's lines billed on timesheets, and those the rows map to.
            fields["sale_line"].queryset = (
                SaleOrderLine.objects.filter(Q(order=obj, product__service_policy__in=TIMESHEET_POLICIES)
                                             | Q(pk__in=rows.values("sale_line")))
                .select_related("order", "product").order_by("pk"))
        if self.key in fields:
            fields[self.key].queryset = self.key_choices(rows)
        for name in (self.key, "sale_line"):
            if name in fields:
                fields[name].choices = list(fields[name].choices)  # listed once per page rather than per row
        return formset

    @classmethod
    def rates(cls, formset) -> list[dict]:
        """Return the rates the rows leave: those kept or added, none of the deleted or blank ones."""
        deleted = set(map(id, formset.deleted_forms))
        return [{cls.key: form.cleaned_data[cls.key], "sale_line": form.cleaned_data["sale_line"]}
                for form in formset.forms
                if id(form) not in deleted and (form.instance.pk is not None or form.has_changed())]

    @classmethod
    def report(cls, formset) -> None:
        """Fill what Django's change message reads of a saved formset (the service saved the rows)."""
        deleted = set(map(id, formset.deleted_forms))
        kept = [form for form in formset.forms if id(form) not in deleted]
        formset.new_objects = [form.instance for form in kept if form.instance.pk is None and form.has_changed()]
        formset.changed_objects = [(form.instance, form.changed_data) for form in kept
                                   if form.instance.pk is not None and form.has_changed()]
        formset.deleted_objects = [form.instance for form in formset.deleted_forms if form.instance.pk is not None]


class AgentRateInline(RateInline):
    model = AgentRate
    key = "user"
    fields = ("user", "sale_line")

    def key_choices(self, rows):
        return (get_user_model().objects.filter(Q(groups__name=AGENTS) | Q(pk__in=rows.values("user")))
                .distinct().order_by("username"))


class WorkTypeRateInline(RateInline):
    model = WorkTypeRate
    key = "work_type"
    fields = ("work_type", "sale_line")

    def key_choices(self, rows):
        return WorkType.objects.order_by("name")


RATE_INLINES = {AgentRate: ("agent_rates", AgentRateInline), WorkTypeRate: ("work_type_rates", WorkTypeRateInline)}


class SaleOrderAdmin(ServiceAdmin):
    scope = staticmethod(sale_orders_for)
    list_display = ("__str__", "customer", "state", "date_order", "confirmed_at", "accountant")
    list_filter = ("state",)
    list_select_related = ("customer", "accountant")
    search_fields = ("name", "customer__name")
    autocomplete_fields = ("customer",)
    # The accountant (one of the Accountants: the model limits the choices) gets the order's alerts; it stays
    # editable once the order is confirmed, when alerts come.
    fields = ("name", "customer", "state", "date_order", "confirmed_at", "accountant")
    inlines = [SaleOrderLineInline, AgentRateInline, WorkTypeRateInline, InvoiceInline]
    actions = ["confirm", "create_invoice"]

    def get_inlines(self, request, obj):
        # Rates map to the order's lines: they are set once it has some (after the first save).
        return [inline for inline in self.inlines if obj is not None or not issubclass(inline, RateInline)]

    def save_related(self, request, form, formsets, change):
        """Save the Order Lines, then the rates through `order_rates_set`: checked, audited, and the
        order's unbilled time moved once, whatever the number of rows changed."""
        rated = [formset for formset in formsets if formset.model in RATE_INLINES]
        super().save_related(request, form, [formset for formset in formsets if formset not in rated], change)
        given = {RATE_INLINES[formset.model][0]: RATE_INLINES[formset.model][1].rates(formset)
                 for formset in rated if formset.has_changed()}
        if given:
            order_rates_set(order=form.instance, actor=request.user, **given)
        for formset in rated:
            RATE_INLINES[formset.model][1].report(formset)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state != SaleOrder.State.DRAFT:
            return ("name", "customer", "state", "date_order", "confirmed_at")
        return ("name", "state", "date_order", "confirmed_at")

    @admin.action(description=_("Confirm"), permissions=["change"], location=BOTH_PAGES)
    def confirm(self, request, queryset):
        for order in queryset.order_by("pk"):
            try:
                order = sale_order_confirm(order=order, actor=request.user)
            except ValidationError as error:
                self.message_user(request, error_message(error), messages.ERROR)
            else:
                self.message_user(request, gettext("{order} is confirmed.").format(order=order.name), messages.SUCCESS)

    @admin.action(description=_("Create Invoice"), permissions=["change"], location=BOTH_PAGES)
    def create_invoice(self, request, queryset):
        for order in queryset.order_by("pk"):
            try:
                invoice = invoice_create_from_order(order=order, actor=request.user)
            except ValidationError as error:
                self.message_user(request, error_message(error), messages.ERROR)
            else:
                url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
                link = format_html('<a href="{}">{}</a>', url, invoice)
                self.message_user(request, format_html(gettext("{invoice} created for {order}."), invoice=link,
                                                       order=order.name), messages.SUCCESS)


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

    @admin.display(description=_("customer"), ordering="order__customer__name")
    def customer(self, line):
        return line.order.customer

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        source = (request.GET.get("app_label"), request.GET.get("model_name"))
        if request.GET.get("field_name") == "sale_line" and source in self.BILLING_FIELDS:
            queryset = queryset.filter(order__state=SaleOrder.State.SALE,
                                       product__service_policy__in=TIMESHEET_POLICIES)
        return queryset, may_have_duplicates
