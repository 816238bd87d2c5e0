"""Writes of the invoicing app: Create Invoice, post, cancel, credit.

Every service here locks in the project's one order (sales/services.py):
the invoice, the sales order, then its lines in primary-key order, then entries. Entries
are linked and freed with set-based UPDATEs; the lines' stored totals are then
recomputed from the entries, never adjusted by a delta.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.models import AuditEvent
from audit.services import audit_record, audit_record_many
from core.errors import Conflict
from core.l10n import day, decimal
from sales.models import Company, SaleOrder, SaleOrderLine, ServicePolicy
from sales.services import links_lock, sale_lines_lock, sale_lines_set_totals
from sales.units import amount, format_minutes, minutes_to_qty, round_cents, tax_amount
from timesheets.approval import reason_check
from timesheets.delivered import sale_lines_recompute
from timesheets.lines import billable_expression, no_charge_q
from timesheets.models import TimeEntry

from .charges import credit_charges, line_fill, rule_snapshot
from .languages import customer_language
from .models import ZERO, Invoice, InvoiceLine, InvoiceSequence, TicketCharge
from .payments import balances_refresh, receivable_terms
from .selectors import invoiced_figures
from .tasks import render_pdf

PREFIX = {Invoice.Kind.INVOICE: "INV", Invoice.Kind.CREDIT_NOTE: "RINV"}


def _freed() -> dict:
    """What freeing entries from an invoice writes (a draft cancelled or trimmed, a credit note posted):
    no invoice line, and the billable minutes their policy says now: billed under "All recorded
    timesheets" yesterday, time awaiting approval counts nothing once its team invoices approved only.
    One write per row: see timesheets.approval on rows written twice."""
    return {"invoice_line": None, "billable_minutes": billable_expression()}


def _charges_lock() -> None:
    """Share the links lock (rank 0 of the lock order) before writing per-ticket charges (Rule 14).

    A charge points at its ticket and task; PostgreSQL checks those keys at COMMIT by locking the
    rows. Linking a task rewrites the ticket's row before its relink waits for the lines that
    Create Invoice holds: without this, each would wait for the other (found by the service fuzz).
    """
    links_lock(exclusive=False)


# --- Totals -----------------------------------------------------------------

def _price_line(line: InvoiceLine) -> None:
    currency = line.invoice.currency
    line.amount_untaxed = amount(line.quantity, line.price_unit, currency)
    line.amount_tax = tax_amount(line.amount_untaxed, line.tax_rate, currency)


def _total_invoice(invoice: Invoice) -> None:
    """Store the invoice totals as sums of its rounded lines."""
    sums = invoice.lines.aggregate(untaxed=Sum("amount_untaxed"), tax=Sum("amount_tax"))
    # Rounded although the lines are: SQLite sums decimals as floats and drops their places (Decimal("90")).
    invoice.amount_untaxed = round_cents(sums["untaxed"] or ZERO)
    invoice.amount_tax = round_cents(sums["tax"] or ZERO)
    invoice.amount_total = invoice.amount_untaxed + invoice.amount_tax
    invoice.save(update_fields=["amount_untaxed", "amount_tax", "amount_total"])


SNAPSHOT = ("customer_name", "customer_address", "customer_vat", "customer_country", "customer_email")


def _snapshot_customer(invoice: Invoice) -> None:
    customer = invoice.customer
    invoice.customer_name = customer.name
    invoice.customer_address = customer.address
    invoice.customer_vat = customer.vat_number
    invoice.customer_country = customer.country.code or ""
    invoice.customer_email = customer.invoice_email


def sale_lines_recompute_invoiced(*, line_ids: Iterable[int]) -> None:
    """Recompute invoiced minutes (from entries), and invoiced quantity and rounding (from invoice lines:
    selectors.SIGNS)."""
    line_ids = sorted(set(line_ids))
    sale_lines_recompute(line_ids=line_ids)
    figures = invoiced_figures(line_ids=line_ids)
    sale_lines_set_totals(totals={pk: {"qty_invoiced": figures.get(pk, (ZERO, 0))[0],
                                       "rounding_minutes": figures.get(pk, (ZERO, 0))[1]} for pk in line_ids})


def _audited(invoice: Invoice) -> dict:
    """Return what the audit log keeps of an invoice's content: amounts, minutes and time entries."""
    if invoice.is_credit_note:
        entries = TimeEntry.objects.filter(credit_lines__invoice=invoice)
    else:
        entries = TimeEntry.objects.filter(invoice_line__invoice=invoice)
    return {"amount_untaxed": invoice.amount_untaxed, "amount_tax": invoice.amount_tax,
            "amount_total": invoice.amount_total,
            "minutes": invoice.lines.aggregate(m=Sum("minutes"))["m"] or 0,
            "timesheets": sorted(entries.values_list("pk", flat=True))}


# --- Create Invoice (DESIGN Rule 7) ------------------------------------------

def check_period(period_start, period_end) -> None:
    for name, value in (("period_start", period_start), ("period_end", period_end)):
        if value is not None and not isinstance(value, datetime.date):
            raise ValidationError({name: _("Enter a valid date.")})
    if period_start and period_end and period_start > period_end:
        raise ValidationError({"period_end": _("The period ends before it starts.")})


FILLED = ["minutes", "rounding_minutes", "entry_count", "worked_minutes", "explanation", "quantity",
          "amount_untaxed", "amount_tax"]


def _bill_timesheets(invoice: Invoice, line: SaleOrderLine, period_start, period_end) -> InvoiceLine | None:
    """Link the line's unbilled entries in the period to a new invoice line, in one UPDATE, and fill it."""
    # Time that counts now: not awaiting approval, rejected or written off; billable, or of a "No
    # charge" work type, which rides along at 0.00 (Rule 13) on a line that bills something.
    entries = TimeEntry.objects.filter(Q(billable_minutes__gt=0) | no_charge_q(), sale_line=line,
                                       invoice_line__isnull=True)
    if period_start:
        entries = entries.filter(date__gte=period_start)
    if period_end:
        entries = entries.filter(date__lte=period_end)
    if not entries.filter(billable_minutes__gt=0).exists():
        return None
    inv_line = InvoiceLine(
        invoice=invoice, sale_line=line, name=line.name or line.product.name, quantity=ZERO, uom=line.uom,
        price_unit=line.price_unit, tax_rate=line.tax.rate if line.tax_id else ZERO,
    )
    rule_snapshot(inv_line, line)
    inv_line.save()
    entries.update(invoice_line=inv_line)
    _refill(inv_line, line)
    return inv_line


def _refill(inv_line: InvoiceLine, line: SaleOrderLine) -> None:
    """Bill exactly the entries the line holds now, rounded per its rule (charges.line_fill), and price it."""
    line_fill(inv_line, line)
    inv_line.quantity = minutes_to_qty(inv_line.minutes, inv_line.uom)
    _price_line(inv_line)
    inv_line.save(update_fields=FILLED)


def _bill_quantity(invoice: Invoice, line: SaleOrderLine) -> InvoiceLine | None:
    """Bill ordered − invoiced (prepaid) or delivered − invoiced (manual)."""
    qty = line.to_invoice
    if qty <= 0:
        return None
    inv_line = InvoiceLine(
        invoice=invoice, sale_line=line, name=line.name or line.product.name, quantity=qty, uom=line.uom,
        price_unit=line.price_unit, tax_rate=line.tax.rate if line.tax_id else ZERO,
        explanation=_quantity_explanation(line, qty),
    )
    _price_line(inv_line)
    inv_line.save()
    return inv_line


def _quantity_explanation(line: SaleOrderLine, qty: Decimal) -> str:
    """Why an ordered or manual line bills `qty`: "4.00 of 10.00 hours ordered (Prepaid/Fixed Price), 6.00
    invoiced before", in the active language (the customer's: invoice_create_from_order)."""
    figures = {"qty": decimal(qty), "unit": line.get_uom_display().lower(), "invoiced": decimal(line.qty_invoiced)}
    if line.policy == ServicePolicy.ORDERED_PREPAID:
        figures["ordered"] = decimal(line.quantity)
        if line.qty_invoiced:
            text = _("{qty} of {ordered} {unit} ordered (Prepaid/Fixed Price), {invoiced} invoiced before")
        else:
            text = _("{qty} of {ordered} {unit} ordered (Prepaid/Fixed Price)")
    else:
        figures["delivered"] = decimal(line.qty_delivered_manual)
        if line.qty_invoiced:
            text = _("{qty} of {delivered} {unit} delivered (entered by hand), {invoiced} invoiced before")
        else:
            text = _("{qty} of {delivered} {unit} delivered (entered by hand)")
    return text.format(**figures)


@transaction.atomic
def invoice_create_from_order(*, order: SaleOrder, period_start: datetime.date | None = None,
                              period_end: datetime.date | None = None, actor=None) -> Invoice:
    """Create Invoice: a draft billing everything the order has to invoice (timesheets within the period).

    Its lines are a document: their explanations are written in the customer's language (languages.py)."""
    check_period(period_start, period_end)
    _charges_lock()
    # The order's row lock makes two clicks at once queue: the second finds nothing left.
    order = SaleOrder.objects.select_for_update().select_related("customer").get(pk=order.pk)
    if order.state != SaleOrder.State.SALE:
        raise ValidationError(_("{order} is not a confirmed sales order: confirm it before invoicing.")
                              .format(order=order.name))
    lines = sale_lines_lock(ids=order.lines.values_list("pk", flat=True))
    lines = (SaleOrderLine.objects.filter(pk__in=[line.pk for line in lines]).select_related("product", "tax")
             .order_by("pk"))
    invoice = Invoice(kind=Invoice.Kind.INVOICE, customer=order.customer, sale_order=order, created_by=actor,
                      period_start=period_start, period_end=period_end, currency=Company.current().currency)
    _snapshot_customer(invoice)
    invoice.save()
    billed = []
    with translation.override(customer_language(order.customer)):
        for line in lines:
            if line.policy == ServicePolicy.DELIVERED_TIMESHEET:
                inv_line = _bill_timesheets(invoice, line, period_start, period_end)
            else:
                inv_line = _bill_quantity(invoice, line)
            if inv_line is not None:
                billed.append(line.pk)
    if not billed:
        raise ValidationError(_nothing_to_invoice(order, period_start, period_end))
    _total_invoice(invoice)
    sale_lines_recompute_invoiced(line_ids=billed)
    audit_record(action=AuditEvent.Action.INVOICE_CREATED, obj=invoice, actor=actor, changes={
        "sale_order": order.name, "period": [period_start, period_end], **_audited(invoice)})
    return invoice


def _nothing_to_invoice(order: SaleOrder, period_start, period_end) -> str:
    if period_start and period_end:
        text = _("There is nothing to invoice on {order} for timesheets from {start} to {end}.")
    elif period_start:
        text = _("There is nothing to invoice on {order} for timesheets from {start} to today.")
    elif period_end:
        text = _("There is nothing to invoice on {order} for timesheets from the start to {end}.")
    else:
        text = _("There is nothing to invoice on {order}.")
    return text.format(order=order.name, start=day(period_start), end=day(period_end))


# --- Drafts -------------------------------------------------------------------

def _lock_order_and_lines(invoice: Invoice, line_ids: Iterable[int]) -> None:
    """Lock the invoice's sales order, then these lines, in the project's order.

    PostgreSQL checks foreign keys at COMMIT (Django makes them deferred) by locking the rows
    they point at (KEY SHARE): a new invoice's sales order, and the order of a line updated
    twice in one transaction (its minutes, then its quantity). Left to COMMIT, that lock on
    the order comes after our lines' and deadlocks with a Create Invoice that holds the order
    and waits for them (found by `make loadtest`). Taken here first, it is held at COMMIT.
    """
    SaleOrder.objects.select_for_update().filter(pk=invoice.sale_order_id).exists()
    sale_lines_lock(ids=line_ids)


def _refusals() -> dict[tuple[str, str], str]:
    """Why an invoice in a state cannot have an action done: {(action, state): sentence}."""
    draft, posted, cancelled = Invoice.State.DRAFT, Invoice.State.POSTED, Invoice.State.CANCELLED
    return {
        ("change", posted): _("{invoice} is posted and cannot be changed."),
        ("change", cancelled): _("{invoice} is cancelled and cannot be changed."),
        ("cancel", posted): _("{invoice} is posted and cannot be cancelled (use a credit note)."),
        ("cancel", cancelled): _("{invoice} is cancelled and cannot be cancelled (use a credit note)."),
        ("post", posted): _("{invoice} is posted and cannot be posted."),
        ("post", cancelled): _("{invoice} is cancelled and cannot be posted."),
        ("credit", draft): _("{invoice} is draft and cannot be credited."),
        ("credit", cancelled): _("{invoice} is cancelled and cannot be credited."),
    }


def _lock_invoice(invoice: Invoice, *, states: Iterable[str], action: str) -> Invoice:
    """Lock the invoice; refuse it unless it is in one of `states` for `action` (change, cancel, post, credit)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.state not in states:
        raise Conflict(_refusals()[(action, invoice.state)].format(invoice=invoice))
    return invoice


def _line_ids(invoice: Invoice) -> list[int]:
    return list(invoice.lines.values_list("sale_line_id", flat=True).distinct().order_by())


def _take_off(invoice: Invoice, entry_ids: Iterable[int], **entry_fields) -> tuple[list[int], dict]:
    """Take entries off a draft invoice, setting `entry_fields` on them; reprice its lines and the
    sales order lines. Return (the entry ids, the invoice's audited figures before)."""
    ids = {int(i) for i in entry_ids}
    _charges_lock()
    invoice = _lock_invoice(invoice, states=[Invoice.State.DRAFT], action="change")
    if invoice.is_credit_note:
        raise Conflict(_("Timesheets are taken off invoices, not credit notes: cancel the credit note instead."))
    _lock_order_and_lines(invoice, _line_ids(invoice))
    entries = TimeEntry.objects.filter(pk__in=ids, invoice_line__invoice=invoice)
    found = set(entries.values_list("pk", flat=True))
    if not ids or found != ids:
        if not ids:
            raise ValidationError({"timesheets": _("These timesheets are not on {invoice}: none given.")
                                   .format(invoice=invoice)})
        missing = ", ".join(str(i) for i in sorted(ids - found))
        raise ValidationError({"timesheets": _("These timesheets are not on {invoice}: {ids}.")
                               .format(invoice=invoice, ids=missing)})
    before = _audited(invoice)
    entries.update(**{**_freed(), **entry_fields})
    with translation.override(customer_language(invoice.customer)):  # the lines' explanations: a document
        for inv_line in invoice.lines.filter(minutes__gt=0).select_related("sale_line__product"):
            if not inv_line.timesheets.filter(billable_minutes__gt=0).exists():
                # Nothing billable left: no-charge entries do not make a line of their own (Rule 13).
                inv_line.timesheets.update(**_freed())
                inv_line.delete()
                continue
            _refill(inv_line, inv_line.sale_line)
    _total_invoice(invoice)
    sale_lines_recompute_invoiced(line_ids=_line_ids(invoice) + list(
        TimeEntry.objects.filter(pk__in=ids).values_list("sale_line_id", flat=True)))
    return sorted(ids), before


def _figures(invoice: Invoice, before: dict) -> dict:
    invoice.refresh_from_db(fields=["amount_total"])
    return {"amount_total": [before["amount_total"], invoice.amount_total],
            "minutes": [before["minutes"], _audited(invoice)["minutes"]]}


@transaction.atomic
def invoice_remove_timesheets(*, invoice: Invoice, entry_ids: Iterable[int], actor=None) -> Invoice:
    """Take entries off a draft invoice; they are to invoice again and editable."""
    ids, before = _take_off(invoice, list(entry_ids))
    audit_record(action=AuditEvent.Action.INVOICE_TIMESHEETS_REMOVED, obj=invoice, actor=actor, changes={
        "removed_timesheets": ids, **_figures(invoice, before)})
    return invoice


@transaction.atomic
def invoice_write_off(*, invoice: Invoice, entry_ids: Iterable[int], reason: str, actor=None) -> Invoice:
    """Write entries off a draft invoice (DESIGN Rule 15): they leave it as "No charge", keep their
    minutes, bill 0 and never reach an invoice again unless a manager reinstates them."""
    reason = reason_check(reason, what="writing off")
    entry_ids = list(entry_ids)
    ids, before = _take_off(invoice, entry_ids, written_off=True, write_off_reason=reason, billable_minutes=0)
    audit_record(action=AuditEvent.Action.INVOICE_WRITTEN_OFF, obj=invoice, actor=actor, changes={
        "written_off_timesheets": ids, "reason": reason, **_figures(invoice, before)})
    entries = TimeEntry.objects.filter(pk__in=ids).select_related("user").order_by("pk")
    audit_record_many(action=AuditEvent.Action.ENTRY_WRITTEN_OFF, actor=actor, objects=[
        (entry, {"written_off": [False, True], "reason": reason, "invoice": invoice.pk}) for entry in entries])
    return invoice


@transaction.atomic
def invoice_cancel(*, invoice: Invoice, actor=None) -> Invoice:
    """Cancel a draft; its entries are freed to be invoiced again."""
    invoice = _lock_invoice(invoice, states=[Invoice.State.DRAFT], action="cancel")
    line_ids = _line_ids(invoice)
    _lock_order_and_lines(invoice, line_ids)
    freed = sorted(TimeEntry.objects.filter(invoice_line__invoice=invoice).values_list("pk", flat=True))
    TimeEntry.objects.filter(invoice_line__invoice=invoice).update(**_freed())
    invoice.state = Invoice.State.CANCELLED
    invoice.save(update_fields=["state"])
    sale_lines_recompute_invoiced(line_ids=line_ids)
    audit_record(action=AuditEvent.Action.INVOICE_CANCELLED, obj=invoice, actor=actor, changes={
        "state": [Invoice.State.DRAFT, Invoice.State.CANCELLED], "freed_timesheets": freed})
    return invoice


# --- Posting (DESIGN Rule 9) --------------------------------------------------

def _next_number(kind: str, year: int) -> str:
    """Take the next number of the year; the sequence row stays locked until commit.

    A rollback returns the number, so numbers have no gaps.
    """
    try:
        with transaction.atomic():
            InvoiceSequence.objects.get_or_create(kind=kind, year=year)
    except IntegrityError:
        pass  # created by a concurrent first posting of the year
    seq = InvoiceSequence.objects.select_for_update().get(kind=kind, year=year)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"{PREFIX[kind]}/{year}/{seq.last:05d}"


@transaction.atomic
def invoice_post(*, invoice: Invoice, actor=None) -> Invoice:
    """Post a draft: number it, snapshot the customer, freeze it. A credit note frees its entries."""
    invoice = _lock_invoice(invoice, states=[Invoice.State.DRAFT], action="post")
    if not invoice.lines.exists():
        raise ValidationError(_("{invoice} has no lines: cancel it instead.").format(invoice=invoice))
    line_ids = _line_ids(invoice)
    _lock_order_and_lines(invoice, line_ids)
    today = timezone.localdate()
    invoice.invoice_date = today
    invoice.number = _next_number(invoice.kind, today.year)
    invoice.state = Invoice.State.POSTED
    invoice.posted_at = timezone.now()
    _snapshot_customer(invoice)
    receivable_terms(invoice)
    invoice.save(update_fields=["invoice_date", "number", "state", "posted_at", *SNAPSHOT, "seller", "due_date",
                                "payment_reference"])
    if invoice.is_credit_note:
        credited = TimeEntry.objects.filter(credit_lines__invoice=invoice, invoice_line__invoice=invoice.refers_id)
        freed = sorted(credited.values_list("pk", flat=True))
        credited.update(**_freed())
    sale_lines_recompute_invoiced(line_ids=line_ids)
    balances_refresh(invoice=invoice)
    changes = {"state": [Invoice.State.DRAFT, Invoice.State.POSTED], "number": [None, invoice.number],
               "invoice_date": invoice.invoice_date, "amount_total": invoice.amount_total,
               "due_date": invoice.due_date, "payment_reference": invoice.payment_reference}
    if invoice.is_credit_note:
        changes["freed_timesheets"] = freed
    audit_record(action=AuditEvent.Action.INVOICE_POSTED, obj=invoice, actor=actor, changes=changes)
    # Its PDF is rendered once, by a job that exists exactly when this posting commits (documents.py).
    render_pdf.enqueue(invoice.pk)
    return invoice


# --- Credit notes -------------------------------------------------------------

def _creditable(invoice: Invoice, entry_ids: Iterable[int] | None) -> QuerySet[TimeEntry]:
    """Return the entries a credit note of `invoice` gives back: those it bills and no draft note
    names yet; all of them, or those of `entry_ids` (refused unless every one of them is)."""
    pending = TimeEntry.objects.filter(credit_lines__invoice__refers=invoice,
                                       credit_lines__invoice__state=Invoice.State.DRAFT)
    live = TimeEntry.objects.filter(invoice_line__invoice=invoice).exclude(pk__in=pending)
    if entry_ids is None:
        return live
    ids = {int(i) for i in entry_ids}
    found = set(live.filter(pk__in=ids).values_list("pk", flat=True))
    if not ids or found != ids:
        if not ids:
            raise ValidationError({"timesheets": _("These timesheets are not billed by {invoice} or are already "
                                                   "on a credit note: none given.").format(invoice=invoice)})
        missing = ", ".join(str(i) for i in sorted(ids - found))
        raise ValidationError({"timesheets": _("These timesheets are not billed by {invoice} or are already on a "
                                               "credit note: {ids}.").format(invoice=invoice, ids=missing)})
    return live.filter(pk__in=ids)


def _credited(origin: InvoiceLine) -> tuple[int, Decimal]:
    """Return (minutes, quantity) of `origin` given back by credit notes that are not cancelled."""
    sums = InvoiceLine.objects.filter(origin=origin).exclude(invoice__state=Invoice.State.CANCELLED).aggregate(
        m=Sum("minutes"), q=Sum("quantity"))
    return sums["m"] or 0, round_cents(sums["q"] or ZERO)  # rounded: a float's sum on SQLite


def _credit_line(note: Invoice, origin: InvoiceLine, given_back: list[tuple[int, int]], *, full: bool) -> None:
    """Add to `note` the line crediting `origin`, if anything of it is left to credit.

    A timesheet line gives back `given_back` [(entry id, minutes)] and, per ticket, the rounding
    the entries left no longer need (charges.credit_charges); any other line, in a full credit note
    only, what earlier notes have not credited yet.
    """
    charges, worked = [], 0
    credited_minutes, credited_qty = _credited(origin)
    if origin.minutes:
        if not given_back:
            return
        charges = credit_charges(origin, [entry_id for entry_id, _ in given_back])
        entries_minutes = sum(m for _, m in given_back)
        minutes = sum(c.billed for c in charges) if charges else entries_minutes
        # The last of it given back: the rest of the quantity, so the credits negate the line exactly.
        qty = (origin.quantity - credited_qty if credited_minutes + minutes == origin.minutes
               else minutes_to_qty(minutes, origin.uom))
        worked = sum(TimeEntry.objects.filter(pk__in=[e for e, _ in given_back]).values_list("minutes", flat=True))
    else:
        if not full:
            return
        minutes, entries_minutes, qty = 0, 0, origin.quantity - credited_qty
        if qty <= 0:
            return
    line = InvoiceLine(invoice=note, sale_line_id=origin.sale_line_id, origin=origin, name=origin.name,
                       quantity=qty, uom=origin.uom, price_unit=origin.price_unit, tax_rate=origin.tax_rate,
                       minutes=minutes, rounding_minutes=minutes - entries_minutes, entry_count=len(given_back),
                       worked_minutes=worked, rounding=origin.rounding, increment_minutes=origin.increment_minutes,
                       minimum_minutes=origin.minimum_minutes)
    # A document: written in the customer's language (invoice_credit_note).
    if given_back:
        line.explanation = ngettext("gives back {n} entry, {worked} worked → {credited} credited",
                                    "gives back {n} entries, {worked} worked → {credited} credited",
                                    len(given_back)).format(n=len(given_back), worked=format_minutes(worked),
                                                            credited=format_minutes(minutes))
    else:
        line.explanation = _("gives back {qty} of {invoiced} {unit} invoiced").format(
            qty=decimal(qty), invoiced=decimal(origin.quantity), unit=origin.get_uom_display().lower())
    _price_line(line)
    line.save()
    if given_back:
        line.credited_timesheets.set([entry_id for entry_id, _ in given_back])
        TicketCharge.objects.bulk_create([*_owned(charges, line)])


def _owned(charges: list[TicketCharge], line: InvoiceLine):
    for charge in charges:
        charge.invoice_line = line
        yield charge


@transaction.atomic
def invoice_credit_note(*, invoice: Invoice, entry_ids: Iterable[int] | None = None, actor=None) -> Invoice:
    """Draft a credit note for a posted invoice: in full, or for the named entries only.

    Posting it gives the entries back: they are to invoice again.
    """
    _charges_lock()
    invoice = _lock_invoice(invoice, states=[Invoice.State.POSTED], action="credit")
    if invoice.is_credit_note:
        raise Conflict(_("{invoice} is a credit note: only invoices are credited.").format(invoice=invoice))
    # The note points at the order and its lines: locked now, not at COMMIT (_lock_order_and_lines).
    _lock_order_and_lines(invoice, _line_ids(invoice))
    entries = _creditable(invoice, entry_ids)
    note = Invoice(kind=Invoice.Kind.CREDIT_NOTE, customer=invoice.customer, sale_order=invoice.sale_order,
                   currency=invoice.currency,
                   refers=invoice, created_by=actor)
    _snapshot_customer(note)
    note.save()
    by_line = defaultdict(list)
    for entry_id, line_id, minutes in entries.values_list("pk", "invoice_line_id", "billable_minutes"):
        by_line[line_id].append((entry_id, minutes))
    with translation.override(customer_language(invoice.customer)):
        for origin in invoice.lines.order_by("pk"):
            _credit_line(note, origin, by_line.get(origin.pk, []), full=entry_ids is None)
    if not note.lines.exists():
        raise ValidationError(_("There is nothing left to credit on {invoice}.").format(invoice=invoice))
    _total_invoice(note)
    given_back = {"credit_note": note.pk, "full": entry_ids is None, **_audited(note)}
    audit_record(action=AuditEvent.Action.CREDIT_NOTE_CREATED, obj=note, actor=actor,
                 changes={"refers": invoice.number, **given_back})
    audit_record(action=AuditEvent.Action.INVOICE_CREDITED, obj=invoice, actor=actor, changes=given_back)
    return note

