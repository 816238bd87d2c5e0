from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.errors import Conflict
from sales.models import Customer, SaleOrder, SaleOrderLine
from sales.units import UOM_CHOICES
from timesheets.models import TimeEntry

ZERO = Decimal("0.00")


class Invoice(models.Model):
    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit Note"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        POSTED = "posted", "Posted"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    # Given at posting, gapless per kind and year: INV/2026/00001, RINV/2026/00001.
    number = models.CharField(max_length=20, null=True, blank=True, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    sale_order = models.ForeignKey(SaleOrder, on_delete=models.PROTECT, related_name="invoices")
    refers = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes",
        help_text="The invoice a credit note corrects.",
    )
    invoice_date = models.DateField(null=True, blank=True)
    # Snapshot of the customer, taken at creation and again at posting; a posted
    # invoice keeps what it said even when the customer record changes.
    customer_name = models.CharField(max_length=200)
    customer_address = models.TextField(blank=True)
    customer_vat = models.CharField("customer VAT number", max_length=40, blank=True)
    amount_untaxed = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    amount_tax = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    amount_total = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    period_start = models.DateField(null=True, blank=True, help_text="Timesheets from this date.")
    period_end = models.DateField(null=True, blank=True, help_text="Timesheets up to this date.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(state="draft") | Q(state="cancelled") | Q(number__isnull=False),
                                   name="invoice_posted_has_number"),
            models.CheckConstraint(condition=Q(kind="invoice", refers__isnull=True)
                                   | Q(kind="credit_note", refers__isnull=False),
                                   name="invoice_credit_note_refers"),
        ]

    def __str__(self):
        if self.number:
            return self.number
        label = "Credit Note" if self.kind == self.Kind.CREDIT_NOTE else "Invoice"
        return f"Draft {label} ({self.pk})"

    def delete(self, *args, **kwargs):
        if self.state == self.State.POSTED:
            raise Conflict("Posted invoices are never deleted: correct them with a credit note.")
        return super().delete(*args, **kwargs)

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def sign(self) -> int:
        """-1 for a credit note: its amounts are stored positive and count against the invoice."""
        return -1 if self.is_credit_note else 1


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    sale_line = models.ForeignKey(SaleOrderLine, on_delete=models.PROTECT, related_name="invoice_lines")
    origin = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_lines",
        help_text="On a credit note: the invoice line it gives back.",
    )
    name = models.CharField("description", max_length=300)
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    uom = models.CharField("unit", max_length=8, choices=UOM_CHOICES)
    price_unit = models.DecimalField("unit price", max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField("tax (%)", max_digits=5, decimal_places=2, default=ZERO)
    # Billable minutes this line bills (timesheet lines); the quantity is these in the unit.
    minutes = models.PositiveBigIntegerField(default=0)
    amount_untaxed = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    amount_tax = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    # On a credit note: the entries it gives back (freed when it is posted).
    credited_timesheets = models.ManyToManyField(TimeEntry, blank=True, related_name="credit_lines")

    class Meta:
        ordering = ["invoice", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="invoice_line_quantity_gte_0"),
        ]

    def __str__(self):
        return self.name

    @property
    def amount_total(self) -> Decimal:
        return self.amount_untaxed + self.amount_tax


class InvoiceSequence(models.Model):
    """The last number given per kind and year; its row is locked while numbering."""

    kind = models.CharField(max_length=12, choices=Invoice.Kind.choices)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="invoice_sequence_unique")]

    def __str__(self):
        return f"{self.kind} {self.year}: {self.last}"
