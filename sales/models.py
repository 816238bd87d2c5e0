from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from .units import HOUR, UOM_CHOICES, minutes_to_qty


class Customer(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    vat_number = models.CharField("VAT number", max_length=40, blank=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class Tax(models.Model):
    name = models.CharField(max_length=100)
    rate = models.DecimalField(
        "rate (%)", max_digits=5, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["rate", "name"]
        verbose_name_plural = "taxes"
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lte=100), name="tax_rate_0_100"),
        ]

    def __str__(self):
        return self.name


class ServicePolicy(models.TextChoices):
    DELIVERED_TIMESHEET = "delivered_timesheet", "Based on Timesheets"
    ORDERED_PREPAID = "ordered_prepaid", "Prepaid/Fixed Price"
    DELIVERED_MANUAL = "delivered_manual", "Based on Delivered Quantity (Manual)"


# Policies whose lines may receive time entries.
TIMESHEET_POLICIES = (ServicePolicy.DELIVERED_TIMESHEET, ServicePolicy.ORDERED_PREPAID)


class WorkType(models.Model):
    """What kind of work time is (DESIGN Rule 13): "Remote support", "On-site", "Internal", "Goodwill"."""

    class Billing(models.TextChoices):
        BILLABLE = "billable", "Billable"
        NON_BILLABLE = "non_billable", "Non-billable"  # never reaches a customer: it bills no line
        NO_CHARGE = "no_charge", "No charge"  # shown to the customer at 0.00, as goodwill

    name = models.CharField(max_length=100, unique=True)
    billing = models.CharField(max_length=12, choices=Billing.choices, default=Billing.BILLABLE)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "work type"

    def __str__(self):
        return self.name

    @property
    def bills_a_line(self) -> bool:
        return self.billing != self.Billing.NON_BILLABLE

    @property
    def charges(self) -> bool:
        return self.billing == self.Billing.BILLABLE


class Rounding(models.TextChoices):
    ENTRY = "entry", "Per entry"
    TICKET = "ticket", "Per ticket"


class Product(models.Model):
    name = models.CharField(max_length=200)
    list_price = models.DecimalField(
        "price", max_digits=12, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    uom = models.CharField("unit", max_length=8, choices=UOM_CHOICES, default=HOUR)
    service_policy = models.CharField(
        max_length=24, choices=ServicePolicy.choices, default=ServicePolicy.DELIVERED_TIMESHEET
    )
    tax = models.ForeignKey(Tax, null=True, blank=True, on_delete=models.PROTECT, verbose_name="default tax")
    billing_increment_minutes = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="Time is billed rounded up to a multiple of this many minutes: each entry, or each "
                  "ticket's sum on an invoice (Rounding).",
    )
    rounding = models.CharField(
        max_length=8, choices=Rounding.choices, default=Rounding.ENTRY,
        help_text="Per entry: each time entry is rounded up. Per ticket: on an invoice, a ticket's time is "
                  "summed, then rounded up (DESIGN Rule 14).",
    )
    minimum_minutes = models.PositiveIntegerField(
        "minimum charge (minutes)", default=0,
        help_text="Per ticket per invoice: a ticket with time on an invoice is billed at least this long.",
    )

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(billing_increment_minutes__gte=1), name="product_increment_gte_1"),
            models.CheckConstraint(condition=Q(list_price__gte=0), name="product_price_gte_0"),
        ]

    def __str__(self):
        return self.name

    @property
    def entry_increment(self) -> int:
        """The increment each entry is rounded up to: 1 when the rounding is per ticket (done on the invoice)."""
        return self.billing_increment_minutes if self.rounding == Rounding.ENTRY else 1

    @property
    def rounds_per_ticket(self) -> bool:
        """Whether invoicing sums time per ticket and rounds or raises it (a per-ticket rule or a minimum)."""
        return self.rounding == Rounding.TICKET or self.minimum_minutes > 0


class SaleOrder(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Quotation"
        SALE = "sale", "Sales Order"
        CANCEL = "cancel", "Cancelled"

    name = models.CharField("number", max_length=20, unique=True, blank=True, null=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    state = models.CharField(max_length=8, choices=State.choices, default=State.DRAFT, editable=False)
    date_order = models.DateField("order date", auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-pk"]
        verbose_name = "sales order"

    def __str__(self):
        return self.name or "New quotation"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if not self.name:
            # Numbered from the primary key: unique without a shared counter.
            self.name = f"S{self.pk:05d}"
            type(self).objects.filter(pk=self.pk).update(name=self.name)

    @property
    def is_confirmed(self) -> bool:
        return self.state == self.State.SALE


class SaleOrderLine(models.Model):
    order = models.ForeignKey(SaleOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    name = models.CharField("description", max_length=300, blank=True)
    quantity = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )
    uom = models.CharField("unit", max_length=8, choices=UOM_CHOICES, default=HOUR)
    price_unit = models.DecimalField(
        "unit price", max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    tax = models.ForeignKey(Tax, null=True, blank=True, on_delete=models.PROTECT)
    # Stored totals, kept by services and checked by `check_billing`:
    # time logged against the line, and the part of it on live invoices.
    delivered_minutes = models.PositiveBigIntegerField(default=0, editable=False)
    invoiced_minutes = models.PositiveBigIntegerField(default=0, editable=False)
    # Minutes billed beyond the entries (Rule 14): the rounding of its live invoice lines, less what
    # posted credit notes gave back. Invoiced is invoiced_minutes + rounding_minutes.
    rounding_minutes = models.BigIntegerField(default=0, editable=False)
    # "Based on Delivered Quantity (Manual)": the delivered quantity typed by hand.
    qty_delivered_manual = models.DecimalField(
        "delivered (manual)", max_digits=12, decimal_places=2, default=Decimal("0.00"),
        validators=[MinValueValidator(0)],
    )
    # Quantity on live invoices less posted credit notes (ordered and manual lines).
    qty_invoiced = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"), editable=False)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = "sales order item"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="sol_quantity_gte_0"),
            models.CheckConstraint(condition=Q(price_unit__gte=0), name="sol_price_gte_0"),
            models.CheckConstraint(condition=Q(invoiced_minutes__lte=models.F("delivered_minutes")),
                                   name="sol_invoiced_lte_delivered"),
        ]

    def __str__(self):
        return f"{self.order} - {self.name or self.product}"

    @property
    def policy(self) -> str:
        return self.product.service_policy

    @property
    def is_timesheet_based(self) -> bool:
        return self.policy == ServicePolicy.DELIVERED_TIMESHEET

    @property
    def delivered(self) -> Decimal:
        """Delivered quantity in the line's unit."""
        if self.policy == ServicePolicy.DELIVERED_MANUAL:
            return self.qty_delivered_manual
        return minutes_to_qty(self.delivered_minutes, self.uom)

    @property
    def invoiced(self) -> Decimal:
        if self.is_timesheet_based:
            return minutes_to_qty(self.invoiced_minutes + self.rounding_minutes, self.uom)
        return self.qty_invoiced

    @property
    def to_invoice(self) -> Decimal:
        """What "Create Invoice" would bill now; computed in minutes for time so nothing is left over."""
        if self.is_timesheet_based:
            return minutes_to_qty(self.delivered_minutes - self.invoiced_minutes, self.uom)
        if self.policy == ServicePolicy.ORDERED_PREPAID:
            return max(self.quantity - self.qty_invoiced, Decimal("0.00"))
        return max(self.qty_delivered_manual - self.qty_invoiced, Decimal("0.00"))

    @property
    def remaining(self) -> Decimal:
        """Prepaid lines: ordered quantity less the time spent against it."""
        return self.quantity - minutes_to_qty(self.delivered_minutes, self.uom)

    @property
    def invoice_status(self) -> str:
        if self.to_invoice > 0:
            return "to invoice"
        if self.invoiced > 0:
            return "invoiced"
        return "nothing to invoice"



class Rate(models.Model):
    """A rate of a sales order (DESIGN Rule 13): the time of an agent or of a work type bills this line of it."""

    sale_line = models.ForeignKey(SaleOrderLine, on_delete=models.CASCADE, related_name="+",
                                  verbose_name="Sales Order Item")

    class Meta:
        abstract = True
        ordering = ["order", "pk"]

    def __str__(self):
        return f"{self.whose} → {self.sale_line}"


class AgentRate(Rate):
    """Rates by agent: time of this agent on the order bills this line."""

    order = models.ForeignKey(SaleOrder, on_delete=models.CASCADE, related_name="agent_rates")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             verbose_name="agent")

    class Meta(Rate.Meta):
        verbose_name = "rate by agent"
        verbose_name_plural = "Rates by agent"
        constraints = [models.UniqueConstraint(fields=["order", "user"], name="agent_rate_once_per_order")]

    @property
    def whose(self):
        return self.user


class WorkTypeRate(Rate):
    """Rates by work type: time of this work type on the order bills this line."""

    order = models.ForeignKey(SaleOrder, on_delete=models.CASCADE, related_name="work_type_rates")
    work_type = models.ForeignKey(WorkType, on_delete=models.PROTECT, related_name="+")

    class Meta(Rate.Meta):
        verbose_name = "rate by work type"
        verbose_name_plural = "Rates by work type"
        constraints = [models.UniqueConstraint(fields=["order", "work_type"], name="work_type_rate_once_per_order")]

    @property
    def whose(self):
        return self.work_type
