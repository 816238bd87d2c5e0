"""The receivable side: due dates, payments, refunds and what each invoice still owes.

An invoice and its posted credit notes are one account. What is owed is recomputed from its rows,
never adjusted by a delta (like Delivered):
- the invoice's payments reduce what it owes; each credit note, in posting order, is applied to what is
  left of it, and the rest of the note is owed to the customer, settled by refunds (payments on the note);
- a payment never exceeds what is owed, under the row lock of the invoice (or the note) it pays:
  two payments at once queue, and the second is refused if the first settled it.
Lock order: the invoice's row, then a posted note's. Posting a note holds that draft (no part of the
account yet, so nobody else waits for it) and then takes the invoice's row to refresh.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from core.errors import Conflict
from core.l10n import day
from core.money import format_money
from sales.models import Company

from .models import ZERO, Invoice, Payment, PaymentState
from .references import payment_reference

MAX_AMOUNT = Decimal("999999999999.99")


def terms_days(invoice: Invoice) -> int:
    terms = invoice.customer.payment_terms_days
    return Company.current().payment_terms_days if terms is None else terms


def receivable_terms(invoice: Invoice) -> None:
    """At posting: the company's snapshot, the due date (the draft's, else the payment terms'), the reference."""
    company = Company.current()
    invoice.seller = company.snapshot()
    if invoice.is_credit_note:
        invoice.due_date = invoice.invoice_date  # a refund is owed at once
    elif invoice.due_date is None or invoice.due_date < invoice.invoice_date:
        invoice.due_date = invoice.invoice_date + datetime.timedelta(days=terms_days(invoice))
    invoice.payment_reference = payment_reference(invoice.kind, invoice.number, company.country.code)


def figures(total: Decimal, paid: Decimal, notes: list[tuple[Decimal, Decimal]]) -> tuple[Decimal, list[Decimal]]:
    """Return what the invoice still owes and, per note (its total, its refunds), what is owed on it."""
    left = total - paid
    owed_on_notes = []
    for note_total, refunded in notes:
        applied = min(note_total, max(left, ZERO))
        left -= applied
        owed_on_notes.append(note_total - applied - refunded)
    return max(left, ZERO), owed_on_notes


def _state(total: Decimal, residual: Decimal, paid: Decimal, credited: Decimal, *, note: bool) -> str:
    if residual == 0:
        return PaymentState.REVERSED if (not note and credited >= total > 0 and paid == 0) else PaymentState.PAID
    if note:
        return PaymentState.PARTIAL if residual < total else PaymentState.NOT_PAID
    return PaymentState.PARTIAL if paid > 0 else PaymentState.NOT_PAID


def account_figures(origin: Invoice) -> dict[int, dict]:
    """What each posted document of `origin`'s account should store: {pk: paid, residual, state}."""
    notes = list(origin.credit_notes.filter(state=Invoice.State.POSTED).order_by("pk")
                 .values_list("pk", "amount_total"))
    paid = dict(Payment.objects.filter(invoice__in=[origin.pk, *(pk for pk, _ in notes)])
                .values("invoice").annotate(s=Sum("amount")).values_list("invoice", "s"))
    paid = {pk: Decimal(value or 0).quantize(Decimal("0.01")) for pk, value in paid.items()}
    residual, owed = figures(origin.amount_total, paid.get(origin.pk, ZERO),
                             [(total, paid.get(pk, ZERO)) for pk, total in notes])
    credited = sum((total for _pk, total in notes), ZERO)
    result = {origin.pk: {"amount_paid": paid.get(origin.pk, ZERO), "amount_residual": residual,
                          "payment_state": _state(origin.amount_total, residual, paid.get(origin.pk, ZERO), credited,
                                                  note=False)}}
    for (pk, total), left in zip(notes, owed, strict=True):
        result[pk] = {"amount_paid": paid.get(pk, ZERO), "amount_residual": left,
                      "payment_state": _state(total, left, paid.get(pk, ZERO), ZERO, note=True)}
    return result


def balances_refresh(*, invoice: Invoice) -> None:
    """Recompute the stored figures of `invoice`'s account (itself, its invoice, their posted notes)."""
    origin = Invoice.objects.select_for_update().get(pk=invoice.refers_id or invoice.pk)
    if origin.state != Invoice.State.POSTED:
        return
    for pk, values in account_figures(origin).items():
        Invoice.objects.filter(pk=pk).update(**values)


def _lock_account(invoice: Invoice) -> Invoice:
    """Lock the account of the document paid, its invoice's row first, and return the document fresh.

    The invoice's row is the account's lock: a refresh rewrites every posted note of the account, so
    whoever holds a note's row must have taken the invoice's before it (see the module's lock order).
    """
    doc = Invoice.objects.get(pk=invoice.pk)
    if doc.state != Invoice.State.POSTED:
        raise Conflict(_("{invoice} is not posted: only posted invoices and credit notes are paid.")
                       .format(invoice=doc))
    origin = Invoice.objects.select_for_update().get(pk=doc.refers_id or doc.pk)
    return Invoice.objects.select_for_update().get(pk=doc.pk) if doc.refers_id else origin


def _check_amount(invoice: Invoice, amount) -> Decimal:
    try:
        amount = Decimal(str(amount))
    except ArithmeticError:
        raise ValidationError({"amount": _("{amount} is not an amount: e.g. 120.50.").format(amount=amount)}) \
            from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than 0, e.g. 120.50.")})
    if amount > MAX_AMOUNT:
        raise ValidationError({"amount": _("The amount is too large: at most 999999999999.99.")})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("An amount has at most two decimals, e.g. 120.50.")})
    balance = invoice.amount_residual
    if amount > balance:
        if invoice.is_credit_note:
            text = _("{invoice} has {balance} left to settle: a refund of {amount} would overpay it.")
        else:
            text = _("{invoice} has {balance} left to settle: a payment of {amount} would overpay it.")
        raise ValidationError({"amount": text.format(invoice=invoice, balance=format_money(balance, invoice.currency),
                                                     amount=format_money(amount, invoice.currency))})
    return amount


def _check_date(date: datetime.date) -> None:
    if date > timezone.localdate():
        raise ValidationError({"date": _("{date} is in the future: register a payment when it is received.")
                               .format(date=day(date))})


@transaction.atomic
def payment_register(*, invoice: Invoice, amount, date: datetime.date | None = None,
                     method: str = Payment.Method.BANK_TRANSFER, reference: str = "", actor=None) -> Payment:
    """Register money received for a posted invoice, or refunded on a posted credit note."""
    invoice = _lock_account(invoice)
    date = date or timezone.localdate()
    _check_date(date)
    if method not in Payment.Method.values:
        raise ValidationError({"method": _("{method} is not a payment method: one of {methods}.").format(
            method=method, methods=", ".join(Payment.Method.values))})
    amount = _check_amount(invoice, amount)
    payment = Payment.objects.create(invoice=invoice, date=date, amount=amount, method=method,
                                     reference=reference.strip()[:100], created_by=actor)
    balances_refresh(invoice=invoice)
    invoice.refresh_from_db()
    audit_record(action=AuditEvent.Action.PAYMENT_REGISTERED, obj=invoice, actor=actor, changes={
        "payment": payment.pk, "date": date, "amount": amount, "method": method, "reference": payment.reference,
        "amount_residual": invoice.amount_residual, "payment_state": invoice.payment_state})
    return payment


def _check_refunds_covered(invoice: Invoice) -> None:
    """Refuse a reversal that would leave a credit note refunded beyond what the customer paid: the
    refund was made from that payment (the reversal row is rolled back with the refusal)."""
    origin = Invoice.objects.get(pk=invoice.refers_id or invoice.pk)
    over = [pk for pk, values in account_figures(origin).items() if values["amount_residual"] < 0]
    if over:
        notes = ", ".join(Invoice.objects.filter(pk__in=over).order_by("pk").values_list("number", flat=True))
        raise Conflict(_("{notes} refunded money this payment brought in: reverse the refund first.")
                       .format(notes=notes))


@transaction.atomic
def payment_reverse(*, payment: Payment, reason: str = "", actor=None) -> Payment:
    """Cancel a payment registered by mistake (or returned by the bank): a row of the opposite amount."""
    invoice = _lock_account(payment.invoice)
    if payment.reverses_id:
        raise Conflict(_("This row reverses a payment: register the payment again instead."))
    if Payment.objects.filter(reverses=payment).exists():
        raise Conflict(_("This payment of {amount} is already reversed.").format(
            amount=format_money(payment.amount, invoice.currency)))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the payment is reversed (e.g. returned by the bank).")})
    reversal = Payment.objects.create(invoice=invoice, date=timezone.localdate(), amount=-payment.amount,
                                      method=payment.method, reference=reason[:100], reverses=payment,
                                      created_by=actor)
    _check_refunds_covered(invoice)
    balances_refresh(invoice=invoice)
    invoice.refresh_from_db()
    audit_record(action=AuditEvent.Action.PAYMENT_REVERSED, obj=invoice, actor=actor, changes={
        "payment": payment.pk, "reversal": reversal.pk, "amount": -payment.amount, "reason": reason,
        "amount_residual": invoice.amount_residual, "payment_state": invoice.payment_state})
    return reversal


@transaction.atomic
def invoice_due_date_set(*, invoice: Invoice, due_date: datetime.date | None, actor=None) -> Invoice:
    """Override the due date of a draft invoice (None: from the payment terms at posting)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.state != Invoice.State.DRAFT or invoice.is_credit_note:
        raise Conflict(_("{invoice} is not a draft invoice: its due date was set when it was posted.")
                       .format(invoice=invoice))
    if due_date is not None and due_date < timezone.localdate():
        raise ValidationError({"due_date": _("{date} is in the past: an invoice posted today is due today at the "
                                             "earliest.").format(date=day(due_date))})
    before = invoice.due_date
    invoice.due_date = due_date
    invoice.save(update_fields=["due_date"])
    if before != due_date:
        audit_record(action=AuditEvent.Action.INVOICE_DUE_DATE_SET, obj=invoice, actor=actor,
                     changes={"due_date": [before, due_date]})
    return invoice


def overdue_invoices(today: datetime.date | None = None):
    """Posted invoices past their due date with something left to pay, the oldest due first."""
    today = today or timezone.localdate()
    return (Invoice.objects.filter(kind=Invoice.Kind.INVOICE, state=Invoice.State.POSTED,
                                   payment_state__in=[PaymentState.NOT_PAID, PaymentState.PARTIAL],
                                   due_date__lt=today)
            .select_related("customer").order_by("due_date", "pk"))


def _accounts_to_check():
    """The invoices whose account may hold something to recompute: those with a payment or a posted note,
    the notes' invoices, and any whose stored figures are not what an untouched posted invoice stores (nothing
    paid, the total owed). One scan in SQL: most invoices are untouched, and are not read into Python."""
    untouched = Case(When(amount_total=0, then=Value(PaymentState.PAID)), default=Value(PaymentState.NOT_PAID))
    notes = Invoice.objects.filter(refers=OuterRef("pk"), state=Invoice.State.POSTED)
    suspects = (Invoice.objects.filter(state=Invoice.State.POSTED).annotate(untouched=untouched)
                .filter(Q(refers__isnull=False) | Exists(Payment.objects.filter(invoice=OuterRef("pk")))
                        | Exists(notes) | ~Q(amount_paid=0) | ~Q(amount_residual=F("amount_total"))
                        | ~Q(payment_state=F("untouched"))))
    return suspects.annotate(account=Coalesce("refers", "pk")).values("account")  # a subquery, not a list


def balance_drifts() -> list[tuple[str, str, object, object]]:
    """Every posted document whose stored paid, balance or state differs from its account's rows, as
    (document, field, stored, actual)."""
    accounts = _accounts_to_check()
    posted = list(Invoice.objects.filter(Q(pk__in=accounts) | Q(refers__in=accounts), state=Invoice.State.POSTED)
                  .order_by("pk").values_list("pk", "number", "refers_id", "amount_total", "amount_paid",
                                              "amount_residual", "payment_state"))
    paid = {pk: Decimal(value).quantize(Decimal("0.01")) for pk, value in
            Payment.objects.values("invoice").annotate(s=Sum("amount")).values_list("invoice", "s").order_by()}
    notes = {}
    for pk, _number, refers, total, *_rest in posted:
        if refers:
            notes.setdefault(refers, []).append((pk, total))
    actual = {}
    for pk, _number, refers, total, *_rest in posted:
        if refers:
            continue
        mine = notes.get(pk, [])
        residual, owed = figures(total, paid.get(pk, ZERO), [(t, paid.get(n, ZERO)) for n, t in mine])
        credited = sum((t for _pk, t in mine), ZERO)
        actual[pk] = (paid.get(pk, ZERO), residual, _state(total, residual, paid.get(pk, ZERO), credited, note=False))
        for (note, note_total), left in zip(mine, owed, strict=True):
            actual[note] = (paid.get(note, ZERO), left, _state(note_total, left, paid.get(note, ZERO), ZERO, note=True))
    drifts = []
    for pk, number, _refers, _total, *stored in posted:
        for field, was, now in zip(("amount_paid", "amount_residual", "payment_state"), stored, actual[pk],
                                   strict=True):
            if was != now:
                drifts.append((number, field, was, now))
    return drifts
