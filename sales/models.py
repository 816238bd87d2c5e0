from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from .identifiers import CURRENCIES, bic_clean, iban_clean, vat_clean
from .units import HOUR, UOM_CHOICES, minutes_to_qty

# Payment terms are days after the invoice date; a year is the longest anyone is given.
TERMS_VALIDATORS = [MinValueValidator(0), MaxValueValidator(365)]


def reminder_days_clean(text: str) -> list[int]:
    """"7, 21" -> [7, 21]: days after the due date when a reminder goes out, each once."""
    try:
        days = sorted({int(part) for part in (text or "").replace(";", ",").split(",") if part.strip()})
    except ValueError:
        raise ValidationError(gettext("{text} is not a list of days: write them with commas, e.g. 7, 21.")
                              .format(text=text), code="reminder_days") from None
    if any(day < 1 or day > 365 for day in days):
        raise ValidationError(gettext("Reminders go out 1 to 365 days after the due date, e.g. 7, 21."),
                              code="reminder_days")
    return days


class Company(models.Model):
    """The company that issues the invoices: one row (pk 1), kept by managers in the admin.

    Invoices copy what they print of it when they are posted (Invoice.seller): a posted invoice says
    what it said, whatever this row becomes.
    """

    name = models.CharField(_("name"), max_length=200, default="Helpdesk Services SRL")
    address = models.TextField(_("address"), blank=True, default="12 Rue de la Loi\n1000 Brussels")
    country = CountryField(_("country"), default="BE")
    vat_number = models.CharField(_("VAT number"), max_length=40, blank=True, default="BE0403019261")
    email = models.EmailField(_("email"), blank=True, default="billing@example.com",
                              help_text=_("Printed on invoices; replies to invoice and reminder emails go here."))
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    currency = models.CharField(_("currency"), max_length=3, choices=[(code, code) for code in CURRENCIES],
                                default="EUR",
                                help_text=_("ISO 4217, one per company: orders and new invoices are in it."))
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=TERMS_VALIDATORS,
        help_text=_("Days after the invoice date it is due, for customers without terms of their own."))
    reminder_days = models.CharField(
        _("reminder days"), max_length=60, blank=True, default="7, 21",
        help_text=_("Days after the due date when a reminder is emailed for an unpaid invoice, each once; "
                    "empty sends none."))
    logo = models.ImageField(_("logo"), upload_to="company/", blank=True)
    invoice_footer = models.TextField(_("invoice footer"), blank=True,
                                      help_text=_("Printed at the foot of every invoice."))
    portal_shows_agents = models.BooleanField(
        _("portal shows agents' names"), default=True,
        help_text=_("Customers' contacts see who logged each timesheet on their tickets; else \"Support team\"."))

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("company")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="company_one_row")]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        for field, check in (("vat_number", lambda v: vat_clean(v, self.country.code)), ("iban", iban_clean),
                             ("bic", bic_clean), ("reminder_days", reminder_days_clean)):
            try:
                value = check(getattr(self, field))
            except ValidationError as error:
                errors[field] = error.messages
            else:
                if field != "reminder_days":
                    setattr(self, field, value)
        if errors:
            raise ValidationError(errors)

    @classmethod
    def current(cls) -> "Company":
        """The one row, made with the defaults the first time it is asked for."""
        return cls.objects.get_or_create(pk=1)[0]

    @property
    def reminder_steps(self) -> list[int]:
        return reminder_days_clean(self.reminder_days)

    def snapshot(self) -> dict:
        """What an invoice keeps of the company when it is posted."""
        return {"name": self.name, "address": self.address, "country": self.country.code,
                "vat_number": self.vat_number, "email": self.email, "iban": self.iban, "bic": self.bic,
                "invoice_footer": self.invoice_footer, "logo": self.logo.name if self.logo else ""}


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    billing_email = models.EmailField(_("billing email"), blank=True,
                                      help_text=_("Where invoices and reminders go; else the email."))
    address = models.TextField(_("address"), blank=True)
    country = CountryField(_("country"), blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=40, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), null=True, blank=True, validators=TERMS_VALIDATORS,
        help_text=_("Days after the invoice date it is due; empty takes the company's."))
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True,
        help_text=_("The language of the invoices, credit notes and emails sent to this customer; empty: English."))

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self):
        return self.name

    def clean(self):
        try:
            self.vat_number = vat_clean(self.vat_number, self.country.code if self.country else "")
        except ValidationError as error:
            raise ValidationError({"vat_number": error.messages}) from None

    @property
    def invoice_email(self) -> str:
        return self.billing_email or self.email


class Contact(models.Model):
    """A customer's contact: a user of the customer portal (issue 18), who sees that customer's tickets, time,
    hours and invoices, and nothing else. Invited by a manager or an accountant (sales.contacts)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contact",
                                verbose_name=_("user"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contacts",
                                 verbose_name=_("customer"))
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("invited by"))
    invited_at = models.DateTimeField(_("invited at"), auto_now_add=True)
    # When "Forgot your password?" last emailed them a link: it sends at most one a while.
    reset_sent_at = models.DateTimeField(_("password link sent at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["customer", "user__email", "pk"]
        verbose_name = _("customer contact")
        verbose_name_plural = _("customer contacts")

    def __str__(self):
        return f"{self.name} ({self.customer})"

    @property
    def name(self) -> str:
        return self.user.get_full_name() or self.user.email

    @property
    def joined(self) -> bool:
        """Whether they set a password (followed the invitation's link)."""
        return self.user.has_usable_password()


class Tax(models.Model):
    name = models.CharField(_("name"), max_length=100)
    rate = models.DecimalField(
        _("rate (%)"), max_digits=5, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["rate", "name"]
        verbose_name = _("tax")
        verbose_name_plural = _("taxes")
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lte=100), name="tax_rate_0_100",
                                   violation_error_message=_("A tax rate is between 0 and 100%.")),
        ]

    def __str__(self):
        return self.name


class ServicePolicy(models.TextChoices):
    DELIVERED_TIMESHEET = "delivered_timesheet", _("Based on Timesheets")
    ORDERED_PREPAID = "ordered_prepaid", _("Prepaid/Fixed Price")
    DELIVERED_MANUAL = "delivered_manual", _("Based on Delivered Quantity (Manual)")


# Policies whose lines may receive time entries.
TIMESHEET_POLICIES = (ServicePolicy.DELIVERED_TIMESHEET, ServicePolicy.ORDERED_PREPAID)


class WorkType(models.Model):
    """What kind of work time is (DESIGN Rule 13): "Remote support", "On-site", "Internal", "Goodwill"."""

    class Billing(models.TextChoices):
        BILLABLE = "billable", _("Billable")
        NON_BILLABLE = "non_billable", _("Non-billable")  # never reaches a customer: it bills no line
        NO_CHARGE = "no_charge", _("No charge")  # shown to the customer at 0.00, as goodwill

    name = models.CharField(_("name"), max_length=100, unique=True)
    billing = models.CharField(_("billing"), max_length=12, choices=Billing.choices, default=Billing.BILLABLE)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("work type")
        verbose_name_plural = _("work types")

    def __str__(self):
        return self.name

    @property
    def bills_a_line(self) -> bool:
        return self.billing != self.Billing.NON_BILLABLE

    @property
    def charges(self) -> bool:
        return self.billing == self.Billing.BILLABLE


class Rounding(models.TextChoices):
    ENTRY = "entry", _("Per entry")
    TICKET = "ticket", _("Per ticket")


class Product(models.Model):
    name = models.CharField(_("name"), max_length=200)
    list_price = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    uom = models.CharField(_("unit"), max_length=8, choices=UOM_CHOICES, default=HOUR)
    service_policy = models.CharField(
        _("service policy"), max_length=24, choices=ServicePolicy.choices, default=ServicePolicy.DELIVERED_TIMESHEET
    )
    tax = models.ForeignKey(Tax, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("default tax"))
    billing_increment_minutes = models.PositiveIntegerField(
        _("billing increment minutes"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Time is billed rounded up to a multiple of this many minutes: each entry, or each "
                    "ticket's sum on an invoice (Rounding)."),
    )
    rounding = models.CharField(
        _("rounding"), max_length=8, choices=Rounding.choices, default=Rounding.ENTRY,
        help_text=_("Per entry: each time entry is rounded up. Per ticket: on an invoice, a ticket's time is "
                    "summed, then rounded up (DESIGN Rule 14)."),
    )
    minimum_minutes = models.PositiveIntegerField(
        _("minimum charge (minutes)"), default=0,
        help_text=_("Per ticket per invoice: a ticket with time on an invoice is billed at least this long."),
    )
    # Alerts (reports.alerts): Odoo's upsell warning, and a prepaid block running low.
    alert_delivered_percent = models.PositiveIntegerField(
        # Translators: xgettext:no-python-format
        _("alert when Delivered reaches (% of ordered)"), null=True, blank=True, default=100,
        validators=[MinValueValidator(1)],
        help_text=_("The order's accountant is alerted once when a line's Delivered reaches this share of its "
                    "ordered quantity; empty: never."),
    )
    alert_remaining_hours = models.DecimalField(
        _("alert when remaining hours fall below"), max_digits=8, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Prepaid lines: the order's accountant is alerted once when the hours left fall below this; "
                    "empty: never."),
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(billing_increment_minutes__gte=1), name="product_increment_gte_1",
                                   violation_error_message=_("The billing increment is at least 1 minute.")),
            models.CheckConstraint(condition=Q(list_price__gte=0), name="product_price_gte_0",
                                   violation_error_message=_("A price cannot be negative.")),
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
        DRAFT = "draft", _("Quotation")
        SALE = "sale", _("Sales Order")
        CANCEL = "cancel", _("Cancelled")

    name = models.CharField(_("number"), max_length=20, unique=True, blank=True, null=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders",
                                 verbose_name=_("customer"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.DRAFT, editable=False)
    date_order = models.DateField(_("order date"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True, editable=False)
    # Who looks after its billing: its alerts go to them (to every accountant when empty).
    accountant = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", limit_choices_to={"groups__name": "Accountants"},
                                   verbose_name=_("accountant"))

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")

    def __str__(self):
        return self.name or gettext("New quotation")

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
    order = models.ForeignKey(SaleOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    name = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )
    uom = models.CharField(_("unit"), max_length=8, choices=UOM_CHOICES, default=HOUR)
    price_unit = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    tax = models.ForeignKey(Tax, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("tax"))
    # Stored totals, kept by services and checked by `check_billing`:
    # time logged against the line, and the part of it on live invoices.
    delivered_minutes = models.PositiveBigIntegerField(_("delivered minutes"), default=0, editable=False)
    invoiced_minutes = models.PositiveBigIntegerField(_("invoiced minutes"), default=0, editable=False)
    # Minutes billed beyond the entries (Rule 14): the rounding of its live invoice lines, less what
    # posted credit notes gave back. Invoiced is invoiced_minutes + rounding_minutes.
    rounding_minutes = models.BigIntegerField(_("rounding minutes"), default=0, editable=False)
    # "Based on Delivered Quantity (Manual)": the delivered quantity typed by hand.
    qty_delivered_manual = models.DecimalField(
        _("delivered (manual)"), max_digits=12, decimal_places=2, default=Decimal("0.00"),
        validators=[MinValueValidator(0)],
    )
    # Quantity on live invoices less posted credit notes (ordered and manual lines).
    qty_invoiced = models.DecimalField(_("qty invoiced"), max_digits=12, decimal_places=2, default=Decimal("0.00"),
                                       editable=False)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("sales order item")
        verbose_name_plural = _("sales order items")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="sol_quantity_gte_0",
                                   violation_error_message=_("A quantity cannot be negative.")),
            models.CheckConstraint(condition=Q(price_unit__gte=0), name="sol_price_gte_0",
                                   violation_error_message=_("A price cannot be negative.")),
            models.CheckConstraint(condition=Q(invoiced_minutes__lte=models.F("delivered_minutes")),
                                   name="sol_invoiced_lte_delivered",
                                   violation_error_message=_("A line cannot invoice more time than it delivered.")),
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
                                  verbose_name=_("Sales Order Item"))

    class Meta:
        abstract = True
        ordering = ["order", "pk"]

    def __str__(self):
        return f"{self.whose} → {self.sale_line}"


class AgentRate(Rate):
    """Rates by agent: time of this agent on the order bills this line."""

    order = models.ForeignKey(SaleOrder, on_delete=models.CASCADE, related_name="agent_rates",
                              verbose_name=_("order"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("agent"))

    class Meta(Rate.Meta):
        verbose_name = _("rate by agent")
        verbose_name_plural = _("Rates by agent")
        constraints = [models.UniqueConstraint(fields=["order", "user"], name="agent_rate_once_per_order",
                                               violation_error_message=_("An agent has one rate per order."))]

    @property
    def whose(self):
        return self.user


class WorkTypeRate(Rate):
    """Rates by work type: time of this work type on the order bills this line."""

    order = models.ForeignKey(SaleOrder, on_delete=models.CASCADE, related_name="work_type_rates",
                              verbose_name=_("order"))
    work_type = models.ForeignKey(WorkType, on_delete=models.PROTECT, related_name="+", verbose_name=_("work type"))

    class Meta(Rate.Meta):
        verbose_name = _("rate by work type")
        verbose_name_plural = _("Rates by work type")
        constraints = [models.UniqueConstraint(fields=["order", "work_type"], name="work_type_rate_once_per_order",
                                               violation_error_message=_("A work type has one rate per order."))]

    @property
    def whose(self):
        return self.work_type
