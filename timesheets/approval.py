"""Approve, reject, reinstate (DESIGN Rules 11 and 15): a manager's control between logged time and the invoice.

Approve and Reject are all-or-nothing over any number of entries, set-based: the same queries for
ten entries or ten thousand. They take the locks in the project's order (services.py): the links
lock (shared), the entries' lines in primary-key order, then the entries; and recompute the lines'
Delivered from the entries, so an approval racing a Create Invoice is either billed by it or not
at all, never half.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from audit.models import AuditEvent
from audit.services import audit_record, audit_record_many
from core.errors import Conflict
from sales.services import links_lock, sale_lines_lock

from .delivered import sale_lines_recompute
from .lines import billable_expression
from .models import TimeEntry
from .services import INVOICED_MESSAGE, _lock_entry, entry_billable

Approval = TimeEntry.Approval
REASON_LIMIT = TimeEntry._meta.get_field("approval_note").max_length
# The sentence asking for a reason, whole for each decision that needs one (reason_check's `what`).
REASON_MISSING = {"rejecting": gettext_lazy("Give the reason for rejecting."),
                  "writing off": gettext_lazy("Give the reason for writing off.")}
# Why entries cannot be reviewed: each part of the refusal, a list of ids and its reason.
WHY = {"not found": gettext_lazy("{ids} (not found)"),
       "own": gettext_lazy("{ids} (your own time: another manager reviews it)"),
       "invoiced": gettext_lazy("{ids} (already invoiced)")}
REFUSED = {Approval.APPROVED: gettext_lazy("These timesheets cannot be approved: {reasons}."),
           Approval.REJECTED: gettext_lazy("These timesheets cannot be rejected: {reasons}.")}


def _ids(ids) -> list[int]:
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise ValidationError({"ids": _("Give the timesheets as a list of ids.")})
    ids = list(ids)
    if not ids:
        raise ValidationError({"ids": _("Choose at least one timesheet.")})
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise ValidationError({"ids": _("Give the timesheets as a list of ids.")})
    return sorted(set(ids))


def reason_check(reason, *, field: str = "reason", what: str = "rejecting") -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError({field: str(REASON_MISSING[what])})
    if len(reason) > REASON_LIMIT:
        raise ValidationError({field: _("Keep the reason under {limit} characters.").format(limit=REASON_LIMIT)})
    return reason.strip()


def _lock(ids: list[int]) -> list[tuple]:
    """Lock the entries' lines, then the entries; return (pk, user, line, invoice line) of those found.

    Reread after the entries' locks: an edit that moved one to another line meanwhile has its new
    line locked too (as in services._lock_entry).
    """
    entries = TimeEntry.objects.filter(pk__in=ids).order_by("pk")
    locked_lines: set[int] = set()
    while True:
        lines = set(entries.exclude(sale_line=None).values_list("sale_line_id", flat=True)) - locked_lines
        sale_lines_lock(ids=lines)
        locked_lines |= lines
        rows = list(entries.select_for_update().values_list("pk", "user_id", "sale_line_id", "invoice_line_id"))
        if {line for _, _, line, _ in rows if line} <= locked_lines:
            return rows


def _refuse(rows: list[tuple], ids: list[int], actor, *, state: str) -> None:
    """All or nothing: name every entry that cannot be given `state`, with why (invoiced time is never rejected)."""
    found = {pk for pk, *_ in rows}
    why = {
        "not found": [pk for pk in ids if pk not in found],
        "own": [pk for pk, user, *_ in rows if actor and user == actor.pk],
        "invoiced": [pk for pk, *_, invoice_line in rows if invoice_line and state == Approval.REJECTED],
    }
    parts = [WHY[reason].format(ids=", ".join(map(str, pks))) for reason, pks in why.items() if pks]
    if parts:
        # Translators: between the parts of a list of refusals ("12 (not found); 13 (already invoiced)").
        reasons = pgettext("list separator", "; ").join(parts)
        raise ValidationError({"ids": REFUSED[state].format(reasons=reasons)})


def _review(ids, actor, *, state: str, reason: str = "") -> int:
    ids = _ids(ids)
    links_lock(exclusive=False)
    rows = _lock(ids)
    _refuse(rows, ids, actor, state=state)
    # Approving an approved entry again changes nothing; rejecting again takes the new reason.
    changing = TimeEntry.objects.filter(pk__in=ids)
    if state == Approval.APPROVED:
        changing = changing.exclude(approval=Approval.APPROVED)
    changed = list(changing.select_related("user").order_by("pk").only("pk", "date", "minutes", "approval",
                                                                     "user__username"))
    if not changed:
        return 0
    review = {"approval": state, "approval_note": reason, "reviewed_by": actor, "reviewed_at": timezone.now()}
    # Unbilled time counts, or stops counting, now; invoiced time stays as billed. Each row is written
    # once: a row written twice in a transaction has its foreign keys checked again at the second
    # write, locking its ticket (KEY SHARE), which deadlocks with a relink holding that ticket.
    changing = TimeEntry.objects.filter(pk__in=[e.pk for e in changed])
    unbilled = Q(invoice_line=None) & Q(sale_line__isnull=False)
    changing.filter(unbilled).update(**review, billable_minutes=billable_expression(approval=state))
    changing.exclude(unbilled).update(**review)
    sale_lines_recompute(line_ids={line for _, _, line, _ in rows if line})
    action = AuditEvent.Action.ENTRY_APPROVED if state == Approval.APPROVED else AuditEvent.Action.ENTRY_REJECTED
    extra = {"reason": reason} if reason else {}
    audit_record_many(action=action, actor=actor, objects=[
        (entry, {"approval": [entry.approval, state], **extra}) for entry in changed])
    return len(changed)


@transaction.atomic
def timesheets_approve(*, ids: Iterable[int], actor) -> int:
    """Approve these entries, all or none; return how many changed. Never one's own time."""
    return _review(ids, actor, state=Approval.APPROVED)


@transaction.atomic
def timesheets_reject(*, ids: Iterable[int], reason: str, actor) -> int:
    """Reject these entries with a reason their agents see, all or none; invoiced time is refused.

    Approved time not yet invoiced may be rejected too: a manager who approved too soon takes it back."""
    return _review(ids, actor, state=Approval.REJECTED, reason=reason_check(reason))


@transaction.atomic
def timesheet_reinstate(*, entry: TimeEntry, actor=None) -> TimeEntry:
    """Undo a write-off: the entry bills again, and is to invoice with its line (a manager's decision)."""
    entry = _lock_entry(entry)
    if not entry.written_off:
        raise Conflict(_("Timesheet {number} is not written off.").format(number=entry.pk))
    if entry.is_invoiced:  # never: a written-off entry bills nothing; kept for the rule's sake
        raise Conflict(_(INVOICED_MESSAGE))
    reason = entry.write_off_reason
    entry.written_off, entry.write_off_reason = False, ""
    entry.billable_minutes = entry_billable(entry)
    entry.save()
    audit_record(action=AuditEvent.Action.ENTRY_REINSTATED, obj=entry, actor=actor, changes={
        "written_off": [True, False], "write_off_reason": reason, "billable_minutes": [0, entry.billable_minutes]})
    return entry
