"""GET /api/v1/invoices/{id}/facturx/ and /ubl/ (issue 14): a posted invoice's e-invoices, for those who bill."""

import facturx
import pytest

from invoicing.einvoice import cii_xml, facturx_pdf, ubl_xml
from invoicing.models import Invoice

from ..factories import days_ago
from ..jobs import run_jobs
from .conftest import API, client_for, log

YEAR = days_ago(0).year


@pytest.fixture
def draft(agent_api, accountant_api, team_ticket, line_a):
    """A draft invoice billing 1:00 and 2:00 on line A."""
    for n, duration in enumerate(["1:00", "2:00"]):
        log(agent_api, team_ticket, duration, days=n)
    body = accountant_api.post(f"{API}/sale-orders/{line_a.order_id}/create-invoice/").json()
    return f"{API}/invoices/{body['id']}"


@pytest.fixture
def posted(accountant_api, draft):
    """The draft, posted, its PDF stored by its job."""
    accountant_api.post(f"{draft}/post/")
    run_jobs()
    return draft


@pytest.mark.parametrize("role", ["accountant", "manager"])
def test_those_who_bill_download_both(request, role, posted):
    api = client_for(request.getfixturevalue(role))
    invoice = Invoice.objects.get()

    response = api.get(f"{posted}/facturx/")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert response["Content-Disposition"] == f'attachment; filename="INV-{YEAR}-00001-facturx.pdf"'
    assert response.content == facturx_pdf(invoice)
    assert facturx.get_xml_from_pdf(response.content, check_xsd=True) == ("factur-x.xml", cii_xml(invoice))

    response = api.get(f"{posted}/ubl/", HTTP_ACCEPT="application/xml")
    assert (response.status_code, response["Content-Type"]) == (200, "application/xml")
    assert response["Content-Disposition"] == f'attachment; filename="INV-{YEAR}-00001-ubl.xml"'
    assert response.content == ubl_xml(invoice)


def test_a_credit_notes_ubl_is_a_credit_note(accountant_api, posted):
    note = accountant_api.post(f"{posted}/credit-note/").json()["id"]
    accountant_api.post(f"{API}/invoices/{note}/post/")
    response = accountant_api.get(f"{API}/invoices/{note}/ubl/")
    assert response.status_code == 200
    assert b"<CreditNote " in response.content and b"<cbc:CreditNoteTypeCode>381<" in response.content


def test_agents_may_not_download_them(agent_api, posted):
    for kind, accept in (("facturx", "application/pdf"), ("ubl", "application/xml")):
        response = agent_api.get(f"{posted}/{kind}/", HTTP_ACCEPT=accept)
        assert response.status_code == 403
        assert response.json() == {"detail": "Only accountants and managers see and change invoices."}


def test_an_unknown_invoice_is_a_404(accountant_api, posted):
    for kind in ("facturx", "ubl"):
        response = accountant_api.get(f"{API}/invoices/999999/{kind}/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"


def test_a_draft_has_no_e_invoice(accountant_api, draft):
    invoice = Invoice.objects.get()
    for kind, accept in (("facturx", "application/pdf"), ("ubl", "application/xml")):
        response = accountant_api.get(f"{draft}/{kind}/", HTTP_ACCEPT=accept)
        assert (response.status_code, response["Content-Type"]) == (409, "application/json")
        assert response.json()["detail"] == f"{invoice} is a draft: e-invoices are made of posted invoices."


def test_facturx_waits_for_the_stored_pdf(accountant_api, draft):
    accountant_api.post(f"{draft}/post/")  # its PDF job not run yet
    response = accountant_api.get(f"{draft}/facturx/")
    assert (response.status_code, response["Retry-After"]) == (202, "3")
    assert accountant_api.get(f"{draft}/ubl/").status_code == 200  # the XML needs no PDF
