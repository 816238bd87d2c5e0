"""The receivable (issue 14): due dates, references, payments, refunds and balances, exact to the cent.

An invoice and its posted credit notes are one account; what each owes is recomputed from the rows
(invoicing.payments) and check_billing compares it after every test (tests/conftest.py)."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from core.errors import Conflict
from invoicing.models import Invoice, Payment, PaymentState
from invoicing.payments import invoice_due_date_set, overdue_invoices, payment_register, payment_reverse
from invoicing.selectors import billing_drift
from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from sales.models import Company
from timesheets.services import timesheet_log

from ..factories import TaxFactory, TicketFactory, confirmed_line, days_ago

D = Decimal
POSTED_ON = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=datetime.UTC)


def _posted(agent, *minutes, price=D("81.00"), tax=None, terms=None):
    """An invoice of `minutes` entries at `price` an hour, 21% tax: 4:30 at 81.00 = 364.50 + 76.55 = 441.05."""
    line = confirmed_line(price_unit=price, quantity=0, tax=tax if tax is not None else TaxFactory())
    line.order.customer.payment_terms_days = terms
    line.order.customer.save()
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    entries = [timesheet_log(user=agent, ticket=ticket, date=days_ago(3), minutes=m) for m in minutes]
    invoice = invoice_post(invoice=invoice_create_from_order(order=line.order))
    invoice.refresh_from_db()
    return invoice, entries


def _figures(invoice):
    invoice.refresh_from_db()
    return invoice.amount_paid, invoice.amount_residual, invoice.payment_state


def test_posting_sets_the_due_date_from_the_customer_terms_else_the_company(agent):
    with time_machine.travel(POSTED_ON, tick=False):
        invoice, _ = _posted(agent, 270, terms=15)
        other, _ = _posted(agent, 60)
    assert (invoice.invoice_date, invoice.due_date) == (datetime.date(2026, 11, 2), datetime.date(2026, 11, 17))
    assert other.due_date == datetime.date(2026, 12, 2)  # the company's 30 days
    assert invoice.payment_reference == "+++126/0000/00171+++"  # INV/2026/00001, Belgian OGM
    assert invoice.seller["name"] == "Helpdesk Services SRL" and invoice.seller["country"] == "BE"
    assert (invoice.amount_total, invoice.amount_residual, invoice.payment_state) == (
        D("441.05"), D("441.05"), PaymentState.NOT_PAID)


def test_a_company_outside_belgium_gives_an_iso_11649_reference(agent):
    company = Company.current()
    company.country = "FR"
    company.save()
    invoice, _ = _posted(agent, 60)
    assert invoice.payment_reference == "RF76 INV2 0260 0001"


def test_the_due_date_set_on_the_draft_wins_and_is_audited(agent, accountant):
    with time_machine.travel(POSTED_ON, tick=False):
        line = confirmed_line(price_unit=D("60.00"), quantity=0)
        ticket = TicketFactory(customer=line.order.customer, sale_line=line)
        timesheet_log(user=agent, ticket=ticket, date=days_ago(1), minutes=60)
        draft = invoice_create_from_order(order=line.order)
        with pytest.raises(ValidationError) as refused:
            invoice_due_date_set(invoice=draft, due_date=datetime.date(2026, 11, 1), actor=accountant)
        assert refused.value.message_dict == {"due_date": [
            "2026-11-01 is in the past: an invoice posted today is due today at the earliest."]}
        invoice_due_date_set(invoice=draft, due_date=datetime.date(2026, 11, 9), actor=accountant)
        invoice = invoice_post(invoice=draft)
    assert invoice.due_date == datetime.date(2026, 11, 9)
    event = AuditEvent.objects.get(action=AuditEvent.Action.INVOICE_DUE_DATE_SET)
    assert event.changes == {"due_date": [None, "2026-11-09"]}
    with pytest.raises(Conflict):
        invoice_due_date_set(invoice=invoice, due_date=None, actor=accountant)


def test_partial_then_full_payment_then_a_reversal(agent, accountant):
    invoice, _ = _posted(agent, 270)
    first = payment_register(invoice=invoice, amount="200.00", reference="BANK 1", actor=accountant)
    assert _figures(invoice) == (D("200.00"), D("241.05"), PaymentState.PARTIAL)
    payment_register(invoice=invoice, amount=D("241.05"), actor=accountant)
    assert _figures(invoice) == (D("441.05"), D("0.00"), PaymentState.PAID)
    reversal = payment_reverse(payment=first, reason="Returned by the bank", actor=accountant)
    assert (reversal.amount, reversal.reverses, reversal.reference) == (D("-200.00"), first, "Returned by the bank")
    assert _figures(invoice) == (D("241.05"), D("200.00"), PaymentState.PARTIAL)
    with pytest.raises(Conflict, match="already reversed"):
        payment_reverse(payment=first, reason="again", actor=accountant)
    with pytest.raises(Conflict, match="reverses a payment"):
        payment_reverse(payment=reversal, reason="undo", actor=accountant)
    events = AuditEvent.objects.filter(object_id=invoice.pk, action__startswith="payment.").order_by("pk")
    assert [(e.action, D(str(e.changes["amount"])), D(str(e.changes["amount_residual"]))) for e in events] == [
        ("payment.registered", D("200.00"), D("241.05")), ("payment.registered", D("241.05"), D("0.00")),
        ("payment.reversed", D("-200.00"), D("200.00"))]


@pytest.mark.parametrize("amount, field, message", [
    ("441.06", "amount", "INV/2026/00001 has €441.05 left to settle: a payment of €441.06 would overpay it."),
    ("0", "amount", "The amount must be more than 0, e.g. 120.50."),
    ("-5", "amount", "The amount must be more than 0, e.g. 120.50."),
    ("NaN", "amount", "The amount must be more than 0, e.g. 120.50."),
    ("1e999", "amount", "The amount is too large: at most 999999999999.99."),
    ("12.345", "amount", "An amount has at most two decimals, e.g. 120.50."),
    ("ten", "amount", "ten is not an amount: e.g. 120.50."),
])
def test_bad_amounts_are_refused_and_change_nothing(agent, accountant, amount, field, message):
    invoice, _ = _posted(agent, 270)
    with pytest.raises(ValidationError) as refused:
        payment_register(invoice=invoice, amount=amount, actor=accountant)
    assert refused.value.message_dict == {field: [message]}
    assert not Payment.objects.exists()
    assert _figures(invoice) == (D("0.00"), D("441.05"), PaymentState.NOT_PAID)


def test_a_future_date_a_bad_method_and_a_draft_are_refused(agent, accountant):
    invoice, _ = _posted(agent, 60)
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        payment_register(invoice=invoice, amount="10", date=tomorrow, actor=accountant)
    assert "is in the future" in refused.value.message_dict["date"][0]
    with pytest.raises(ValidationError) as refused:
        payment_register(invoice=invoice, amount="10", method="bitcoin", actor=accountant)
    assert refused.value.message_dict["method"] == [
        "bitcoin is not a payment method: one of transfer, debit, card, cash, other."]
    line = confirmed_line(price_unit=D("60.00"), quantity=0)
    timesheet_log(user=agent, ticket=TicketFactory(customer=line.order.customer, sale_line=line),
                  date=days_ago(1), minutes=60)
    draft = invoice_create_from_order(order=line.order)
    with pytest.raises(Conflict, match="is not posted"):
        payment_register(invoice=draft, amount="10", actor=accountant)
    with pytest.raises(ValidationError) as refused:
        payment_reverse(payment=payment_register(invoice=invoice, amount="10", actor=accountant), reason=" ")
    assert refused.value.message_dict == {"reason": ["Say why the payment is reversed (e.g. returned by the bank)."]}


def test_a_credit_note_before_payment_lowers_what_is_owed(agent, accountant):
    invoice, entries = _posted(agent, 180, 90)  # 4:30 → 441.05
    note = invoice_post(invoice=invoice_credit_note(invoice=invoice, entry_ids=[entries[1].pk]))
    note.refresh_from_db()
    # 1:30 at 81.00 = 121.50 + 25.52 tax = 147.02 given back.
    assert note.amount_total == D("147.02")
    assert _figures(invoice) == (D("0.00"), D("294.03"), PaymentState.NOT_PAID)
    assert _figures(note) == (D("0.00"), D("0.00"), PaymentState.PAID)  # applied to the invoice
    payment_register(invoice=invoice, amount="294.03", actor=accountant)
    assert _figures(invoice) == (D("294.03"), D("0.00"), PaymentState.PAID)
    assert note.due_date == note.invoice_date


def test_a_credit_note_after_full_payment_is_owed_to_the_customer_and_refunded(agent, accountant):
    invoice, _ = _posted(agent, 270)
    payment_register(invoice=invoice, amount="441.05", actor=accountant)
    note = invoice_post(invoice=invoice_credit_note(invoice=invoice))
    assert _figures(invoice) == (D("441.05"), D("0.00"), PaymentState.PAID)
    assert _figures(note) == (D("0.00"), D("441.05"), PaymentState.NOT_PAID)
    with pytest.raises(ValidationError, match="a refund of €500.00 would overpay it"):
        payment_register(invoice=note, amount="500", actor=accountant)
    payment_register(invoice=note, amount="400", method=Payment.Method.BANK_TRANSFER, actor=accountant)
    assert _figures(note) == (D("400.00"), D("41.05"), PaymentState.PARTIAL)
    payment_register(invoice=note, amount="41.05", actor=accountant)
    assert _figures(note) == (D("441.05"), D("0.00"), PaymentState.PAID)


def test_a_payment_whose_money_was_refunded_cannot_be_reversed_before_the_refund(agent, accountant):
    """Found by the service fuzz: paid, credited, refunded, then the payment reversed would owe the
    customer less than nothing on the note."""
    invoice, _ = _posted(agent, 270)
    payment = payment_register(invoice=invoice, amount="441.05", actor=accountant)
    note = invoice_post(invoice=invoice_credit_note(invoice=invoice))
    refund = payment_register(invoice=note, amount="441.05", actor=accountant)
    with pytest.raises(Conflict) as refused:
        payment_reverse(payment=payment, reason="Returned by the bank", actor=accountant)
    assert refused.value.messages == [
        f"{note.number} refunded money this payment brought in: reverse the refund first."]
    assert Payment.objects.count() == 2
    payment_reverse(payment=refund, reason="Refund sent to the wrong account", actor=accountant)
    payment_reverse(payment=payment, reason="Returned by the bank", actor=accountant)
    assert _figures(invoice) == (D("0.00"), D("0.00"), PaymentState.REVERSED)
    assert _figures(note) == (D("0.00"), D("0.00"), PaymentState.PAID)


def test_an_unpaid_invoice_credited_in_full_is_reversed(agent):
    invoice, _ = _posted(agent, 270)
    invoice_post(invoice=invoice_credit_note(invoice=invoice))
    assert _figures(invoice) == (D("0.00"), D("0.00"), PaymentState.REVERSED)
    assert not invoice.is_overdue


def test_overdue_lists_posted_invoices_past_due_with_a_balance(agent, accountant):
    with time_machine.travel(POSTED_ON, tick=False):
        late, _ = _posted(agent, 60, terms=10)
        paid, _ = _posted(agent, 60, terms=10)
        payment_register(invoice=paid, amount=paid.amount_total, actor=accountant)
        _posted(agent, 60)  # due on 2026-12-02
    today = datetime.date(2026, 11, 20)
    assert [i.number for i in overdue_invoices(today)] == [late.number]
    assert [i.number for i in overdue_invoices(datetime.date(2026, 11, 12))] == []


def test_the_check_sees_a_balance_that_drifted(agent, accountant, request):
    invoice, _ = _posted(agent, 270)
    payment_register(invoice=invoice, amount="100", actor=accountant)
    Invoice.objects.filter(pk=invoice.pk).update(amount_residual=D("441.05"))
    drifts = [(d.label, d.field, d.stored, d.actual) for d in billing_drift()]
    assert drifts == [(invoice.number, "amount_residual", D("441.05"), D("341.05"))]
    Invoice.objects.filter(pk=invoice.pk).update(amount_residual=D("341.05"))
    assert billing_drift() == []
    # An invoice nobody paid or credited is checked too (the check reads only those that may differ).
    untouched, _ = _posted(agent, 60)
    Invoice.objects.filter(pk=untouched.pk).update(payment_state=PaymentState.PAID)
    assert [(d.label, d.field, d.stored, d.actual) for d in billing_drift()] == [
        (untouched.number, "payment_state", "paid", "not_paid")]
    Invoice.objects.filter(pk=untouched.pk).update(payment_state=PaymentState.NOT_PAID)


@pytest.mark.parametrize("currency, price, minutes, untaxed, tax, total", [
    # 0.33 h × 81.00 = 26.73, tax 5.6133 → 5.61; 0.83 h × 99.99 = 82.9917 → 82.99, tax 17.4279 → 17.43.
    ("EUR", D("81.00"), 20, D("26.73"), D("5.61"), D("32.34")),
    ("USD", D("99.99"), 50, D("82.99"), D("17.43"), D("100.42")),
    # Yen have no minor unit: every amount is whole (0.83 h × 12,345 = 10,246.35 → 10,246; tax 2,151.66 → 2,152).
    ("JPY", D("12345.00"), 50, D("10246.00"), D("2152.00"), D("12398.00")),
])
def test_amounts_are_rounded_to_the_currency_minor_unit(agent, accountant, currency, price, minutes, untaxed,
                                                        tax, total):
    company = Company.current()
    company.currency = currency
    company.save()
    invoice, _ = _posted(agent, minutes, price=price)
    assert (invoice.currency, invoice.amount_untaxed, invoice.amount_tax, invoice.amount_total) == (
        currency, untaxed, tax, total)
    payment_register(invoice=invoice, amount=total, actor=accountant)
    assert _figures(invoice) == (total, D("0.00"), PaymentState.PAID)
