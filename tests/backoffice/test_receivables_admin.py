"""The admin of the receivable (issue 14): the company (one row: managers change it, accountants read it),
customers' billing details saved through their service, and an invoice's payments and reminders, read-only."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from invoicing.models import Invoice
from invoicing.payments import payment_register, payment_reverse
from invoicing.reminders import reminders_send
from invoicing.services import invoice_create_from_order, invoice_post
from sales.models import Company
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, days_ago
from .test_admin import form_data, page_errors

pytestmark = pytest.mark.django_db

COMPANY = reverse("admin:sales_company_change", args=[1])


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_company_list_opens_the_one_row_never_adds_nor_deletes(manager, accountant):
    for user in (manager, accountant):
        response = browser(user).get(reverse("admin:sales_company_changelist"))
        assert (response.status_code, response["Location"]) == (302, COMPANY)
    client = browser(manager)
    assert client.get(reverse("admin:sales_company_add")).status_code == 403
    assert client.get(reverse("admin:sales_company_delete", args=[1])).status_code == 403
    assert Company.objects.count() == 1


def test_managers_change_the_company_through_its_service_accountants_read_it(manager, accountant):
    client = browser(manager)
    data = form_data(client.get(COMPANY))
    data.update({"iban": "BE68 5390 0754 7034", "bic": "gebabebb", "reminder_days": "7, 21",
                 "invoice_footer": "Thank you for your business."})
    response = client.post(COMPANY, data)
    assert response.status_code == 302
    company = Company.current()
    assert (company.iban, company.bic, company.invoice_footer) == (
        "BE68539007547034", "GEBABEBB", "Thank you for your business.")
    assert AuditEvent.objects.get(action=AuditEvent.Action.COMPANY_CHANGED).actor == manager

    # A bad IBAN is an error on its field; nothing saved.
    data.update({"iban": "BE68 5390 0754 7035"})
    response = client.post(COMPANY, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["iban"][0].startswith("BE68 5390 0754 7035 is not a valid IBAN")
    assert Company.current().iban == "BE68539007547034"

    # The accountant reads it, cannot save it.
    reader = browser(accountant)
    page = reader.get(COMPANY)
    assert page.status_code == 200 and 'name="iban"' not in page.content.decode()
    assert reader.post(COMPANY, data).status_code == 403


def test_agents_even_staff_do_not_open_the_company(world):
    lead = browser(world.users["lead_a"])
    assert lead.get(reverse("admin:sales_company_changelist")).status_code == 403
    assert lead.get(COMPANY).status_code == 403


def test_a_customers_vat_number_is_checked_for_its_country(manager):
    customer = CustomerFactory(name="Dupont SARL", vat_number="")
    client = browser(manager)
    address = reverse("admin:sales_customer_change", args=[customer.pk])
    data = form_data(client.get(address))
    data.update({"country": "FR", "vat_number": "BE0123456789", "billing_email": "compta@dupont.example",
                 "payment_terms_days": "15"})
    response = client.post(address, data)
    assert response.status_code == 200
    assert page_errors(response)[0].startswith("BE0123456789 is not a valid VAT number")

    data["vat_number"] = "FR 40 303 265 045"
    assert client.post(address, data).status_code == 302
    customer.refresh_from_db()
    assert (customer.country.code, customer.vat_number, customer.billing_email, customer.payment_terms_days) == (
        "FR", "FR40303265045", "compta@dupont.example", 15)
    event = AuditEvent.objects.get(action=AuditEvent.Action.CUSTOMER_BILLING_CHANGED)
    assert event.changes["vat_number"] == ["", "FR40303265045"]


def test_an_invoices_page_shows_its_payments_and_reminders_read_only(manager, accountant, agent, ticket, line_a):
    timesheet_log(user=agent, date=days_ago(2), minutes=60, ticket=ticket)
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))  # 90.00
    Invoice.objects.filter(pk=invoice.pk).update(invoice_date=days_ago(40), due_date=days_ago(8))
    payment = payment_register(invoice=invoice, amount=Decimal("40.00"), method="card", reference="Card 4242",
                               actor=accountant)
    payment_reverse(payment=payment, reason="Chargeback", actor=accountant)
    payment_register(invoice=invoice, amount=Decimal("30.00"), actor=accountant)
    assert reminders_send() == 1

    address = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
    for user in (manager, accountant):
        response = browser(user).get(address)
        assert response.status_code == 200
        inlines = {inline.opts.model._meta.model_name: inline for inline in response.context["inline_admin_formsets"]}
        assert len(inlines["payment"].formset.forms) == 3
        assert len(inlines["reminder"].formset.forms) == 1
        page = response.content.decode()
        assert "Card 4242" in page and "Chargeback" in page and "-40.00" in page
        assert not inlines["payment"].has_add_permission and not inlines["payment"].has_change_permission
    listed = browser(accountant).get(reverse("admin:invoicing_invoice_changelist") + "?payment_state__exact=partial")
    assert list(listed.context["cl"].result_list) == [invoice]
