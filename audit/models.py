"""Who did what: the append-only log of billing events, and the failed logins that throttle password guessing.

The audit app imports nothing of ours, so every app may record into it.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

APPEND_ONLY = "Audit events are append-only: they are never changed or deleted."
# Changes whose value is a list of values, not a [before, after] pair.
LISTS = {"period", "timesheets", "removed_timesheets", "freed_timesheets", "written_off_timesheets"}


class AppendOnlyError(Exception):
    """An attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    # QuerySet.update() and delete() skip Model.save() and delete(): they are refused here too.
    # The database refuses them as well on PostgreSQL (migration 0002, a trigger).
    def update(self, **kwargs):
        raise AppendOnlyError(APPEND_ONLY)

    def delete(self):
        raise AppendOnlyError(APPEND_ONLY)

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError(APPEND_ONLY)


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        ENTRY_CREATED = "entry.created", _("Timesheet logged")
        ENTRY_EDITED = "entry.edited", _("Timesheet edited")
        ENTRY_DELETED = "entry.deleted", _("Timesheet deleted")
        ORDER_CONFIRMED = "order.confirmed", _("Sales order confirmed")
        ORDER_CANCELLED = "order.cancelled", _("Sales order cancelled")
        INVOICE_CREATED = "invoice.created", _("Invoice created")
        INVOICE_TIMESHEETS_REMOVED = "invoice.timesheets_removed", _("Timesheets taken off the invoice")
        INVOICE_POSTED = "invoice.posted", _("Posted")
        INVOICE_CANCELLED = "invoice.cancelled", _("Cancelled")
        INVOICE_CREDITED = "invoice.credited", _("Credit note drafted")
        CREDIT_NOTE_CREATED = "credit_note.created", _("Credit note created")
        TICKET_CUSTOMER_CHANGED = "ticket.customer_changed", _("Ticket moved to another customer")
        TICKET_CREATED = "ticket.created", _("Ticket created")
        TICKET_STATUS_CHANGED = "ticket.status_changed", _("Status changed")
        TICKET_ASSIGNED = "ticket.assigned", _("Assigned")
        INVOICE_SENT = "invoice.sent", _("Sent by email")
        INVOICE_PDF_STORED = "invoice.pdf_stored", _("PDF stored")
        BILLING_RUN_STARTED = "billing_run.started", _("Billing run started")
        ENTRY_APPROVED = "entry.approved", _("Timesheet approved")
        ENTRY_REJECTED = "entry.rejected", _("Timesheet rejected")
        ENTRY_WRITTEN_OFF = "entry.written_off", _("Timesheet written off")
        ENTRY_REINSTATED = "entry.reinstated", _("Timesheet reinstated")
        INVOICE_WRITTEN_OFF = "invoice.written_off", _("Timesheets written off")
        LOCK_DATE_CHANGED = "timesheets.lock_changed", _("Timesheets lock date changed")
        TEAM_INVOICING_CHANGED = "team.invoicing_changed", _("Invoiced Timesheets changed")
        ORDER_RATES_CHANGED = "order.rates_changed", _("Rates changed")
        WORK_TYPE_CHANGED = "work_type.changed", _("Work type billing changed")
        PRODUCT_RULE_CHANGED = "product.rule_changed", _("Billing rule changed")
        COMPANY_CHANGED = "company.changed", _("Company settings changed")
        CUSTOMER_BILLING_CHANGED = "customer.billing_changed", _("Customer billing details changed")
        INVOICE_DUE_DATE_SET = "invoice.due_date_set", _("Due date set")
        PAYMENT_REGISTERED = "payment.registered", _("Payment registered")
        PAYMENT_REVERSED = "payment.reversed", _("Payment reversed")
        REMINDER_SENT = "invoice.reminder_sent", _("Payment reminder sent")
        ALERT_RAISED = "alert.raised", _("Alert raised")
        ALERT_CLEARED = "alert.cleared", _("Alert dealt with")
        ALERT_ENDED = "alert.ended", _("Alert ended (back under its threshold)")
        # The customer portal (issue 18).
        CONTACT_INVITED = "contact.invited", _("Contact invited")
        CONTACT_JOINED = "contact.joined", _("Contact set their password")
        CONTACT_DEACTIVATED = "contact.deactivated", _("Contact deactivated")
        TICKET_MESSAGE = "ticket.message", _("Message added")
        ENTRY_ACKNOWLEDGED = "entry.acknowledged", _("Timesheet acknowledged by the customer")
        ENTRY_DISPUTED = "entry.disputed", _("Timesheet disputed by the customer")
        DISPUTE_RESOLVED = "entry.dispute_resolved", _("Dispute resolved")
        TEAM_PORTAL_CHANGED = "team.portal_changed", _("Portal settings changed")

    # Who: null for a change made outside a request (a command, a migration).
    # PROTECT: people who billed are deactivated, never deleted, like the agents of time entries.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("actor"))
    # The actor's username as it was, so the event reads the same after a rename.
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    # What: a model label ("invoicing.invoice") and a primary key; no foreign key, so
    # deleting a draft or a time entry keeps its history.
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.BigIntegerField(_("object id"))
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    # What changed: {"field": [before, after]} for edits, the figures that matter otherwise.
    changes = models.JSONField(_("changes"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_event_object")]

    def __str__(self):
        who = self.actor_name or gettext("system")
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who}: {self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(APPEND_ONLY)
        kwargs.pop("force_update", None)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(APPEND_ONLY)

    @property
    def sentence(self) -> str:
        """The event as one sentence of a History (audit.sentences)."""
        from .sentences import sentence

        return sentence(self)

    def change_items(self) -> list[tuple[str, str]]:
        """Return the changes as (name, text), the raw record for the admin's detail: "draft → posted" for
        [before, after] pairs, "yes" and "no" for flags. Histories show `sentence` instead."""
        items = []
        for name, value in self.changes.items():
            if isinstance(value, list) and len(value) == 2 and name not in LISTS:
                before, after = (_shown(v) for v in value)
                text = f"{before} → {after}"
            elif isinstance(value, list):
                text = ", ".join("…" if v is None else str(v) for v in value) or gettext("none")
            else:
                text = _shown(value)
            items.append((name.replace("_", " "), text))
        return items


def _shown(value) -> str:
    """A recorded value as text: "—" for nothing, "yes" and "no" for a flag."""
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return str(value)


class LoginFailure(models.Model):
    """A failed login: enough of them for one username from one address locks that pair out for a while."""

    username = models.CharField(_("username"), max_length=150)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("login failure")
        verbose_name_plural = _("login failures")
        indexes = [models.Index(fields=["username", "ip", "at"], name="login_failure_lookup")]

    def __str__(self):
        return f"{self.username} from {self.ip} at {self.at:%Y-%m-%d %H:%M:%S}"
