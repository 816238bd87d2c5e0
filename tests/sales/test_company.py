"""The company that issues invoices and the customers' billing details (issue 14): numbers checked
before they are stored, compacted, and every change audited."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from core.money import format_money, round_money
from sales.models import Company
from sales.services import company_save, customer_save

from ..factories import CustomerFactory


def test_the_company_is_one_row_made_with_the_defaults(db):
    company = Company.current()
    assert (company.pk, company.name, company.country.code, company.currency, company.payment_terms_days,
            company.reminder_steps) == (1, "Helpdesk Services SRL", "BE", "EUR", 30, [7, 21])
    assert Company.current() == company and Company.objects.count() == 1


def test_numbers_are_compacted_and_a_change_is_audited(manager):
    company = Company.current()
    company.vat_number, company.iban, company.bic = "be 0477.123.402", "be68 5390 0754 7034", "gebabebb"
    company.reminder_days = "21; 7"
    company_save(company=company, actor=manager)
    company.refresh_from_db()
    assert (company.vat_number, company.iban, company.bic, company.reminder_steps) == (
        "BE0477123402", "BE68539007547034", "GEBABEBB", [7, 21])
    event = AuditEvent.objects.get(action=AuditEvent.Action.COMPANY_CHANGED)
    assert event.changes == {"vat_number": ["BE0403019261", "BE0477123402"], "iban": ["", "BE68539007547034"],
                             "bic": ["", "GEBABEBB"], "reminder_days": ["7, 21", "21; 7"]}
    assert event.actor == manager


def test_bad_numbers_are_refused_each_on_its_field_and_nothing_changes(manager):
    company = Company.current()
    company.vat_number, company.iban, company.bic, company.currency = "BE0999999999", "BE68539007547035", "GEB", "EURO"
    company.reminder_days = "seven"
    with pytest.raises(ValidationError) as refused:
        company_save(company=company, actor=manager)
    assert refused.value.message_dict == {
        "vat_number": ["BE0999999999 is not a valid VAT number (the number's checksum or check digit is invalid): "
                       "e.g. BE0403019261."],
        "iban": ["BE68539007547035 is not a valid IBAN (invalid checksum digits): e.g. BE68 5390 0754 7034."],
        "bic": ["GEB is not a valid BIC (invalid length '3'): e.g. GEBABEBB."],
        "currency": ["Value 'EURO' is not a valid choice."],  # the ISO 4217 codes are its choices
        "reminder_days": ["seven is not a list of days: write them with commas, e.g. 7, 21."],
    }
    assert Company.objects.get().vat_number == "BE0403019261"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.COMPANY_CHANGED).exists()


def test_a_customer_vat_number_is_checked_for_its_country(manager):
    customer = CustomerFactory(vat_number="", country="CH")
    customer.vat_number = "CHE-116.281.710 MWST"
    customer.payment_terms_days = 45
    customer_save(customer=customer, actor=manager)
    customer.refresh_from_db()
    assert customer.vat_number == "CHE116281710MWST"
    customer.vat_number, customer.payment_terms_days = "FR00000000000", 400
    with pytest.raises(ValidationError) as refused:
        customer_save(customer=customer, actor=manager)
    assert set(refused.value.message_dict) == {"vat_number", "payment_terms_days"}
    event = AuditEvent.objects.get(action=AuditEvent.Action.CUSTOMER_BILLING_CHANGED)
    assert event.changes == {"vat_number": ["", "CHE116281710MWST"], "payment_terms_days": [None, 45]}


@pytest.mark.parametrize("value, currency, language, shown", [
    ("1089", "EUR", "en", "€1,089.00"),
    ("1089", "EUR", "fr", "1\u202f089,00\xa0€"),
    ("1234.5", "JPY", "en", "¥1,234"),  # shown as Babel writes yen; stored rounded: see round_money
    ("-12.5", "USD", "en-us", "-$12.50"),
    ("3.456", "BHD", "en", "BHD3.456"),
])
def test_money_is_written_for_the_language(value, currency, language, shown):
    assert format_money(value, currency, language) == shown


@pytest.mark.parametrize("value, currency, rounded", [
    ("2.345", "EUR", "2.35"), ("2.5", "JPY", "3.00"), ("1.0005", "BHD", "1.001"), ("-2.345", "EUR", "-2.35")])
def test_money_rounds_half_up_to_the_minor_unit(value, currency, rounded):
    from decimal import Decimal

    assert round_money(Decimal(value), currency) == Decimal(rounded)
