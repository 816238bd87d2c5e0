"""The audit log read aloud: each event as one sentence of a History ("Removed 3 timesheets (2026-11-28,
2026-11-29)", "Posted as INV/2026/00005, total €617.10"), never the raw "timesheets 1, 2, 3 · full False".

A sentence is written from what the event's `changes` hold, as they were recorded (audit.services'
callers). The audit app imports nothing of ours, so what only the caller knows comes as arguments:
`money` writes an amount in the document's currency, `dates` gives the dates of the time entries an event
names by id. Without them an amount has two decimals and entries are counted, not dated.

Each sentence is a whole sentence with named values, so that it translates as one; a list of changes is
a list of such sentences, joined by "; ". Sentences are written when read, in the reader's language (dates
and amounts too: core.l10n); what the event recorded stays as it was.
"""

import datetime
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from core import l10n

from .models import AuditEvent

A = AuditEvent.Action

# Choices of other apps, named as their screens name them (the audit app cannot import them).
APPROVAL = {"to_approve": gettext_lazy("To approve"), "approved": gettext_lazy("Approved"),
            "rejected": gettext_lazy("Rejected")}
TICKET_STATUSES = {"new": gettext_lazy("New"), "in_progress": gettext_lazy("In Progress"),
                   "on_hold": gettext_lazy("On Hold"), "solved": gettext_lazy("Solved"),
                   "closed": gettext_lazy("Closed")}
# How a payment was made, as a sentence says it ("Payment of €10.00 by card").
PAYMENT_METHODS = {"transfer": gettext_lazy("by bank transfer"), "debit": gettext_lazy("by direct debit"),
                   "card": gettext_lazy("by card"), "cash": gettext_lazy("by cash"),
                   "other": gettext_lazy("by another means")}
TEAM_INVOICING = {"all": gettext_lazy("All recorded timesheets"), "approved": gettext_lazy("Approved timesheets only")}
WORK_TYPE_BILLING = {"billable": gettext_lazy("Billable"), "non_billable": gettext_lazy("Non-billable"),
                     "no_charge": gettext_lazy("No charge")}
ROUNDING = {"entry": gettext_lazy("Per entry"), "ticket": gettext_lazy("Per ticket")}
# Settings whose old and new values are too long to read in a line: the sentence names the change only.
LONG = {"address", "invoice_footer", "logo"}
FIELD_LABELS = {"name": gettext_lazy("Name"), "address": gettext_lazy("Address"), "country": gettext_lazy("Country"),
                "vat_number": gettext_lazy("VAT number"), "email": gettext_lazy("Email"),
                "billing_email": gettext_lazy("Billing email"), "iban": gettext_lazy("IBAN"),
                "bic": gettext_lazy("BIC"), "currency": gettext_lazy("Currency"),
                "payment_terms_days": gettext_lazy("Payment terms"), "reminder_days": gettext_lazy("Reminders"),
                "logo": gettext_lazy("Logo"), "invoice_footer": gettext_lazy("Invoice footer"),
                "portal_shows_agents": gettext_lazy("Portal shows agents' names"),
                "portal_tickets": gettext_lazy("Accepts portal tickets"),
                "hold_disputed": gettext_lazy("Hold disputed time")}
# What an edited entry's change says when only its field is named.
ENTRY_FIELDS = {"sale_line": gettext_lazy("Sales Order Item changed"), "work_type": gettext_lazy("Work type changed"),
                "user": gettext_lazy("Agent changed"), "ticket": gettext_lazy("Ticket changed"),
                "task": gettext_lazy("Task changed")}
# The changes that hold time entry ids.
ENTRY_LISTS = ("timesheets", "removed_timesheets", "freed_timesheets", "written_off_timesheets")
# How many dates a sentence lists before it gives their range instead.
MAX_DATES = 3

Money = Callable[[object], str]


def plain_money(value) -> str:
    """An amount with two decimals, without a currency: "1,234.50" (French: "1 234,50")."""
    try:
        return l10n.decimal(Decimal(str(value)).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return str(value)


def hmm(minutes) -> str:
    """90 -> "1:30", as every time screen writes a duration, in every language."""
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


def _day(value) -> str:
    """A recorded date (ISO text, as JSON keeps it, or a date) as the reader's language writes it."""
    if isinstance(value, datetime.date):
        return l10n.day(value)
    try:
        return l10n.day(datetime.date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _joined(parts) -> str:
    """Sentences about one event, one after the other: "Duration changed …; Description changed …"."""
    # Translators: between two sentences about one event ("Removed 2 timesheets; total now €90.00").
    return pgettext("list separator", "; ").join(str(part) for part in parts)


class _Writer:
    """What a sentence needs beyond the event: the currency's writing and the entries' dates."""

    def __init__(self, money: Money | None, dates: Mapping | None):
        self.money = money or plain_money
        self.dates = dates or {}

    def timesheets(self, ids) -> str:
        """ "3 timesheets (2026-11-28, 2026-11-29)": how many, and their dates when known."""
        ids = ids if isinstance(ids, list) else []
        count = len(ids)
        what = ngettext("{count} timesheet", "{count} timesheets", count).format(count=count)
        days = sorted({str(self.dates[pk]) for pk in ids if pk in self.dates})  # ISO: sorted as dates
        if not days:
            return what
        if len(days) <= MAX_DATES:
            return _("{timesheets} ({dates})").format(timesheets=what, dates=", ".join(_day(d) for d in days))
        return _("{timesheets} ({first} to {last})").format(timesheets=what, first=_day(days[0]),
                                                              last=_day(days[-1]))


def _quoted(value) -> str:
    return _("“{value}”").format(value=value) if value not in (None, "") else _("nothing")


def _label(labels: Mapping, value) -> str:
    """A recorded code by its label ("to_approve" -> "To approve"), the code itself when unknown."""
    return str(labels.get(value, value))


def _pair(changes: Mapping, key: str) -> tuple:
    value = changes.get(key)
    return tuple(value) if isinstance(value, list) and len(value) == 2 else (None, value)


def _plural_count(value) -> int:
    """The number that chooses the plural of a decimal figure: itself when whole ("1.00 hour"), else many."""
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else 2


# --- Tickets ---------------------------------------------------------------------------------------------

def _ticket_created(c, w):
    if c.get("assignee"):
        return _("Ticket created in {team} for {customer}, assigned to {assignee}").format(
            team=c.get("team"), customer=c.get("customer"), assignee=c["assignee"])
    return _("Ticket created in {team} for {customer}").format(team=c.get("team"), customer=c.get("customer"))


def _status(value) -> str:
    """"In Progress" for "in_progress": a ticket status's label."""
    if value in TICKET_STATUSES:
        return str(TICKET_STATUSES[value])
    return str(value or "none").replace("_", " ").title()


def _ticket_status(c, w):
    before, after = _pair(c, "status")
    return _("Status changed from {before} to {after}").format(before=_status(before), after=_status(after))


def _ticket_assigned(c, w):
    before, after = _pair(c, "assignee")
    if after is None:
        return _("Unassigned (was {before})").format(before=before)
    if before:
        return _("Assigned to {after} (was {before})").format(after=after, before=before)
    return _("Assigned to {after}").format(after=after)


def _ticket_customer(c, w):
    before, after = _pair(c, "customer")
    if c.get("timesheets"):
        return _("Moved from {before} to {after}, with its {timesheets}").format(
            before=before, after=after, timesheets=w.timesheets(c["timesheets"]))
    return _("Moved from {before} to {after}").format(before=before, after=after)


# --- Time entries ----------------------------------------------------------------------------------------

def _entry_created(c, w):
    values = {"duration": hmm(c.get("minutes")), "date": _day(c.get("date")), "ticket": c.get("ticket"),
              "task": c.get("task")}
    if c.get("ticket"):
        return _("Logged {duration} for {date} on ticket #{ticket}").format(**values)
    if c.get("task"):
        return _("Logged {duration} for {date} on task #{task}").format(**values)
    return _("Logged {duration} for {date}").format(**values)


def _entry_deleted(c, w):
    values = {"duration": hmm(c.get("minutes")), "date": _day(c.get("date")), "ticket": c.get("ticket"),
              "task": c.get("task")}
    if c.get("ticket"):
        return _("Deleted {duration} of {date} on ticket #{ticket}").format(**values)
    if c.get("task"):
        return _("Deleted {duration} of {date} on task #{task}").format(**values)
    return _("Deleted {duration} of {date}").format(**values)


def _entry_change(name: str, before, after, changes) -> str | None:
    """One field of an edited entry, as a sentence; None for one that says nothing new."""
    if name == "date":
        return _("Date changed from {before} to {after}").format(before=_day(before), after=_day(after))
    if name == "minutes":
        return _("Duration changed from {before} to {after}").format(before=hmm(before), after=hmm(after))
    if name == "billable_minutes":
        # The billable time follows the duration: said only when it changed alone (a work type, an approval).
        return None if "minutes" in changes else _("Billable time changed from {before} to {after}").format(
            before=hmm(before), after=hmm(after))
    if name == "description":
        return _("Description changed from {before} to {after}").format(before=_quoted(before), after=_quoted(after))
    if name == "ticket" and before and after:
        return _("Moved to ticket #{after} (was #{before})").format(after=after, before=before)
    if name == "task" and before and after:
        return _("Moved to task #{after} (was #{before})").format(after=after, before=before)
    if name == "approval":
        return _("Approval changed from {before} to {after}").format(before=_label(APPROVAL, before),
                                                                       after=_label(APPROVAL, after))
    if name in ENTRY_FIELDS:
        return str(ENTRY_FIELDS[name])
    return _("{field} changed").format(field=name.replace("_", " ").capitalize())


def _entry_edited(c, w):
    parts = [_entry_change(name, *_pair(c, name), c) for name in c]
    return _joined(part for part in parts if part) or _("Edited")


def _entry_rejected(c, w):
    return _("Rejected: {reason}").format(reason=_quoted(c["reason"])) if c.get("reason") else _("Rejected")


def _entry_written_off(c, w):
    if c.get("invoice"):
        return _("Written off from Draft invoice #{invoice}: {reason}").format(invoice=c["invoice"],
                                                                             reason=_quoted(c.get("reason")))
    return _("Written off: {reason}").format(reason=_quoted(c.get("reason")))


def _entry_reinstated(c, w):
    _before, billable = _pair(c, "billable_minutes")
    if c.get("write_off_reason"):
        return _("Reinstated: bills {duration} again (written off for {reason})").format(
            duration=hmm(billable), reason=_quoted(c["write_off_reason"]))
    return _("Reinstated: bills {duration} again").format(duration=hmm(billable))


# --- Invoices --------------------------------------------------------------------------------------------

def _source(c) -> str:
    """What an invoice was created from: the order, and the period of its timesheets when one was chosen."""
    start, end = _pair(c, "period")
    order = c.get("sale_order")
    if start and end:
        return _("{order}, timesheets from {start} to {end}").format(order=order, start=_day(start), end=_day(end))
    if start:
        return _("{order}, timesheets from {start} to today").format(order=order, start=_day(start))
    if end:
        return _("{order}, timesheets from the start to {end}").format(order=order, end=_day(end))
    return str(order)


def _invoice_created(c, w):
    source, total = _source(c), w.money(c.get("amount_total"))
    if c.get("timesheets"):
        return _("Created from {source}: {timesheets}, {duration} billed, total {total}").format(
            source=source, timesheets=w.timesheets(c["timesheets"]), duration=hmm(c.get("minutes")), total=total)
    return _("Created from {source}: total {total}").format(source=source, total=total)


def _new_total(c, w) -> str:
    before, after = _pair(c, "amount_total")
    return _("total now {after} (was {before})").format(after=w.money(after), before=w.money(before))


def _timesheets_removed(c, w):
    return _joined([_("Removed {timesheets}").format(timesheets=w.timesheets(c.get("removed_timesheets"))),
                    _new_total(c, w)])


def _invoice_written_off(c, w):
    return _joined([_("Wrote off {timesheets}: {reason}").format(
        timesheets=w.timesheets(c.get("written_off_timesheets")), reason=_quoted(c.get("reason"))), _new_total(c, w)])


def _freed(ids, w) -> str:
    """ "its 3 timesheets (…) are to invoice again"."""
    return ngettext("its {timesheets} is to invoice again", "its {timesheets} are to invoice again",
                    len(ids)).format(timesheets=w.timesheets(ids))


def _invoice_cancelled(c, w):
    freed = c.get("freed_timesheets") or []
    return _joined([_("Cancelled"), _freed(freed, w)]) if freed else _("Cancelled")


def _invoice_posted(c, w):
    _before, number = _pair(c, "number")
    total = w.money(c.get("amount_total"))
    if c.get("due_date"):
        text = _("Posted as {number}, total {total}, due {date}").format(number=number, total=total,
                                                                         date=_day(c["due_date"]))
    else:
        text = _("Posted as {number}, total {total}").format(number=number, total=total)
    freed = c.get("freed_timesheets") or []
    return _joined([text, _freed(freed, w)]) if freed else text


def _invoice_credited(c, w):
    values = {"number": c.get("credit_note"), "total": w.money(c.get("amount_total"))}
    if c.get("full"):
        return _("Credited in full by Draft credit note #{number}: total {total}").format(**values)
    return _("Credited for {timesheets} by Draft credit note #{number}: total {total}").format(
        timesheets=w.timesheets(c.get("timesheets")), **values)


def _credit_note_created(c, w):
    total = w.money(c.get("amount_total"))
    if c.get("full"):
        return _("Created to credit {invoice} in full: total {total}").format(invoice=c.get("refers"), total=total)
    return _("Created to credit {timesheets} of {invoice}: total {total}").format(
        timesheets=w.timesheets(c.get("timesheets")), invoice=c.get("refers"), total=total)


def _invoice_sent(c, w):
    values = {"to": c.get("to"), "subject": _quoted(c.get("subject")), "attachment": c.get("attachment"),
              "run": c.get("billing_run")}
    if c.get("billing_run"):
        return _("Sent by email to {to}: {subject}, {attachment} attached, in billing run {run}").format(**values)
    return _("Sent by email to {to}: {subject}, {attachment} attached").format(**values)


def _pdf_stored(c, w):
    return _("PDF stored ({size}): every download serves this file").format(size=filesizeformat(c.get("bytes") or 0))


def _due_date_set(c, w):
    before, after = _pair(c, "due_date")
    if after is None:
        return _("Due date back to the payment terms (was {before})").format(before=_day(before))
    if before is None:
        return _("Due date set to {after} (was from the payment terms)").format(after=_day(after))
    return _("Due date set to {after} (was {before})").format(after=_day(after), before=_day(before))


def _left_to_pay(c, w) -> str:
    residual = c.get("amount_residual")
    try:
        paid = Decimal(str(residual)) == 0
    except (InvalidOperation, ValueError):
        paid = False
    return _("paid in full") if paid else _("{amount} left to pay").format(amount=w.money(residual))


def _payment_registered(c, w):
    method = c.get("method")
    values = {"amount": w.money(c.get("amount")), "date": _day(c.get("date")), "reference": c.get("reference"),
              "left": _left_to_pay(c, w),
              "method": PAYMENT_METHODS[method] if method in PAYMENT_METHODS else _("by {method}").format(
                  method=method)}
    if c.get("reference"):
        return _("Payment of {amount} {method} on {date} (reference {reference}): {left}").format(**values)
    return _("Payment of {amount} {method} on {date}: {left}").format(**values)


def _payment_reversed(c, w):
    amount = c.get("amount")
    try:
        amount = abs(Decimal(str(amount)))  # recorded as the reversal's row, negative
    except (InvalidOperation, ValueError):
        pass
    return _joined([_("Payment of {amount} reversed: {reason}").format(amount=w.money(amount),
                                                                      reason=_quoted(c.get("reason"))),
                    _left_to_pay(c, w)])


def _reminder_sent(c, w):
    days = c.get("step_days")
    if not c.get("sent"):
        return ngettext(
            "Payment reminder of {days} day after the due date not sent: the customer has no billing email",
            "Payment reminder of {days} days after the due date not sent: the customer has no billing email",
            days).format(days=days)
    return ngettext("Payment reminder sent to {to}, {days} day after the due date {date}: {amount} still open",
                    "Payment reminder sent to {to}, {days} days after the due date {date}: {amount} still open",
                    days).format(to=c.get("to"), days=days, date=_day(c.get("due_date")),
                                 amount=w.money(c.get("amount_residual")))


def _run_started(c, w):
    orders = c.get("orders")
    if c.get("period_end"):
        return ngettext("Billing run started for {count} order, timesheets up to {date}",
                        "Billing run started for {count} orders, timesheets up to {date}",
                        orders).format(count=orders, date=_day(c["period_end"]))
    return ngettext("Billing run started for {count} order, all timesheets",
                    "Billing run started for {count} orders, all timesheets", orders).format(count=orders)


# --- Orders, alerts and settings -------------------------------------------------------------------------

RATES_CHANGED = {"agent_rates": gettext_lazy("Rates by agent changed: {after} (was {before})"),
                 "work_type_rates": gettext_lazy("Rates by work type changed: {after} (was {before})")}


def _rates(c, w):
    parts = []
    for key, sentence_of in RATES_CHANGED.items():
        if key in c:
            before, after = (len(v) if isinstance(v, list) else 0 for v in _pair(c, key))
            parts.append(sentence_of.format(after=_rates_count(after), before=_rates_count(before)))
    return _joined(parts) or _("Rates changed")


def _rates_count(number: int) -> str:
    if number == 0:
        return _("no rate")
    return ngettext("{count} rate", "{count} rates", number).format(count=number)


def _percent(value) -> str:
    try:
        return _("{percent}%").format(percent=l10n.decimal(Decimal(str(value)), 0))
    except (InvalidOperation, ValueError):
        return str(value)


def _hours(value) -> str:
    """ "5.00 hours", the decimals of an alert's threshold."""
    return ngettext("{hours} hour", "{hours} hours", _plural_count(value)).format(hours=plain_money(value))


def _alert_raised(c, w):
    ordered, delivered = c.get("ordered_minutes") or 0, c.get("delivered_minutes") or 0
    if c.get("kind") == "delivered":
        return _("Alert: Delivered {delivered} reached {percent} of the {ordered} ordered").format(
            delivered=hmm(delivered), percent=_percent(c.get("threshold")), ordered=hmm(ordered))
    return _("Alert: {left} left of the {prepaid} prepaid, below {hours}").format(
        left=hmm(ordered - delivered), prepaid=hmm(ordered), hours=_hours(c.get("threshold")))


def _alert_cleared(c, w):
    return _("Alert dealt with: {note}").format(note=_quoted(c["note"])) if c.get("note") else _("Alert dealt with")


def _lock_date(c, key: str) -> str:
    before, after = _pair(c, key)
    if after is None:
        return _("Lock date removed (was {before})").format(before=_day(before))
    if before in (None, ""):
        return _("Lock date set to {after} (was none)").format(after=_day(after))
    return _("Lock date set to {after} (was {before})").format(after=_day(after), before=_day(before))


def _grace(c) -> str:
    before, after = _pair(c, "agent_grace_days")
    was = _("no limit") if before is None else ngettext("{days} day back", "{days} days back", before).format(
        days=before)
    if after is None:
        return _("Agents may log time on any date not locked (was {was})").format(was=was)
    return ngettext("Agents may log time up to {days} day back (was {was})",
                    "Agents may log time up to {days} days back (was {was})", after).format(days=after, was=was)


def _lock_changed(c, w):
    parts = [_lock_date(c, key) for key in ("lock_date", "timesheets_lock_date") if key in c]
    if "agent_grace_days" in c:
        parts.append(_grace(c))
    return _joined(parts) or _("Lock date changed")


def _team_invoicing(c, w):
    before, after = _pair(c, "invoiced_timesheets")
    return _("Invoiced Timesheets changed from {before} to {after}").format(
        before=_label(TEAM_INVOICING, before), after=_label(TEAM_INVOICING, after))


def _work_type(c, w):
    before, after = _pair(c, "billing")
    return _("Billing changed from {before} to {after}").format(before=_label(WORK_TYPE_BILLING, before),
                                                                after=_label(WORK_TYPE_BILLING, after))


def _min(minutes) -> str:
    return _("{minutes} min").format(minutes=minutes)


def _product_change(name: str, before, after) -> str:
    if name == "rounding":
        return _("Rounding changed from {before} to {after}").format(before=_label(ROUNDING, before),
                                                                     after=_label(ROUNDING, after))
    if name == "billing_increment_minutes":
        return _("Billing increment changed from {before} to {after}").format(before=_min(before), after=_min(after))
    if name == "minimum_minutes":
        return _("Minimum charge changed from {before} to {after}").format(before=_min(before), after=_min(after))
    if name == "alert_delivered_percent":
        return _("Alert on Delivered changed from {before} to {after}").format(
            before=_percent(before) if before else _("never"), after=_percent(after) if after else _("never"))
    if name == "alert_remaining_hours":
        return _("Alert on remaining hours changed from {before} to {after}").format(
            before=_hours(before) if before else _("never"), after=_hours(after) if after else _("never"))
    return _("{field} changed").format(field=name.replace("_", " ").capitalize())


def _product(c, w):
    return _joined(_product_change(name, *_pair(c, name)) for name in c) or _("Billing rule changed")


def _setting_change(name: str, before, after) -> str:
    label = _label(FIELD_LABELS, name) if name in FIELD_LABELS else name.replace("_", " ").capitalize()
    if isinstance(after, bool):
        return (_("{field} turned on") if after else _("{field} turned off")).format(field=label)
    if name in LONG:
        return _("{field} changed").format(field=label)
    if name == "payment_terms_days":
        return _("{field} changed from {before} to {after}").format(field=label, before=_days(before),
                                                                    after=_days(after))
    return _("{field} changed from {before} to {after}").format(field=label, before=_quoted(before),
                                                                after=_quoted(after))


def _days(days) -> str:
    """A customer's payment terms: none of its own means the company's."""
    if days is None:
        return _("the company's")
    return ngettext("{days} day", "{days} days", days).format(days=days)


def _settings(c, w):
    return _joined(_setting_change(name, *_pair(c, name)) for name in c) or _("Changed")


# --- The customer portal (issue 18) -----------------------------------------------------------------------

RESOLUTIONS = {"kept": gettext_lazy("kept as logged"), "written_off": gettext_lazy("written off"),
               "corrected": gettext_lazy("corrected")}


def _contact_invited(c, w):
    if c.get("again"):
        return _("Invitation sent again to {email}").format(email=c.get("email"))
    return _("{email} invited to the portal of {customer}").format(email=c.get("email"), customer=c.get("customer"))


def _ticket_message(c, w):
    return _("Message from the customer") if c.get("from_customer") else _("Message from the support team")


def _entry_disputed(c, w):
    values = {"duration": hmm(c.get("minutes")), "reason": _quoted(c.get("reason"))}
    if c.get("held"):
        return _("Disputed {duration}: {reason}; held out of invoices until resolved").format(**values)
    return _("Disputed {duration}: {reason}").format(**values)


def _dispute_resolved(c, w):
    before, after = _pair(c, "minutes")
    values = {"resolution": _label(RESOLUTIONS, c.get("resolution")), "answer": _quoted(c.get("answer")),
              "before": hmm(before), "after": hmm(after)}
    if c.get("resolution") == "corrected":
        return _("Dispute resolved: corrected from {before} to {after}: {answer}").format(**values)
    return _("Dispute resolved: {resolution}: {answer}").format(**values)


SENTENCES = {
    A.TICKET_CREATED: _ticket_created,
    A.TICKET_STATUS_CHANGED: _ticket_status,
    A.TICKET_ASSIGNED: _ticket_assigned,
    A.TICKET_CUSTOMER_CHANGED: _ticket_customer,
    A.ENTRY_CREATED: _entry_created,
    A.ENTRY_EDITED: _entry_edited,
    A.ENTRY_DELETED: _entry_deleted,
    A.ENTRY_APPROVED: lambda c, w: _("Approved"),
    A.ENTRY_REJECTED: _entry_rejected,
    A.ENTRY_WRITTEN_OFF: _entry_written_off,
    A.ENTRY_REINSTATED: _entry_reinstated,
    A.ORDER_CONFIRMED: lambda c, w: _("Confirmed: the quotation is a sales order"),
    A.ORDER_CANCELLED: lambda c, w: _("Cancelled"),
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
    A.ALERT_ENDED: lambda c, w: _("Alert ended: the line is back under its threshold"),
    A.LOCK_DATE_CHANGED: _lock_changed,
    A.TEAM_INVOICING_CHANGED: _team_invoicing,
    A.WORK_TYPE_CHANGED: _work_type,
    A.PRODUCT_RULE_CHANGED: _product,
    A.COMPANY_CHANGED: _settings,
    A.CUSTOMER_BILLING_CHANGED: _settings,
    A.TEAM_PORTAL_CHANGED: _settings,
    A.CONTACT_INVITED: _contact_invited,
    A.CONTACT_JOINED: lambda c, w: _("Set their password and joined the portal"),
    A.CONTACT_DEACTIVATED: lambda c, w: _("Portal access closed"),
    A.TICKET_MESSAGE: _ticket_message,
    A.ENTRY_ACKNOWLEDGED: lambda c, w: _("Acknowledged {duration} as logged").format(duration=hmm(c.get("minutes"))),
    A.ENTRY_DISPUTED: _entry_disputed,
    A.DISPUTE_RESOLVED: _dispute_resolved,
}


def sentence(event: AuditEvent, *, money: Money | None = None, dates: Mapping | None = None) -> str:
    """Return the event as a sentence in the active language, without who and when (the History shows them
    beside it).

    `money(value)` writes an amount in the currency of the event's document; `dates` maps time entry ids
    to their dates (entry_ids(events) says which to read).
    """
    write = SENTENCES.get(event.action)
    changes = event.changes if isinstance(event.changes, dict) else {}
    if write is not None:
        try:
            return str(write(changes, _Writer(money, dates)))
        except (KeyError, TypeError, ValueError, InvalidOperation):
            pass  # an event recorded before its changes took today's shape: said plainly below
    return str(event.get_action_display())
