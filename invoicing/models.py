from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict
from projects.models import Task
from sales.models import Company, Customer, Rounding, SaleOrder, SaleOrderLine
from sales.units import UOM_CHOICES
from tickets.models import Ticket
from timesheets.models import TimeEntry

ZERO = Decimal("0.00")


def pdf_path(invoice: "Invoice", filename: str) -> str:
    return f"invoices/{invoice.invoice_date:%Y}/{filename}"


class PaymentState(models.TextChoices):
    NOT_PAID = "not_paid", _("Not paid")
    PARTIAL = "partial", _("Partially paid")
    PAID = "paid", _("Paid")
    REVERSED = "reversed", _("Reversed")  # credited in full by credit notes


class Invoice(models.Model):
    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit Note")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        POSTED = "posted", _("Posted")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    # Given at posting, gapless per kind and year: INV/2026/00001, RINV/2026/00001.
    number = models.CharField(_("number"), max_length=20, null=True, blank=True, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices",
                                 verbose_name=_("customer"))
    sale_order = models.ForeignKey(SaleOrder, on_delete=models.PROTECT, related_name="invoices",
                                   verbose_name=_("sale order"))
    refers = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes",
        verbose_name=_("refers"), help_text=_("The invoice a credit note corrects."),
    )
    invoice_date = models.DateField(_("invoice date"), null=True, blank=True)
    # Snapshot of the customer, taken at creation and again at posting; a posted
    # invoice keeps what it said even when the customer record changes.
    customer_name = models.CharField(_("customer name"), max_length=200)
    customer_address = models.TextField(_("customer address"), blank=True)
    customer_vat = models.CharField(_("customer VAT number"), max_length=40, blank=True)
    customer_country = models.CharField(_("customer country"), max_length=2, blank=True)
    customer_email = models.EmailField(_("customer email"), blank=True,
                                       help_text=_("Where it was sent: the customer's billing email."))
    # The company that issues it (sales.Company.snapshot), copied at posting; empty on a draft, which
    # shows the company as it is now.
    seller = models.JSONField(_("seller"), default=dict, blank=True)
    # The company's currency when the invoice was created: its amounts are rounded to its minor unit.
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    # Set at posting from the customer's payment terms (or the company's), unless given on the draft.
    due_date = models.DateField(_("due date"), null=True, blank=True)
    # The structured reference a payer quotes: Belgian OGM (+++…+++) or ISO 11649 (RF…), from the number.
    payment_reference = models.CharField(_("payment reference"), max_length=40, blank=True)
    # The receivable (invoicing.payments): recomputed from payments and credit notes whenever one is
    # registered, reversed or posted; check_billing recomputes and compares.
    amount_paid = models.DecimalField(_("amount paid"), max_digits=14, decimal_places=2, default=ZERO)
    amount_residual = models.DecimalField(_("balance"), max_digits=14, decimal_places=2, default=ZERO)
    payment_state = models.CharField(_("payment state"), max_length=8, choices=PaymentState.choices, blank=True)
    amount_untaxed = models.DecimalField(_("amount untaxed"), max_digits=14, decimal_places=2, default=ZERO)
    amount_tax = models.DecimalField(_("amount tax"), max_digits=14, decimal_places=2, default=ZERO)
    amount_total = models.DecimalField(_("amount total"), max_digits=14, decimal_places=2, default=ZERO)
    period_start = models.DateField(_("period start"), null=True, blank=True,
                                    help_text=_("Timesheets from this date."))
    period_end = models.DateField(_("period end"), null=True, blank=True, help_text=_("Timesheets up to this date."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    # A posted invoice's PDF, rendered once by a job after posting (invoicing.documents); empty until then.
    pdf = models.FileField(_("PDF"), upload_to=pdf_path, blank=True, max_length=200)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(state="draft") | Q(state="cancelled") | Q(number__isnull=False),
                                   name="invoice_posted_has_number"),
            models.CheckConstraint(condition=Q(kind="invoice", refers__isnull=True)
                                   | Q(kind="credit_note", refers__isnull=False),
                                   name="invoice_credit_note_refers"),
            models.CheckConstraint(condition=Q(amount_residual__gte=0), name="invoice_residual_gte_0"),
        ]
        indexes = [models.Index(fields=["payment_state", "due_date"], name="invoice_payment_due")]

    def __str__(self):
        if self.number:
            return self.number
        # "Draft invoice #2": the draft's id, not a count ("Draft Invoice (2)" read as two drafts).
        if self.kind == self.Kind.CREDIT_NOTE:
            return gettext("Draft credit note #{id}").format(id=self.pk)
        return gettext("Draft invoice #{id}").format(id=self.pk)

    def delete(self, *args, **kwargs):
        if self.state == self.State.POSTED:
            raise Conflict(gettext("Posted invoices are never deleted: correct them with a credit note."))
        return super().delete(*args, **kwargs)

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def sign(self) -> int:
        """-1 for a credit note: its amounts are stored positive and count against the invoice."""
        return -1 if self.is_credit_note else 1


    @property
    def issuer(self) -> dict:
        """The company as the invoice printed it when posted, else (a draft) as it is now."""
        if self.seller:
            return self.seller
        if not hasattr(self, "_company_now"):  # read once per object; never written into `seller`
            self._company_now = Company.current().snapshot()
        return self._company_now

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return (self.kind == self.Kind.INVOICE and self.amount_residual > 0 and self.due_date is not None
                and self.due_date < timezone.localdate())


class Payment(models.Model):
    """Money received for an invoice, or refunded on a credit note. Never edited: a mistake is reversed,
    which adds a row of the opposite amount pointing at it (DESIGN: nothing lost)."""

    class Method(models.TextChoices):
        BANK_TRANSFER = "transfer", _("Bank transfer")
        DIRECT_DEBIT = "debit", _("Direct debit")
        CARD = "card", _("Card")
        CASH = "cash", _("Cash")
        OTHER = "other", _("Other")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments",
                                verbose_name=_("invoice"))
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    method = models.CharField(_("method"), max_length=8, choices=Method.choices, default=Method.BANK_TRANSFER)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversal", verbose_name=_("reverses"),
                                    help_text=_("The payment this row cancels."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["invoice", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(reverses__isnull=True, amount__gt=0)
                                   | Q(reverses__isnull=False, amount__lt=0), name="payment_sign"),
        ]

    def __str__(self):
        if self.reverses_id:
            return gettext("Reversal of {amount} on {invoice}").format(amount=self.amount, invoice=self.invoice)
        return gettext("Payment of {amount} on {invoice}").format(amount=self.amount, invoice=self.invoice)

    @property
    def is_reversed(self) -> bool:
        return hasattr(self, "reversal")


class Reminder(models.Model):
    """A payment reminder emailed for an overdue invoice: once per step (days after the due date)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="reminders",
                                verbose_name=_("invoice"))
    step_days = models.PositiveSmallIntegerField(_("step days"), help_text=_("Days after the due date."))
    to = models.EmailField(_("to"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    skipped = models.CharField(_("skipped"), max_length=200, blank=True,
                               help_text=_("Why it was not sent (no email address)."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["invoice", "step_days"]
        constraints = [models.UniqueConstraint(fields=["invoice", "step_days"], name="reminder_once_per_step")]

    def __str__(self):
        return ngettext("{invoice}: reminder after {days} day", "{invoice}: reminder after {days} days",
                        self.step_days).format(invoice=self.invoice, days=self.step_days)


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("invoice"))
    sale_line = models.ForeignKey(SaleOrderLine, on_delete=models.PROTECT, related_name="invoice_lines",
                                  verbose_name=_("sale line"))
    origin = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_lines",
        verbose_name=_("origin"), help_text=_("On a credit note: the invoice line it gives back."),
    )
    name = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    uom = models.CharField(_("unit"), max_length=8, choices=UOM_CHOICES)
    price_unit = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField(_("tax (%)"), max_digits=5, decimal_places=2, default=ZERO)
    # Minutes this line bills (timesheet lines): its entries' billable minutes plus its rounding; the
    # quantity is these in the unit.
    minutes = models.PositiveBigIntegerField(_("minutes"), default=0)
    # Rule 14: the minutes billed beyond the entries, the sum of its charges' (TicketCharge). Negative on
    # a credit note that gives back entries whose ticket's charge still covers them.
    rounding_minutes = models.BigIntegerField(_("rounding minutes"), default=0)
    # What it bills and why, as snapshots: its entries (no-charge ones included), their worked minutes,
    # the product's rule when it was created, and the sentence shown on the screen, the PDF and the API.
    entry_count = models.PositiveIntegerField(_("entry count"), default=0)
    worked_minutes = models.PositiveBigIntegerField(_("worked minutes"), default=0)
    rounding = models.CharField(_("rounding"), max_length=8, choices=Rounding.choices, default=Rounding.ENTRY)
    increment_minutes = models.PositiveIntegerField(_("increment minutes"), default=1)
    minimum_minutes = models.PositiveIntegerField(_("minimum minutes"), default=0)
    explanation = models.CharField(_("explanation"), max_length=500, blank=True)
    amount_untaxed = models.DecimalField(_("amount untaxed"), max_digits=14, decimal_places=2, default=ZERO)
    amount_tax = models.DecimalField(_("amount tax"), max_digits=14, decimal_places=2, default=ZERO)
    # On a credit note: the entries it gives back (freed when it is posted).
    credited_timesheets = models.ManyToManyField(TimeEntry, blank=True, related_name="credit_lines",
                                                 verbose_name=_("credited timesheets"))

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="invoice_line_quantity_gte_0"),
        ]

    def __str__(self):
        return self.name

    @property
    def amount_total(self) -> Decimal:
        return self.amount_untaxed + self.amount_tax


class TicketCharge(models.Model):
    """What a timesheet invoice line charges for one ticket (or one task without a ticket), Rule 14:
    the entries' billable minutes summed, rounded up to the increment, raised to the minimum. On a credit
    note: what it gives back of that ticket, so that crediting every entry returns exactly what was billed.
    """

    invoice_line = models.ForeignKey(InvoiceLine, on_delete=models.CASCADE, related_name="charges",
                                     verbose_name=_("invoice line"))
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("ticket"))
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("task"))
    entries = models.PositiveIntegerField(_("entries"), default=0)
    minutes = models.PositiveBigIntegerField(_("minutes"), help_text=_("The entries' billable minutes."))
    billed = models.PositiveBigIntegerField(_("billed"), help_text=_("The minutes charged."))

    class Meta:
        verbose_name = _("ticket charge")
        verbose_name_plural = _("ticket charges")
        ordering = ["invoice_line", "pk"]
        constraints = [models.CheckConstraint(condition=Q(ticket__isnull=False) | Q(task__isnull=False),
                                              name="charge_ticket_or_task")]

    def __str__(self):
        return f"{self.ticket or self.task}: {self.minutes} → {self.billed} min"

    @property
    def rounding(self) -> int:
        return self.billed - self.minutes


class InvoiceSequence(models.Model):
    """The last number given per kind and year; its row is locked while numbering."""

    kind = models.CharField(_("kind"), max_length=12, choices=Invoice.Kind.choices)
    year = models.PositiveIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last"), default=0)

    class Meta:
        verbose_name = _("invoice sequence")
        verbose_name_plural = _("invoice sequences")
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="invoice_sequence_unique")]

    def __str__(self):
        return f"{self.kind} {self.year}: {self.last}"


class BillingRun(models.Model):
    """The month-end "Create Invoices" over many orders, done by background jobs (DESIGN Rule 16).

    A run has up to three steps, each a job with its own progress: create the invoices, post them,
    send them by email. Each step's items are the run's orders, one row each: an order is invoiced,
    posted and sent at most once per run, whatever is killed or resumed.
    """

    period_end = models.DateField(_("up to"), null=True, blank=True,
                                  help_text=_("Timesheets up to this date; empty means all."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        ordering = ["-pk"]

    def __str__(self):
        return gettext("Billing run {id}").format(id=self.pk)


class RunStep(models.Model):
    class Kind(models.TextChoices):
        CREATE = "create", _("Create Invoices")
        POST = "post", _("Post")
        SEND = "send", _("Send by email")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="steps", verbose_name=_("run"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Moved by the job after each item: a step not done whose beat is older than JOB_STALL_SECONDS lost its worker.
    beat_at = models.DateTimeField(_("beat at"))
    # The job last enqueued for this step (django-tasks-db's result id).
    task_id = models.CharField(_("task id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("run step")
        verbose_name_plural = _("run steps")
        ordering = ["run", "pk"]
        constraints = [models.UniqueConstraint(fields=["run", "kind"], name="run_step_once_per_kind")]

    def __str__(self):
        return gettext("{run}: {step}").format(run=self.run, step=self.get_kind_display())


class RunItem(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        # Send only: taken by a job that is sending it; left so by a killed worker, it is never sent again blindly.
        SENDING = "sending", _("Sending")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused")

    step = models.ForeignKey(RunStep, on_delete=models.CASCADE, related_name="items", verbose_name=_("step"))
    order = models.ForeignKey(SaleOrder, on_delete=models.PROTECT, related_name="+", verbose_name=_("order"))
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("invoice"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    reason = models.TextField(_("reason"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("run item")
        verbose_name_plural = _("run items")
        ordering = ["step", "pk"]
        constraints = [models.UniqueConstraint(fields=["step", "order"], name="run_item_once_per_order")]
        indexes = [models.Index(fields=["step", "state"], name="run_item_step_state")]

    def __str__(self):
        return f"{self.step}: {self.order}"
