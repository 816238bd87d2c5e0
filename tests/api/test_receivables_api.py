"""The receivable in the API (issue 14): the company, customers' billing details, currencies, due dates,
payments and their reversal, refunds on credit notes, reminders, the Overdue filter; figures to the cent.

One invoice throughout: 4:30 at 90.00 an hour, VAT 21%: 405.00 + 85.05 = 490.05.
"""

import datetime
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command

from audit.models import AuditEvent
from core.roles import sync_groups
from invoicing.models import Invoice, Payment, Reminder
from invoicing.reminders import reminders_send
from invoicing.services import invoice_create_from_order, invoice_post
from sales.models import Company
from timesheets.services import timesheet_log

from ..conftest import requires_postgres
from ..factories import TaxFactory, TicketFactory, UserFactory, confirmed_line, days_ago
from ..threads import run_together
from .conftest import API, client_for

pytestmark = pytest.mark.django_db


def billed_order(agent, minutes=270, price="90.00"):
    """A confirmed order with `minutes` logged at `price` an hour, VAT 21%, its customer billed at 30 days."""
    line = confirmed_line(price_unit=Decimal(price), quantity=0, tax=TaxFactory())
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    timesheet_log(user=agent, ticket=ticket, date=days_ago(2), minutes=minutes)
    return line.order


@pytest.fixture
def posted(agent):
    """A posted invoice of 490.05."""
    invoice = invoice_post(invoice=invoice_create_from_order(order=billed_order(agent)))
    invoice.refresh_from_db()
    assert invoice.amount_total == Decimal("490.05")
    return invoice


def pay(client, invoice, amount, **fields):
    return client.post(f"{API}/invoices/{invoice.pk}/payments/", {"amount": amount, **fields}, format="json")


def balance(response) -> tuple:
    invoice = response.json()["invoice"]
    return invoice["amount_paid"], invoice["amount_residual"], invoice["payment_state"]


# --- Payments -------------------------------------------------------------------------------------

def test_paid_in_two_then_a_payment_reversed(accountant_api, manager_api, posted):
    today = datetime.date.today().isoformat()
    first = pay(accountant_api, posted, "200.00", method="transfer", reference="+++126/0000/00171+++")
    assert first.status_code == 201
    assert balance(first) == ("200.00", "290.05", "partial")
    payment = first.json()["payment"]
    assert {key: payment[key] for key in ("invoice", "date", "amount", "method", "reference", "reverses",
                                          "reversed")} == {
        "invoice": posted.pk, "date": today, "amount": "200.00", "method": "transfer",
        "reference": "+++126/0000/00171+++", "reverses": None, "reversed": False}

    second = pay(accountant_api, posted, 290.05, method="card")  # a JSON number is read as written
    assert (second.status_code, balance(second)) == (201, ("490.05", "0.00", "paid"))

    # The manager sees the payments and cannot reverse them; the accountant does, with a reason.
    address = f"{API}/invoices/{posted.pk}/payments/{payment['id']}/reverse/"
    assert manager_api.post(address, {"reason": "Returned"}, format="json").status_code == 403
    assert accountant_api.post(address, {"reason": " "}, format="json").json() == {
        "reason": ["Say why the payment is reversed (e.g. returned by the bank)."]}
    reversed_ = accountant_api.post(address, {"reason": "Returned by the bank"}, format="json")
    assert reversed_.status_code == 201
    assert balance(reversed_) == ("290.05", "200.00", "partial")
    assert (reversed_.json()["payment"]["amount"], reversed_.json()["payment"]["reverses"]) == (
        "-200.00", payment["id"])
    again = accountant_api.post(address, {"reason": "Twice"}, format="json")
    assert (again.status_code, again.json()) == (409, {"detail": "This payment of €200.00 is already reversed."})

    rows = manager_api.get(f"{API}/invoices/{posted.pk}/payments/").json()
    assert [(row["amount"], row["reversed"]) for row in rows] == [
        ("200.00", True), ("290.05", False), ("-200.00", False)]
    invoice = manager_api.get(f"{API}/invoices/{posted.pk}/").json()
    assert {key: invoice[key] for key in ("currency", "amount_total", "amount_paid", "amount_residual",
                                          "payment_state", "is_overdue")} == {
        "currency": "EUR", "amount_total": "490.05", "amount_paid": "290.05", "amount_residual": "200.00",
        "payment_state": "partial", "is_overdue": False}
    assert [event.action for event in AuditEvent.objects.filter(object_id=posted.pk, object_type="invoicing.invoice")
            .order_by("pk")][-3:] == ["payment.registered", "payment.registered", "payment.reversed"]


@pytest.mark.parametrize("fields, errors", [
    ({"amount": "490.06"}, {"amount": ["{number} has €490.05 left to settle: a payment of €490.06 would overpay it."]}),
    ({"amount": "0"}, {"amount": ["The amount must be more than 0, e.g. 120.50."]}),
    ({"amount": "-10.00"}, {"amount": ["The amount must be more than 0, e.g. 120.50."]}),
    ({"amount": "ten"}, {"amount": ["ten is not an amount: e.g. 120.50."]}),
    ({"amount": "10.005"}, {"amount": ["An amount has at most two decimals, e.g. 120.50."]}),
    ({"amount": "10.00", "date": "{tomorrow}"},
     {"date": ["{tomorrow} is in the future: register a payment when it is received."]}),
    ({"amount": "10.00", "method": "bitcoin"}, {"method": ['"bitcoin" is not a valid choice.']}),
    ({}, {"amount": ["This field is required."]}),
])
def test_a_refused_payment_names_its_field_and_registers_nothing(accountant_api, posted, fields, errors):
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    fields = {key: value.format(tomorrow=tomorrow) for key, value in fields.items()}
    response = accountant_api.post(f"{API}/invoices/{posted.pk}/payments/", fields, format="json")

    assert response.status_code == 400
    assert response.json() == {key: [m.format(number=posted.number, tomorrow=tomorrow) for m in messages]
                               for key, messages in errors.items()}
    assert not Payment.objects.exists()


def test_a_draft_is_not_paid_and_only_accountants_register(agent, accountant_api, manager_api, agent_api, posted):
    draft = invoice_create_from_order(order=billed_order(agent))
    response = pay(accountant_api, draft, "10.00")
    assert (response.status_code, response.json()) == (
        409, {"detail": f"{draft} is not posted: only posted invoices and credit notes are paid."})
    assert pay(manager_api, posted, "10.00").status_code == 403
    assert pay(agent_api, posted, "10.00").status_code == 403
    assert agent_api.get(f"{API}/invoices/{posted.pk}/payments/").status_code == 403
    assert manager_api.get(f"{API}/invoices/{posted.pk}/payments/").json() == []
    missing = accountant_api.post(f"{API}/invoices/{posted.pk}/payments/999999/reverse/", {"reason": "x"},
                                  format="json")
    assert missing.status_code == 404


def test_a_credit_note_after_full_payment_is_refunded(accountant_api, posted):
    assert balance(pay(accountant_api, posted, "490.05")) == ("490.05", "0.00", "paid")
    note = accountant_api.post(f"{API}/invoices/{posted.pk}/credit-note/", {}, format="json").json()
    note = accountant_api.post(f"{API}/invoices/{note['id']}/post/").json()

    # Paid in full, then credited in full: the customer is owed the note's total, refunded on the note.
    assert (note["amount_total"], note["amount_residual"], note["payment_state"]) == ("490.05", "490.05", "not_paid")
    invoice = accountant_api.get(f"{API}/invoices/{posted.pk}/").json()
    assert (invoice["amount_residual"], invoice["payment_state"]) == ("0.00", "paid")
    refund = accountant_api.post(f"{API}/invoices/{note['id']}/payments/", {"amount": "490.05"}, format="json")
    assert refund.status_code == 201
    assert balance(refund) == ("490.05", "0.00", "paid")
    over = accountant_api.post(f"{API}/invoices/{note['id']}/payments/", {"amount": "0.01"}, format="json")
    assert over.json() == {"amount": [
        f"{note['number']} has €0.00 left to settle: a refund of €0.01 would overpay it."]}


# --- Due dates, the Overdue filter, reminders --------------------------------------------------------

def test_the_accountant_sets_a_drafts_due_date(agent, accountant_api, manager_api, posted):
    draft = invoice_create_from_order(order=billed_order(agent))
    address = f"{API}/invoices/{draft.pk}/due-date/"
    due = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()

    assert manager_api.post(address, {"due_date": due}, format="json").status_code == 403
    response = accountant_api.post(address, {"due_date": due}, format="json")
    assert (response.status_code, response.json()["due_date"]) == (200, due)
    past = accountant_api.post(address, {"due_date": days_ago(1).isoformat()}, format="json")
    assert past.json() == {"due_date": [
        f"{days_ago(1)} is in the past: an invoice posted today is due today at the earliest."]}
    assert accountant_api.post(address, {"due_date": None}, format="json").json()["due_date"] is None
    assert accountant_api.post(address, {}, format="json").json() == {"due_date": ["This field is required."]}
    response = accountant_api.post(f"{API}/invoices/{posted.pk}/due-date/", {"due_date": due}, format="json")
    assert response.status_code == 409
    invoice = accountant_api.post(f"{API}/invoices/{draft.pk}/post/").json()
    assert invoice["due_date"] == (datetime.date.today() + datetime.timedelta(days=30)).isoformat()


def test_the_overdue_and_payment_state_filters_and_the_reminders(agent, accountant_api, posted):
    late = invoice_post(invoice=invoice_create_from_order(order=billed_order(agent, minutes=60)))
    Invoice.objects.filter(pk=late.pk).update(invoice_date=days_ago(40), due_date=days_ago(10))
    pay(accountant_api, posted, "90.05")
    assert reminders_send() == 1
    assert len(mail.outbox) == 1

    def ids(query):
        return [row["id"] for row in accountant_api.get(f"{API}/invoices/?{query}").json()["results"]]

    assert ids("overdue=true") == [late.pk]
    assert ids("overdue=false") == [posted.pk]
    assert ids("payment_state=partial") == [posted.pk]
    assert ids("payment_state=not_paid") == [late.pk]
    assert accountant_api.get(f"{API}/invoices/?payment_state=late").status_code == 400
    invoice = accountant_api.get(f"{API}/invoices/{late.pk}/").json()
    assert invoice["is_overdue"] is True
    assert [(r["step_days"], r["to"], r["skipped"]) for r in invoice["reminders"]] == [
        (7, late.customer.email, "")]
    assert invoice["seller"]["vat_number"] == "BE0403019261"
    assert Reminder.objects.count() == 1


# --- The company, customers, currencies ------------------------------------------------------------

def test_managers_change_the_company_accountants_read_it_agents_do_not(manager_api, accountant_api, agent_api):
    assert agent_api.get(f"{API}/company/").status_code == 403
    assert accountant_api.get(f"{API}/company/").json()["currency"] == "EUR"
    assert accountant_api.patch(f"{API}/company/", {"iban": "BE68539007547034"}, format="json").status_code == 403

    response = manager_api.patch(f"{API}/company/", {"iban": "BE68 5390 0754 7034", "bic": "GEBABEBB",
                                                     "vat_number": "BE 0403.019.261", "reminder_days": "7, 21"},
                                 format="json")
    assert response.status_code == 200
    assert {key: response.json()[key] for key in ("iban", "bic", "vat_number", "country")} == {
        "iban": "BE68539007547034", "bic": "GEBABEBB", "vat_number": "BE0403019261", "country": "BE"}
    event = AuditEvent.objects.get(action=AuditEvent.Action.COMPANY_CHANGED)
    assert event.changes["iban"] == ["", "BE68539007547034"]

    response = manager_api.patch(f"{API}/company/", {"currency": "XXY"}, format="json")
    assert response.json() == {"currency": ['"XXY" is not a valid choice.']}
    response = manager_api.patch(f"{API}/company/", {"iban": "BE68 5390 0754 7035", "vat_number": "BE0123456789",
                                                     "bic": "GEBA"}, format="json")
    assert response.status_code == 400
    assert sorted(response.json()) == ["bic", "iban", "vat_number"]
    assert response.json()["iban"][0].startswith("BE68 5390 0754 7035 is not a valid IBAN (")
    assert Company.current().iban == "BE68539007547034"  # nothing changed
    response = manager_api.patch(f"{API}/company/", {"reminder_days": "seven"}, format="json")
    assert response.json() == {"reminder_days": ["seven is not a list of days: write them with commas, e.g. 7, 21."]}


def test_customers_billing_details_are_validated(manager_api):
    response = manager_api.post(f"{API}/customers/", {
        "name": "Société Générale", "country": "FR", "vat_number": "FR 40 303 265 045",
        "billing_email": "factures@example.fr", "payment_terms_days": 15}, format="json")
    assert response.status_code == 201
    assert {key: response.json()[key] for key in ("country", "vat_number", "billing_email",
                                                  "payment_terms_days")} == {
        "country": "FR", "vat_number": "FR40303265045", "billing_email": "factures@example.fr",
        "payment_terms_days": 15}
    customer = response.json()["id"]
    response = manager_api.patch(f"{API}/customers/{customer}/", {"vat_number": "BE0123456789"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["vat_number"]
    assert response.json()["vat_number"][0].startswith("BE0123456789 is not a valid VAT number")
    response = manager_api.patch(f"{API}/customers/{customer}/", {"payment_terms_days": 366}, format="json")
    assert response.json() == {"payment_terms_days": ["Ensure this value is less than or equal to 365."]}
    assert manager_api.patch(f"{API}/customers/{customer}/", {"country": "XX"}, format="json").status_code == 400


def test_orders_and_invoices_carry_the_companys_currency(agent, accountant_api):
    order = billed_order(agent, minutes=60)
    assert accountant_api.get(f"{API}/sale-orders/{order.pk}/").json()["currency"] == "EUR"
    company = Company.current()
    company.currency = "CHF"
    company.save()
    assert accountant_api.get(f"{API}/sale-orders/").json()["results"][0]["currency"] == "CHF"
    invoice = accountant_api.post(f"{API}/sale-orders/{order.pk}/create-invoice/", {}, format="json").json()
    assert (invoice["currency"], invoice["amount_total"], invoice["seller"]) == ("CHF", "108.90", {})


# --- Races --------------------------------------------------------------------------------------------

@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_payments_at_once_never_overpay():
    """Two accountants register 300.00 each on 490.05 at the same instant: the invoice's row lock queues
    them; the second sees 190.05 left and is refused on its amount. Never a negative balance."""
    sync_groups()  # a transactional test starts from empty tables, the migrations' groups gone
    agent = UserFactory(username="agent", role="Agents")
    accountants = [client_for(UserFactory(username=f"accountant{n}", role="Accountants")) for n in range(2)]
    for _ in range(4):
        invoice = invoice_post(invoice=invoice_create_from_order(order=billed_order(agent)))
        results = run_together(*(lambda client=client: pay(client, invoice, "300.00") for client in accountants))

        assert sorted(response.status_code for response in results) == [201, 400]
        refused = next(response for response in results if response.status_code == 400)
        assert refused.json() == {"amount": [
            f"{invoice.number} has €190.05 left to settle: a payment of €300.00 would overpay it."]}
        invoice.refresh_from_db()
        assert (invoice.amount_paid, invoice.amount_residual, invoice.payment_state) == (
            Decimal("300.00"), Decimal("190.05"), "partial")
    call_command("check_billing", stdout=io.StringIO())
