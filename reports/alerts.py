"""Raising, ending and clearing alerts (models.Alert), and emailing them.

`alerts_scan` is set-based: two queries find the lines whose condition holds, whatever the number of
lines, and it runs at every sweep of every worker (the worker command), so logging time pays nothing
for it. Scans are serialised by the company row's lock; the unique (line, kind) of a live alert would
refuse a second one anyway. The email is recorded before it goes out: at most once (DESIGN Rule 16).
Each recipient reads it in their own language (core.languages).
"""

import logging
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import DecimalField, Exists, ExpressionWrapper, F, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.models import AuditEvent
from audit.services import audit_record, audit_record_many
from core.errors import Conflict
from core.l10n import day, decimal
from core.languages import CODES, language_of, with_language
from core.roles import ACCOUNTANTS
from sales.models import TIMESHEET_POLICIES, Company, SaleOrder, SaleOrderLine, ServicePolicy
from sales.units import format_minutes, minutes_per_unit_expression

from .models import Alert

log = logging.getLogger(__name__)
# Stored in emailed_to (a marker, not a message): kept as it is whatever the language.
NOBODY = "(no accountant has an email address)"


def _ordered_minutes():
    return ExpressionWrapper(F("quantity") * minutes_per_unit_expression(),
                             output_field=DecimalField(max_digits=20, decimal_places=2))


def _lines():
    return (SaleOrderLine.objects.filter(order__state=SaleOrder.State.SALE, quantity__gt=0,
                                         product__service_policy__in=TIMESHEET_POLICIES)
            .annotate(ordered=_ordered_minutes()))


def crossing(kind: str):
    """The lines whose condition of `kind` holds now, with `ordered` (minutes) and `limit` (the threshold)."""
    if kind == Alert.Kind.DELIVERED:
        # Delivered × 100 ≥ ordered × percent: reached, in whole minutes, with no division.
        return (_lines().filter(product__alert_delivered_percent__isnull=False)
                .annotate(limit=F("product__alert_delivered_percent"),
                          reached=ExpressionWrapper(F("ordered") * F("product__alert_delivered_percent"),
                                                    output_field=DecimalField(max_digits=24, decimal_places=2)))
                .filter(reached__lte=F("delivered_minutes") * 100))
    return (_lines().filter(product__service_policy=ServicePolicy.ORDERED_PREPAID,
                            product__alert_remaining_hours__isnull=False)
            .annotate(limit=F("product__alert_remaining_hours"),
                      floor=ExpressionWrapper(F("product__alert_remaining_hours") * 60 + F("delivered_minutes"),
                                              output_field=DecimalField(max_digits=24, decimal_places=2)))
            .filter(ordered__lt=F("floor")))


def _live(kind: str):
    return Alert.objects.filter(kind=kind, ended_at__isnull=True)


@transaction.atomic
def alerts_scan(now=None) -> list[Alert]:
    """End the alerts whose condition stopped holding and raise one for each new crossing; return those
    raised. Their email is queued when the scan commits."""
    now = now or timezone.now()
    list(Company.objects.select_for_update().filter(pk=1).values_list("pk"))  # one scan at a time
    raised = []
    for kind in Alert.Kind.values:
        holding = crossing(kind)
        ended = list(_live(kind).exclude(sale_line__in=holding.values("pk")).select_related("sale_line__order"))
        if ended:
            Alert.objects.filter(pk__in=[alert.pk for alert in ended]).update(ended_at=now)
            audit_record_many(action=AuditEvent.Action.ALERT_ENDED,
                              objects=[(alert.sale_line.order, {"alert": alert.pk, "kind": kind,
                                                                "sale_line": alert.sale_line_id})
                                       for alert in ended])
        new = (holding.filter(~Exists(_live(kind).filter(sale_line=OuterRef("pk"))))
               .values_list("pk", "delivered_minutes", "ordered", "limit", "order__accountant"))
        raised += Alert.objects.bulk_create([
            Alert(sale_line_id=line, kind=kind, raised_at=now, delivered_minutes=delivered,
                  ordered_minutes=int(ordered), threshold=limit, recipient_id=accountant)
            for line, delivered, ordered, limit, accountant in new])
    if raised:
        lines = SaleOrderLine.objects.select_related("order").in_bulk([alert.sale_line_id for alert in raised])
        audit_record_many(action=AuditEvent.Action.ALERT_RAISED, objects=[
            (lines[alert.sale_line_id].order, {"alert": alert.pk, "kind": alert.kind, "sale_line": alert.sale_line_id,
                                               "delivered_minutes": alert.delivered_minutes,
                                               "ordered_minutes": alert.ordered_minutes,
                                               "threshold": alert.threshold})
            for alert in raised])
        from .tasks import send_alerts

        transaction.on_commit(send_alerts.enqueue)
    return raised


def open_alerts():
    """The alerts raised and not dealt with, whose condition still holds: the newest first."""
    return (Alert.objects.filter(cleared_at__isnull=True, ended_at__isnull=True)
            .select_related("sale_line__order__customer", "sale_line__product", "recipient"))


@transaction.atomic
def alert_clear(*, alert_id: int, actor, note: str = "") -> Alert:
    """Mark an alert dealt with (audited). One that is no longer open is refused with why."""
    alert = Alert.objects.select_for_update().select_related("sale_line__order").get(pk=alert_id)
    if alert.cleared_at is not None:
        raise Conflict(_("This alert was already dealt with on {date}.").format(date=day(alert.cleared_at.date())))
    if alert.ended_at is not None:
        raise Conflict(_("This alert has ended: the line is back under its threshold."))
    alert.cleared_at, alert.cleared_by, alert.note = timezone.now(), actor, note.strip()[:500]
    alert.save(update_fields=["cleared_at", "cleared_by", "note"])
    audit_record(action=AuditEvent.Action.ALERT_CLEARED, obj=alert.sale_line.order, actor=actor,
                 changes={"alert": alert.pk, "kind": alert.kind, "sale_line": alert.sale_line_id,
                          "note": alert.note})
    return alert


def describe(alert: Alert) -> str:
    """One sentence, in the active language: what crossed, with the figures it was raised with."""
    line = alert.sale_line
    if alert.kind == Alert.Kind.DELIVERED:
        # xgettext:no-python-format
        return _("{order} – {line}: Delivered {delivered} reached {percent}% of the {ordered} ordered.").format(
            order=line.order, line=line.name or line.product, delivered=format_minutes(alert.delivered_minutes),
            percent=f"{alert.threshold:.0f}", ordered=format_minutes(alert.ordered_minutes))
    return _("{order} – {line}: {left} left of the {ordered} prepaid, below {threshold} hours.").format(
        order=line.order, line=line.name or line.product,
        left=format_minutes(alert.ordered_minutes - alert.delivered_minutes),
        ordered=format_minutes(alert.ordered_minutes), threshold=decimal(alert.threshold))


def _addresses(recipient) -> list[tuple[str, str]]:
    """[(email, language)] of whom an alert goes to: its recipient, else every active accountant with an email."""
    if recipient is not None:
        return [(recipient.email, language_of(recipient))] if recipient.email else []
    accountants = with_language(get_user_model().objects.filter(groups__name=ACCOUNTANTS, is_active=True)
                                .exclude(email=""))
    languages = {}
    for email, saved in accountants.values_list("email", "saved_language").order_by("email", "pk"):
        languages.setdefault(email, saved if saved in CODES else settings.LANGUAGE_CODE)
    return sorted(languages.items())


def _message(alerts: list[Alert]) -> tuple[str, str]:
    """The email's subject and body, in the active language."""
    if len(alerts) == 1:
        subject = _("Billing alert: {alert}").format(alert=describe(alerts[0]))
    else:
        subject = ngettext("{n} billing alert", "{n} billing alerts", len(alerts)).format(n=len(alerts))
    body = "\n".join([_("Delivered time crossed a threshold on these sales order lines:"), ""]
                     + [f"- {describe(alert)}" for alert in alerts]
                     + ["", _("Mark them dealt with on the Helpdesk overview once you have.")])
    return subject, body


def alerts_send() -> int:
    """Email every alert not emailed yet, one message per recipient; return how many alerts went out.

    The addresses are written, and committed, before the message is sent: a job killed in between
    leaves the alert recorded as emailed, never sent twice. Recipients of other languages get one message each
    language.
    """
    with transaction.atomic():
        pending = list(Alert.objects.select_for_update(skip_locked=True, of=("self",))
                       .filter(emailed_to="", ended_at__isnull=True, cleared_at__isnull=True)
                       .select_related("sale_line__order__customer", "sale_line__product", "recipient"))
        groups = defaultdict(list)
        for alert in pending:
            groups[tuple(_addresses(alert.recipient))].append(alert)
        for addresses, alerts in groups.items():
            Alert.objects.filter(pk__in=[alert.pk for alert in alerts]).update(
                emailed_to=", ".join(email for email, _language in addresses) or NOBODY)
    sent = 0
    for addresses, alerts in groups.items():
        if not addresses:
            continue
        by_language = defaultdict(list)
        for email, language in addresses:
            by_language[language].append(email)
        for language, emails in sorted(by_language.items()):
            with translation.override(language):
                subject, body = _message(alerts)
            EmailMessage(subject=subject[:200], body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=emails).send()
        Alert.objects.filter(pk__in=[alert.pk for alert in alerts]).update(emailed_at=timezone.now())
        sent += len(alerts)
    return sent
