from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.l10n import day
from projects.models import Project, Task
from sales.models import SaleOrderLine, WorkType
from tickets.models import Ticket

from .durations import MAX_MINUTES, format_minutes


class TimeEntry(models.Model):
    """One line of a Timesheet: time an agent spent on a ticket and/or its task."""

    class Approval(models.TextChoices):
        TO_APPROVE = "to_approve", _("To approve")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    date = models.DateField(_("date"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries",
                             verbose_name=_("agent"))
    description = models.CharField(_("description"), max_length=500, blank=True)
    minutes = models.PositiveIntegerField(_("minutes"), help_text=_("Time spent, in minutes."))
    # `minutes` rounded up to the product's billing increment; 0 when the entry bills no line, or
    # does not count now: rejected, awaiting approval on an "Approved timesheets only" team, or
    # written off (lines.counted). Delivered is the sum of these, whatever the reason.
    billable_minutes = models.PositiveIntegerField(_("billable minutes"), default=0, editable=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="time_entries",
                                verbose_name=_("project"))
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.PROTECT, related_name="time_entries",
                             verbose_name=_("task"))
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.PROTECT, related_name="time_entries",
                               verbose_name=_("ticket"))
    sale_line = models.ForeignKey(
        SaleOrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="time_entries",
        verbose_name=_("Sales Order Item"), db_index=False,  # indexed by entry_by_line below
    )
    # Billable, non-billable or no charge, and which line it bills (Rule 13); none is billable.
    work_type = models.ForeignKey(WorkType, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="time_entries", verbose_name=_("work type"))
    # Set by hand: the line stays when the ticket's or task's Sales Order Item changes.
    sale_line_manual = models.BooleanField(_("Sales Order Item set by hand"), default=False)
    # The live invoice line billing this entry; cleared when a draft is cancelled
    # or a credit note giving the entry back is posted. Set means locked.
    invoice_line = models.ForeignKey(
        "invoicing.InvoiceLine", null=True, blank=True, on_delete=models.PROTECT, related_name="timesheets",
        editable=False, verbose_name=_("invoice line"),
    )
    # Approval (DESIGN Rule 11): changed only by a manager's Approve or Reject (timesheets.approval),
    # and back to "to approve" when a rejected entry is edited.
    approval = models.CharField(_("approval"), max_length=10, choices=Approval.choices, default=Approval.TO_APPROVE,
                                editable=False)
    approval_note = models.CharField(_("rejection reason"), max_length=500, blank=True, editable=False)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", editable=False, verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True, editable=False)
    # Written off (Rule 15): "No charge". Its minutes stay, it bills 0 and never reaches an invoice
    # until a manager reinstates it.
    written_off = models.BooleanField(_("No charge"), default=False, editable=False)
    write_off_reason = models.CharField(_("write-off reason"), max_length=500, blank=True, editable=False)
    # Disputed by the customer on a team that holds disputed time (issue 18): it bills 0, out of Delivered
    # and of invoices, until an accountant resolves the dispute (timesheets.disputes; lines.counted).
    held = models.BooleanField(_("held by a dispute"), default=False, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("timesheet")
        verbose_name_plural = _("Timesheets")
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gt=0) & Q(minutes__lte=MAX_MINUTES),
                                   name="entry_minutes_0_24h",
                                   violation_error_message=_("A duration is more than 0 minutes and at most 24 "
                                                             "hours.")),
            models.CheckConstraint(condition=Q(billable_minutes__gte=F("minutes")) | Q(billable_minutes=0),
                                   name="entry_billable_rounds_up",
                                   violation_error_message=_("The billable time rounds the duration up, or is 0.")),
            models.CheckConstraint(condition=Q(ticket__isnull=False) | Q(task__isnull=False),
                                   name="entry_on_ticket_or_task",
                                   violation_error_message=_("Log time on a ticket or on a task.")),
            models.CheckConstraint(condition=Q(invoice_line__isnull=True) | Q(sale_line__isnull=False),
                                   name="entry_invoiced_has_line",
                                   violation_error_message=_("An invoiced timesheet has a Sales Order Item.")),
            models.CheckConstraint(condition=Q(written_off=False) | Q(billable_minutes=0, invoice_line__isnull=True),
                                   name="entry_written_off_bills_nothing",
                                   violation_error_message=_("A written-off timesheet bills nothing.")),
            models.CheckConstraint(condition=Q(held=False) | Q(billable_minutes=0, invoice_line__isnull=True),
                                   name="entry_held_bills_nothing",
                                   violation_error_message=_("A timesheet held by a dispute bills nothing.")),
        ]
        indexes = [
            # Delivered re-sums a line's entries after an id (services.sale_lines_recompute_after_save):
            # a range of this index, read without visiting the table (PostgreSQL; SQLite leaves out `include`).
            models.Index(fields=["sale_line", "id"], include=["billable_minutes", "invoice_line"],
                         name="entry_by_line"),
            # check_billing sums every entry by (line, invoice line) (delivered.entry_sums): read in that
            # order from here, without a sort (59 ms against 100 ms at a million entries).
            models.Index(fields=["sale_line", "invoice_line"], include=["billable_minutes"], name="entry_pairs"),
            # "Create Invoice" reads the unbilled entries of a line within a period.
            models.Index(fields=["sale_line", "date"], condition=Q(invoice_line__isnull=True),
                         name="entry_unbilled_by_line"),
            # The Time report and the overview read a period's entries (reports.time): a range of this index,
            # without visiting the table on PostgreSQL.
            models.Index(fields=["date"], include=["minutes", "user", "ticket", "task", "project", "sale_line",
                                                   "work_type", "invoice_line", "written_off", "approval"],
                         name="entry_by_date"),
            # Unbilled work and the overview sum what Create Invoice would take (reports.unbilled).
            models.Index(fields=["sale_line"], include=["date", "billable_minutes", "ticket"],
                         condition=Q(invoice_line__isnull=True, billable_minutes__gt=0), name="entry_unbilled"),
            # To Approve lists the entries awaiting review, by agent and date.
            models.Index(fields=["user", "date"], condition=Q(approval="to_approve"), name="entry_to_approve"),
        ]

    def __str__(self):
        return f"{self.date} {self.user} {format_minutes(self.minutes)}"

    def save(self, *args, **kwargs):
        # Read by the post_save receiver, which runs inside super().save().
        self._previous_sale_line_id = getattr(self, "_loaded_sale_line_id", None)
        super().save(*args, **kwargs)
        self._loaded_sale_line_id = self.sale_line_id

    @classmethod
    def from_db(cls, db, field_names, values, *args, **kwargs):
        entry = super().from_db(db, field_names, values, *args, **kwargs)
        # The line it was on, so saving it elsewhere recomputes both lines.
        entry._loaded_sale_line_id = entry.__dict__.get("sale_line_id")
        return entry

    @property
    def is_invoiced(self) -> bool:
        return self.invoice_line_id is not None

    @property
    def is_approved(self) -> bool:
        return self.approval == self.Approval.APPROVED

    @property
    def duration(self) -> str:
        return format_minutes(self.minutes)


class CustomerReview(models.Model):
    """What the customer's contact said of an entry on the portal (issue 18): acknowledged, or disputed with a
    reason, and how an accountant resolved the dispute, with the answer the customer reads.

    One per entry: a resolved dispute is not raised again (the ticket's messages carry the conversation on).
    """

    class State(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        DISPUTED = "disputed", _("Disputed")
        RESOLVED = "resolved", _("Resolved")

    class Resolution(models.TextChoices):
        KEPT = "kept", _("Kept as logged")
        WRITTEN_OFF = "written_off", _("Written off")
        CORRECTED = "corrected", _("Corrected")

    entry = models.OneToOneField(TimeEntry, on_delete=models.CASCADE, related_name="review",
                                 verbose_name=_("timesheet"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices)
    contact = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("contact"))
    at = models.DateTimeField(_("when"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    resolution = models.CharField(_("resolution"), max_length=12, choices=Resolution.choices, blank=True)
    answer = models.CharField(_("answer"), max_length=1000, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("resolved by"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # A correction's minutes before it, which the customer sees beside the new duration.
    minutes_before = models.PositiveIntegerField(_("minutes before"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("customer review")
        verbose_name_plural = _("customer reviews")
        indexes = [models.Index(fields=["at"], condition=Q(state="disputed"), name="review_open_disputes")]
        constraints = [
            models.CheckConstraint(condition=~Q(state="disputed") | ~Q(reason=""), name="review_dispute_has_reason",
                                   violation_error_message=_("A dispute gives its reason.")),
            models.CheckConstraint(condition=Q(state="resolved", resolved_at__isnull=False) | (
                ~Q(state="resolved") & Q(resolution="")), name="review_resolution_when_resolved",
                violation_error_message=_("Only a resolved dispute has a resolution.")),
        ]

    def __str__(self):
        return f"{self.entry_id} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.DISPUTED


class Timer(models.Model):
    """A running timer: an agent's Start on a ticket, kept on the server until Stop."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="timers",
                             verbose_name=_("agent"))
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="timers", verbose_name=_("ticket"))
    started_at = models.DateTimeField(_("started at"))

    class Meta:
        verbose_name = _("timer")
        verbose_name_plural = _("timers")
        constraints = [
            # A second Start (another tab, a double click) finds the running timer instead.
            models.UniqueConstraint(fields=["user", "ticket"], name="timer_one_per_user_ticket",
                                    violation_error_message=_("A timer is already running on this ticket.")),
        ]

    def __str__(self):
        return f"{self.user} on {self.ticket} since {self.started_at:%Y-%m-%d %H:%M}"


class DeliveredCheckpoint(models.Model):
    """The sums of a line's entries up to `last_entry_id`, so that saving an entry re-sums only those after it.

    Exact, not a running total: written only under the line's lock, from sums of the entries
    themselves; an entry it sums that changes makes the next recomputation start from zero.
    """

    sale_line = models.OneToOneField(SaleOrderLine, primary_key=True, on_delete=models.CASCADE, related_name="+")
    last_entry_id = models.BigIntegerField()
    delivered_minutes = models.PositiveBigIntegerField()
    invoiced_minutes = models.PositiveBigIntegerField()

    def __str__(self):
        return f"line {self.sale_line_id} up to entry {self.last_entry_id}: {self.delivered_minutes} min"


class LockDate(models.Model):
    """The global Timesheets lock date and the agents' grace window: one row, set by managers in the admin.

    A team may lock later (HelpdeskTeam.timesheets_lock_date); managers are never locked out.
    """

    lock_date = models.DateField(
        _("Timesheets lock date"), null=True, blank=True,
        help_text=_("Timesheets dated on or before it cannot be logged, changed or deleted, except by managers."))
    agent_grace_days = models.PositiveIntegerField(
        _("Agents may log up to (days back)"), null=True, blank=True,
        help_text=_("Agents cannot log, change or delete time dated further back; empty: no limit."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Timesheets lock date")
        verbose_name_plural = _("Timesheets lock date")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="lock_date_one_row")]

    def __str__(self):
        if self.lock_date:
            return gettext("Timesheets locked up to {date}").format(date=day(self.lock_date))
        return gettext("Timesheets not locked")

    @classmethod
    def current(cls) -> "LockDate":
        """Return the one row (unsaved and empty when never set)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
