"""The customer's word on their time (issue 18): a contact acknowledges or disputes an entry not yet invoiced;
an accountant (or a manager) resolves a dispute: keep it, write it off, or correct it, with an answer the
customer reads.

A dispute on a team that holds disputed time (HelpdeskTeam.hold_disputed, read when it is raised) sets the
entry's `held`: it bills 0 (lines.counted), so it leaves Delivered and no invoice takes it until resolved.
Each step takes the entry's locks in the project's order (services._lock_entry), so a dispute racing Create
Invoice is either billed by it (and then refused: already invoiced) or held, never both. Every step is in the
audit log, which the portal shows the customer beside the entry.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from core.errors import Conflict
from sales.services import links_lock

from .locks import lock_check
from .models import CustomerReview, TimeEntry
from .services import _check_minutes, _lock_entry, entry_billable

State, Resolution = CustomerReview.State, CustomerReview.Resolution
REASON_LIMIT = CustomerReview._meta.get_field("reason").max_length
ANSWER_LIMIT = CustomerReview._meta.get_field("answer").max_length


def _said(text, *, field: str, limit: int, missing: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError({field: missing})
    if len(text.strip()) > limit:
        raise ValidationError({field: _("Keep it under {limit} characters.").format(limit=limit)})
    return text.strip()


def _contacts_entry(entry: TimeEntry, contact) -> TimeEntry:
    """Lock the entry for a contact's word: it must be on a ticket of their customer, not invoiced (the lock
    refuses that), and count for something."""
    links_lock(exclusive=False)
    entry = _lock_entry(entry)
    if entry.ticket is None or entry.ticket.customer_id != contact.customer_id:
        raise ValidationError({"entry": _("No such timesheet on your tickets.")})
    if entry.written_off:
        raise Conflict(_("Timesheet {number} is written off: it is not billed.").format(number=entry.pk))
    if entry.work_type is not None and not entry.work_type.charges:
        raise Conflict(_("Timesheet {number} is not billed.").format(number=entry.pk))
    return entry


def _review(entry: TimeEntry) -> CustomerReview | None:
    return CustomerReview.objects.filter(entry=entry).first()


@transaction.atomic
def entry_acknowledge(*, entry: TimeEntry, contact) -> CustomerReview:
    """The contact agrees to the entry as logged; nothing changes in what it bills."""
    entry = _contacts_entry(entry, contact)
    review = _review(entry)
    if review is not None:
        if review.state == State.ACKNOWLEDGED:
            return review
        raise Conflict(_("Timesheet {number} is disputed: wait for the answer.").format(number=entry.pk)
                       if review.is_open else
                       _("Timesheet {number}'s dispute is resolved.").format(number=entry.pk))
    review = CustomerReview.objects.create(entry=entry, state=State.ACKNOWLEDGED, contact=contact.user,
                                           at=timezone.now())
    audit_record(action=AuditEvent.Action.ENTRY_ACKNOWLEDGED, obj=entry, actor=contact.user,
                 changes={"ticket": entry.ticket_id, "minutes": entry.minutes})
    return review


@transaction.atomic
def entry_dispute(*, entry: TimeEntry, contact, reason) -> CustomerReview:
    """The contact disputes the entry, saying why; held out of invoices when its team says so."""
    reason = _said(reason, field="reason", limit=REASON_LIMIT, missing=_("Say why you dispute this time."))
    entry = _contacts_entry(entry, contact)
    review = _review(entry)
    if review is not None and review.state != State.ACKNOWLEDGED:
        raise Conflict(_("Timesheet {number} is already disputed.").format(number=entry.pk) if review.is_open
                       else _("Timesheet {number}'s dispute is resolved: write on the ticket to take it further.")
                       .format(number=entry.pk))
    review = review or CustomerReview(entry=entry)
    review.state, review.contact, review.at, review.reason = State.DISPUTED, contact.user, timezone.now(), reason
    review.save()
    held = entry.ticket.team.hold_disputed
    before = entry.billable_minutes
    if held:
        entry.held = True
        entry.billable_minutes = entry_billable(entry)
        entry.save()
    audit_record(action=AuditEvent.Action.ENTRY_DISPUTED, obj=entry, actor=contact.user, changes={
        "ticket": entry.ticket_id, "minutes": entry.minutes, "reason": reason, "held": held,
        "billable_minutes": [before, entry.billable_minutes]})
    return review


@transaction.atomic
def dispute_resolve(*, entry: TimeEntry, resolution, answer, minutes=None, actor) -> CustomerReview:
    """Resolve an open dispute, with an answer the customer reads:

    - "kept": the entry bills as logged;
    - "written_off": it bills nothing (No charge, Rule 15), the answer its reason;
    - "corrected": it bills `minutes` instead (refused on a locked date, except for managers).

    The entry is no longer held, and counts again as any other (approval still applies)."""
    if resolution not in Resolution.values:
        raise ValidationError({"resolution": _("Choose keep, write off or correct.")})
    answer = _said(answer, field="answer", limit=ANSWER_LIMIT, missing=_("Give the customer an answer."))
    if resolution == Resolution.CORRECTED:
        _check_minutes(minutes)
    links_lock(exclusive=False)
    entry = _lock_entry(entry)
    review = CustomerReview.objects.select_for_update().filter(entry=entry).first()
    if review is None or not review.is_open:
        raise Conflict(_("Timesheet {number} has no open dispute.").format(number=entry.pk))
    before = {"minutes": entry.minutes, "billable_minutes": entry.billable_minutes}
    entry.held = False
    if resolution == Resolution.WRITTEN_OFF:
        entry.written_off, entry.write_off_reason = True, answer[:500]
    elif resolution == Resolution.CORRECTED:
        lock_check(dates=[entry.date], ticket=entry.ticket, project=entry.project, actor=actor)
        review.minutes_before = entry.minutes
        entry.minutes = minutes
    entry.billable_minutes = entry_billable(entry)
    entry.save()
    review.state, review.resolution, review.answer = State.RESOLVED, resolution, answer
    review.resolved_by, review.resolved_at = actor, timezone.now()
    review.save()
    audit_record(action=AuditEvent.Action.DISPUTE_RESOLVED, obj=entry, actor=actor, changes={
        "ticket": entry.ticket_id, "resolution": resolution, "answer": answer,
        "minutes": [before["minutes"], entry.minutes],
        "billable_minutes": [before["billable_minutes"], entry.billable_minutes]})
    return review
