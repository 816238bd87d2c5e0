"""The audit log read aloud: each event as one sentence of a History ("Removed 3 timesheets (2026-11-28,
2026-11-29)", "Posted as INV/2026/00005, total €617.10"), never the raw "timesheets 1, 2, 3 · full False".

A sentence is written from what the event's `changes` hold, as they were recorded (audit.services'
callers). The audit app imports nothing of ours, so what only the caller knows comes as arguments:
`money` writes an amount in the document's currency, `dates` gives the dates of the time entries an event
names by id. Without them an amount has two decimals and entries are counted, not dated.

Each sentence is a whole sentence with named values, so that it translates as one; a list of changes is
a list of such sentences, joined by "; ".
"""

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation

from django.template.defaultfilters import filesizeformat

from .models import AuditEvent

A = AuditEvent.Action

# Choices of other apps, named as their screens name them (the audit app cannot import them).
APPROVAL = {"to_approve": "To approve", "approved": "Approved", "rejected": "Rejected"}
PAYMENT_METHODS = {"transfer": "bank transfer", "debit": "direct debit", "card": "card", "cash": "cash",
                   "other": "another means"}
TEAM_INVOICING = {"all": "All recorded timesheets", "approved": "Approved timesheets only"}
WORK_TYPE_BILLING = {"billable": "Billable", "non_billable": "Non-billable", "no_charge": "No charge"}
ROUNDING = {"entry": "Per entry", "ticket": "Per ticket"}
# Settings whose old and new values are too long to read in a line: the sentence names the change only.
LONG = {"address", "invoice_footer", "logo"}
FIELD_LABELS = {"name": "Name", "address": "Address", "country": "Country", "vat_number": "VAT number",
                "email": "Email", "billing_email": "Billing email", "iban": "IBAN", "bic": "BIC",
                "currency": "Currency", "payment_terms_days": "Payment terms", "reminder_days": "Reminders",
                "logo": "Logo", "invoice_footer": "Invoice footer"}
# The changes that hold time entry ids.
ENTRY_LISTS = ("timesheets", "removed_timesheets", "freed_timesheets", "written_off_timesheets")
# How many dates a sentence lists before it gives their range instead.
MAX_DATES = 3

Money = Callable[[object], str]


def plain_money(value) -> str:
    """An amount with two decimals, without a currency: "1,234.50"."""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def hmm(minutes) -> str:
    """90 -> "1:30", as every time screen writes a duration."""
    minutes = int(minutes or 0)
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}:{rest:02d}"


def entry_ids(events) -> set[int]:
    """Return the ids of the time entries `events` name, for the caller to read their dates in one query."""
    ids = set()
    for event in events:
        for key in ENTRY_LISTS:
            value = event.changes.get(key)
            if isinstance(value, list):
                ids.update(pk for pk in value if isinstance(pk, int))
    return ids


class _Writer:
    """What a sentence needs beyond the event: the currency's writing and the entries' dates."""

    def __init__(self, money: Money | None, dates: Mapping | None):
        self.money = money or plain_money
        self.dates = dates or {}

    def timesheets(self, ids) -> str:
        """ "3 timesheets (2026-11-28, 2026-11-29)": how many, and their dates when known."""
        ids = ids if isinstance(ids, list) else []
        count = len(ids)
        what = "1 timesheet" if count == 1 else f"{count} timesheets"
        days = sorted({str(self.dates[pk]) for pk in ids if pk in self.dates})
        if not days:
            return what
        if len(days) <= MAX_DATES:
            return f"{what} ({', '.join(days)})"
        return f"{what} ({days[0]} to {days[-1]})"


def _was(value, none: str = "none") -> str:
    return none if value in (None, "", []) else str(value)


def _quoted(value) -> str:
    return f"“{value}”" if value not in (None, "") else "nothing"


def _pair(changes: Mapping, key: str) -> tuple:
    value = changes.get(key)
    return tuple(value) if isinstance(value, list) and len(value) == 2 else (None, value)


# --- Tickets ---------------------------------------------------------------------------------------------

def _ticket_created(c, w):
    if c.get("assignee"):
        return f"Ticket created in {c.get('team')} for {c.get('customer')}, assigned to {c['assignee']}"
    return f"Ticket created in {c.get('team')} for {c.get('customer')}"


def _status(value) -> str:
    """"In Progress" for "in_progress": a ticket status's label."""
    return str(value or "none").replace("_", " ").title()


def _ticket_status(c, w):
    before, after = _pair(c, "status")
    return f"Status changed from {_status(before)} to {_status(after)}"


def _ticket_assigned(c, w):
    before, after = _pair(c, "assignee")
    if after is None:
        return f"Unassigned (was {before})"
    if before:
        return f"Assigned to {after} (was {before})"
    return f"Assigned to {after}"


def _ticket_customer(c, w):
    before, after = _pair(c, "customer")
    if c.get("timesheets"):
        return f"Moved from {before} to {after}, with its {w.timesheets(c['timesheets'])}"
    return f"Moved from {before} to {after}"


# --- Time entries ----------------------------------------------------------------------------------------

def _on(c) -> str:
    """Where an entry is: " on ticket #12", " on task #3", or nothing."""
    if c.get("ticket"):
        return f" on ticket #{c['ticket']}"
    if c.get("task"):
        return f" on task #{c['task']}"
    return ""


def _entry_created(c, w):
    return f"Logged {hmm(c.get('minutes'))} for {c.get('date')}{_on(c)}"


def _entry_deleted(c, w):
    return f"Deleted {hmm(c.get('minutes'))} of {c.get('date')}{_on(c)}"


def _entry_change(name: str, before, after, changes) -> str | None:
    """One field of an edited entry, as a sentence; None for one that says nothing new."""
    if name == "date":
        return f"Date changed from {before} to {after}"
    if name == "minutes":
        return f"Duration changed from {hmm(before)} to {hmm(after)}"
    if name == "billable_minutes":
        # The billable time follows the duration: said only when it changed alone (a work type, an approval).
        return None if "minutes" in changes else f"Billable time changed from {hmm(before)} to {hmm(after)}"
    if name == "description":
        return f"Description changed from {_quoted(before)} to {_quoted(after)}"
    if name in ("ticket", "task"):
        return f"Moved to {name} #{after} (was #{before})" if before and after else f"{name.title()} changed"
    if name == "approval":
        return f"Approval changed from {APPROVAL.get(before, before)} to {APPROVAL.get(after, after)}"
    labels = {"sale_line": "Sales Order Item changed", "work_type": "Work type changed", "user": "Agent changed"}
    return labels.get(name, f"{name.replace('_', ' ').capitalize()} changed")


def _entry_edited(c, w):
    parts = [_entry_change(name, *_pair(c, name), c) for name in c]
    return "; ".join(part for part in parts if part) or "Edited"


def _entry_rejected(c, w):
    return f"Rejected: {_quoted(c['reason'])}" if c.get("reason") else "Rejected"


def _entry_written_off(c, w):
    where = f" from Draft invoice #{c['invoice']}" if c.get("invoice") else ""
    return f"Written off{where}: {_quoted(c.get('reason'))}"


def _entry_reinstated(c, w):
    _, billable = _pair(c, "billable_minutes")
    if c.get("write_off_reason"):
        return f"Reinstated: bills {hmm(billable)} again (written off for {_quoted(c['write_off_reason'])})"
    return f"Reinstated: bills {hmm(billable)} again"


# --- Invoices --------------------------------------------------------------------------------------------

def _invoice_created(c, w):
    start, end = _pair(c, "period")
    source = c.get("sale_order")
    if start or end:
        source = f"{source}, timesheets from {start or 'the start'} to {end or 'today'}"
    total = w.money(c.get("amount_total"))
    if c.get("timesheets"):
        return f"Created from {source}: {w.timesheets(c['timesheets'])}, {hmm(c.get('minutes'))} billed, total {total}"
    return f"Created from {source}: total {total}"


def _new_total(c, w) -> str:
    before, after = _pair(c, "amount_total")
    return f"total now {w.money(after)} (was {w.money(before)})"


def _timesheets_removed(c, w):
    return f"Removed {w.timesheets(c.get('removed_timesheets'))}; {_new_total(c, w)}"


def _invoice_written_off(c, w):
    return (f"Wrote off {w.timesheets(c.get('written_off_timesheets'))}: {_quoted(c.get('reason'))}; "
            f"{_new_total(c, w)}")


def _freed(ids, w) -> str:
    """ "its 3 timesheets (…) are to invoice again"."""
    if len(ids) == 1:
        return f"its {w.timesheets(ids)} is to invoice again"
    return f"its {w.timesheets(ids)} are to invoice again"


def _invoice_cancelled(c, w):
    freed = c.get("freed_timesheets") or []
    return f"Cancelled; {_freed(freed, w)}" if freed else "Cancelled"


def _invoice_posted(c, w):
    _, number = _pair(c, "number")
    text = f"Posted as {number}, total {w.money(c.get('amount_total'))}"
    if c.get("due_date"):
        text = f"Posted as {number}, total {w.money(c.get('amount_total'))}, due {c['due_date']}"
    freed = c.get("freed_timesheets") or []
    return f"{text}; {_freed(freed, w)}" if freed else text


def _invoice_credited(c, w):
    note, total = f"Draft credit note #{c.get('credit_note')}", w.money(c.get("amount_total"))
    if c.get("full"):
        return f"Credited in full by {note}: total {total}"
    return f"Credited for {w.timesheets(c.get('timesheets'))} by {note}: total {total}"


def _credit_note_created(c, w):
    total = w.money(c.get("amount_total"))
    if c.get("full"):
        return f"Created to credit {c.get('refers')} in full: total {total}"
    return f"Created to credit {w.timesheets(c.get('timesheets'))} of {c.get('refers')}: total {total}"


def _invoice_sent(c, w):
    text = f"Sent by email to {c.get('to')}: {_quoted(c.get('subject'))}, {c.get('attachment')} attached"
    return f"{text}, in billing run {c['billing_run']}" if c.get("billing_run") else text


def _pdf_stored(c, w):
    return f"PDF stored ({filesizeformat(c.get('bytes') or 0)}): every download serves this file"


def _due_date_set(c, w):
    before, after = _pair(c, "due_date")
    if after is None:
        return f"Due date back to the payment terms (was {before})"
    if before is None:
        return f"Due date set to {after} (was from the payment terms)"
    return f"Due date set to {after} (was {before})"


def _left_to_pay(c, w) -> str:
    residual = c.get("amount_residual")
    try:
        paid = Decimal(str(residual)) == 0
    except (InvalidOperation, ValueError):
        paid = False
    return "paid in full" if paid else f"{w.money(residual)} left to pay"


def _payment_registered(c, w):
    method = PAYMENT_METHODS.get(c.get("method"), c.get("method"))
    reference = f" (reference {c['reference']})" if c.get("reference") else ""
    return (f"Payment of {w.money(c.get('amount'))} by {method} on {c.get('date')}{reference}: "
            f"{_left_to_pay(c, w)}")


def _payment_reversed(c, w):
    amount = c.get("amount")
    try:
        amount = abs(Decimal(str(amount)))  # recorded as the reversal's row, negative
    except (InvalidOperation, ValueError):
        pass
    return f"Payment of {w.money(amount)} reversed: {_quoted(c.get('reason'))}; {_left_to_pay(c, w)}"


def _reminder_sent(c, w):
    days = c.get("step_days")
    if not c.get("sent"):
        return f"Payment reminder of {days} days after the due date not sent: the customer has no billing email"
    return (f"Payment reminder sent to {c.get('to')}, {days} days after the due date {c.get('due_date')}: "
            f"{w.money(c.get('amount_residual'))} still open")


def _run_started(c, w):
    orders = c.get("orders")
    what = "1 order" if orders == 1 else f"{orders} orders"
    if c.get("period_end"):
        return f"Billing run started for {what}, timesheets up to {c['period_end']}"
    return f"Billing run started for {what}, all timesheets"


# --- Orders, alerts and settings -------------------------------------------------------------------------

def _rates(c, w):
    parts = []
    for key, label in (("agent_rates", "Rates by agent"), ("work_type_rates", "Rates by work type")):
        if key in c:
            before, after = (len(v) if isinstance(v, list) else 0 for v in _pair(c, key))
            parts.append(f"{label} changed: {_count(after, 'rate')} (was {_count(before, 'rate')})")
    return "; ".join(parts) or "Rates changed"


def _count(number: int, what: str) -> str:
    if number == 0:
        return f"no {what}"
    return f"1 {what}" if number == 1 else f"{number} {what}s"


def _percent(value) -> str:
    try:
        return f"{Decimal(str(value)):.0f}%"
    except (InvalidOperation, ValueError):
        return str(value)


def _alert_raised(c, w):
    ordered, delivered = c.get("ordered_minutes") or 0, c.get("delivered_minutes") or 0
    if c.get("kind") == "delivered":
        return (f"Alert: Delivered {hmm(delivered)} reached {_percent(c.get('threshold'))} of the {hmm(ordered)} "
                f"ordered")
    return (f"Alert: {hmm(ordered - delivered)} left of the {hmm(ordered)} prepaid, below {c.get('threshold')} "
            f"hours")


def _alert_cleared(c, w):
    return f"Alert dealt with: {_quoted(c['note'])}" if c.get("note") else "Alert dealt with"


def _lock_changed(c, w):
    parts = []
    for key in ("lock_date", "timesheets_lock_date"):
        if key in c:
            before, after = _pair(c, key)
            parts.append(f"Lock date removed (was {before})" if after is None else
                         f"Lock date set to {after} (was {_was(before)})")
    if "agent_grace_days" in c:
        before, after = _pair(c, "agent_grace_days")
        was = "no limit" if before is None else f"{before} days back"
        parts.append(f"Agents may log time on any date not locked (was {was})" if after is None else
                     f"Agents may log time up to {after} days back (was {was})")
    return "; ".join(parts) or "Lock date changed"


def _team_invoicing(c, w):
    before, after = _pair(c, "invoiced_timesheets")
    return (f"Invoiced Timesheets changed from {TEAM_INVOICING.get(before, before)} to "
            f"{TEAM_INVOICING.get(after, after)}")


def _work_type(c, w):
    before, after = _pair(c, "billing")
    return f"Billing changed from {WORK_TYPE_BILLING.get(before, before)} to {WORK_TYPE_BILLING.get(after, after)}"


def _product_change(name: str, before, after) -> str:
    if name == "rounding":
        return f"Rounding changed from {ROUNDING.get(before, before)} to {ROUNDING.get(after, after)}"
    if name == "billing_increment_minutes":
        return f"Billing increment changed from {before} min to {after} min"
    if name == "minimum_minutes":
        return f"Minimum charge changed from {before} min to {after} min"
    if name == "alert_delivered_percent":
        return (f"Alert on Delivered changed from {_percent(before) if before else 'never'} to "
                f"{_percent(after) if after else 'never'}")
    if name == "alert_remaining_hours":
        return (f"Alert on remaining hours changed from {f'{before} hours' if before else 'never'} to "
                f"{f'{after} hours' if after else 'never'}")
    return f"{name.replace('_', ' ').capitalize()} changed"


def _product(c, w):
    return "; ".join(_product_change(name, *_pair(c, name)) for name in c) or "Billing rule changed"


def _setting_change(name: str, before, after) -> str:
    label = FIELD_LABELS.get(name, name.replace("_", " ").capitalize())
    if name in LONG:
        return f"{label} changed"
    if name == "payment_terms_days":
        return f"{label} changed from {_days(before)} to {_days(after)}"
    return f"{label} changed from {_quoted(before)} to {_quoted(after)}"


def _days(days) -> str:
    """A customer's payment terms: none of its own means the company's."""
    return "the company's" if days is None else f"{days} days"


def _settings(c, w):
    return "; ".join(_setting_change(name, *_pair(c, name)) for name in c) or "Changed"


SENTENCES = {
    A.TICKET_CREATED: _ticket_created,
    A.TICKET_STATUS_CHANGED: _ticket_status,
    A.TICKET_ASSIGNED: _ticket_assigned,
    A.TICKET_CUSTOMER_CHANGED: _ticket_customer,
    A.ENTRY_CREATED: _entry_created,
    A.ENTRY_EDITED: _entry_edited,
    A.ENTRY_DELETED: _entry_deleted,
    A.ENTRY_APPROVED: lambda c, w: "Approved",
    A.ENTRY_REJECTED: _entry_rejected,
    A.ENTRY_WRITTEN_OFF: _entry_written_off,
    A.ENTRY_REINSTATED: _entry_reinstated,
    A.ORDER_CONFIRMED: lambda c, w: "Confirmed: the quotation is a sales order",
    A.ORDER_CANCELLED: lambda c, w: "Cancelled",
    A.ORDER_RATES_CHANGED: _rates,
    A.INVOICE_CREATED: _invoice_created,
    A.INVOICE_TIMESHEETS_REMOVED: _timesheets_removed,
    A.INVOICE_WRITTEN_OFF: _invoice_written_off,
    A.INVOICE_POSTED: _invoice_posted,
    A.INVOICE_CANCELLED: _invoice_cancelled,
    A.INVOICE_CREDITED: _invoice_credited,
    A.CREDIT_NOTE_CREATED: _credit_note_created,
    A.INVOICE_SENT: _invoice_sent,
    A.INVOICE_PDF_STORED: _pdf_stored,
    A.INVOICE_DUE_DATE_SET: _due_date_set,
    A.PAYMENT_REGISTERED: _payment_registered,
    A.PAYMENT_REVERSED: _payment_reversed,
    A.REMINDER_SENT: _reminder_sent,
    A.BILLING_RUN_STARTED: _run_started,
    A.ALERT_RAISED: _alert_raised,
    A.ALERT_CLEARED: _alert_cleared,
    A.ALERT_ENDED: lambda c, w: "Alert ended: the line is back under its threshold",
    A.LOCK_DATE_CHANGED: _lock_changed,
    A.TEAM_INVOICING_CHANGED: _team_invoicing,
    A.WORK_TYPE_CHANGED: _work_type,
    A.PRODUCT_RULE_CHANGED: _product,
    A.COMPANY_CHANGED: _settings,
    A.CUSTOMER_BILLING_CHANGED: _settings,
}


def sentence(event: AuditEvent, *, money: Money | None = None, dates: Mapping | None = None) -> str:
    """Return the event as a sentence, without who and when (the History shows them beside it).

    `money(value)` writes an amount in the currency of the event's document; `dates` maps time entry ids
    to their dates (entry_ids(events) says which to read).
    """
    write = SENTENCES.get(event.action)
    changes = event.changes if isinstance(event.changes, dict) else {}
    if write is not None:
        try:
            return write(changes, _Writer(money, dates))
        except (KeyError, TypeError, ValueError):
            pass  # an event recorded before its changes took today's shape: said plainly below
    return event.get_action_display()
