"""/api/v1/invoices/: list, detail, post, cancel, remove-timesheets, credit-note, pdf, send."""

import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from pypdf import PdfReader

from audit.models import AuditEvent
from invoicing.models import Invoice
from invoicing.selectors import invoice_entries
from timesheets.models import TimeEntry

from ..factories import days_ago
from ..jobs import queued, run_jobs
from .conftest import API, log

YEAR = days_ago(0).year


@pytest.fixture
def draft(agent_api, accountant_api, team_ticket, line_a):
    """A draft invoice billing three entries on line A: 1:00, 2:00 and 0:30."""
    ids = [log(agent_api, team_ticket, d, days=n).json()["id"] for n, d in enumerate(["1:00", "2:00", "0:30"])]
    body = accountant_api.post(f"{API}/sale-orders/{line_a.order_id}/create-invoice/").json()
    return {"id": body["id"], "entries": ids, "url": f"{API}/invoices/{body['id']}"}


@pytest.fixture
def posted(accountant_api, draft):
    accountant_api.post(f"{draft['url']}/post/")
    return draft


def test_list_and_detail(accountant_api, draft, line_a):
    invoice = Invoice.objects.get()
    expected = {
        "id": invoice.pk, "number": None, "kind": "invoice", "state": "draft", "customer": line_a.order.customer_id,
        "sale_order": line_a.order_id, "invoice_date": None, "refers": None,
        "lines": [{"id": invoice.lines.get().pk, "sale_line": line_a.pk, "name": "Service on Timesheet",
                   "quantity": "3.50", "uom": "hour", "price_unit": "90.00", "tax_rate": "0.00",
                   "amount_untaxed": "315.00", "amount_tax": "0.00", "minutes": 210, "worked_minutes": 210,
                   "entry_count": 3, "rounding_minutes": 0, "explanation": "3 entries, 3:30 worked → 3:30 billed",
                   "charges": [], "timesheets": sorted(draft["entries"])}],
        "amount_untaxed": "315.00", "amount_tax": "0.00", "amount_total": "315.00",
        "currency": "EUR", "due_date": None, "payment_reference": "", "payment_state": "", "amount_paid": "0.00",
        "amount_residual": "0.00", "is_overdue": False, "seller": {}, "reminders": [],
    }

    assert accountant_api.get(f"{draft['url']}/").json() == expected
    assert accountant_api.get(f"{API}/invoices/").json() == {
        "count": 1, "next": None, "previous": None, "results": [expected]}


def test_list_filters(accountant_api, posted, line_a):
    note_id = accountant_api.post(f"{posted['url']}/credit-note/").json()["id"]

    def ids(query):
        return [i["id"] for i in accountant_api.get(f"{API}/invoices/?{query}").json()["results"]]

    assert ids("kind=invoice") == [posted["id"]]
    assert ids("kind=credit_note") == [note_id]
    assert ids("state=posted") == [posted["id"]]
    assert ids(f"refers={posted['id']}") == [note_id]
    assert ids(f"sale_order={line_a.order_id}&ordering=id") == [posted["id"], note_id]
    assert ids(f"customer={line_a.order.customer_id}&ordering=-id") == [note_id, posted["id"]]


def test_agents_see_no_invoices(agent_api, draft):
    for response in (agent_api.get(f"{API}/invoices/"), agent_api.get(f"{draft['url']}/"),
                     agent_api.get(f"{draft['url']}/pdf/")):
        assert response.status_code == 403
        assert response.json() == {"detail": "Only accountants and managers see and change invoices."}


def test_an_agent_cannot_post_an_invoice(agent_api, draft):
    response = agent_api.post(f"{draft['url']}/post/")

    assert response.status_code == 403
    assert response.json() == {"detail": "Only accountants and managers see and change invoices."}
    assert Invoice.objects.get().state == "draft"


def test_post(accountant_api, draft):
    response = accountant_api.post(f"{draft['url']}/post/")

    assert response.status_code == 200
    body = response.json()
    assert (body["number"], body["state"], body["invoice_date"]) == (
        f"INV/{YEAR}/00001", "posted", days_ago(0).isoformat())


def test_posting_twice_is_a_conflict(accountant_api, posted):
    response = accountant_api.post(f"{posted['url']}/post/")

    assert response.status_code == 409
    assert response.json() == {"detail": f"INV/{YEAR}/00001 is posted and cannot be posted."}


def test_cancel_a_draft_frees_its_time(accountant_api, agent_api, draft, line_a):
    response = accountant_api.post(f"{draft['url']}/cancel/")

    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert response.json()["lines"][0]["timesheets"] == []
    line_a.refresh_from_db()
    assert line_a.to_invoice == line_a.delivered
    assert agent_api.patch(f"{API}/timesheets/{draft['entries'][0]}/", {"duration": "1:15"}).status_code == 200


def test_cancelling_a_posted_invoice_is_a_conflict(accountant_api, posted):
    response = accountant_api.post(f"{posted['url']}/cancel/")

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"INV/{YEAR}/00001 is posted and cannot be cancelled (use a credit note)."}


def test_remove_timesheets(accountant_api, draft, line_a):
    first, second, third = draft["entries"]

    response = accountant_api.post(f"{draft['url']}/remove-timesheets/", {"timesheets": [second]})

    assert response.status_code == 200
    [line] = response.json()["lines"]
    assert (line["quantity"], line["timesheets"], response.json()["amount_total"]) == (
        "1.50", sorted([first, third]), "135.00")
    line_a.refresh_from_db()
    assert line_a.to_invoice == Decimal("2.00")


@pytest.mark.parametrize("body, errors", [
    ({}, {"timesheets": ["This field is required."]}),
    ({"timesheets": "1"}, {"timesheets": ['Expected a list of items but got type "str".']}),
    ({"timesheets": [0]}, {"timesheets": {"0": ["Ensure this value is greater than or equal to 1."]}}),
    ({"timesheets": []}, None),
    ({"timesheets": [999999]}, None),
])
def test_remove_timesheets_refusals(accountant_api, draft, body, errors):
    response = accountant_api.post(f"{draft['url']}/remove-timesheets/", body)

    assert response.status_code == 400
    invoice = Invoice.objects.get()
    missing = ", ".join(str(i) for i in body.get("timesheets", [])) or "none given"
    assert response.json() == (errors or {"timesheets": [f"These timesheets are not on {invoice}: {missing}."]})


def test_remove_timesheets_of_a_posted_invoice_is_a_conflict(accountant_api, posted):
    response = accountant_api.post(f"{posted['url']}/remove-timesheets/", {"timesheets": posted["entries"][:1]})

    assert response.status_code == 409
    assert response.json() == {"detail": f"INV/{YEAR}/00001 is posted and cannot be changed."}


def test_full_credit_note(accountant_api, posted, line_a):
    response = accountant_api.post(f"{posted['url']}/credit-note/")

    assert response.status_code == 201
    note = Invoice.objects.get(kind="credit_note")
    [line] = response.json()["lines"]
    assert response.json() | {"lines": None} == {
        "id": note.pk, "number": None, "kind": "credit_note", "state": "draft", "customer": line_a.order.customer_id,
        "sale_order": line_a.order_id, "invoice_date": None, "refers": posted["id"], "lines": None,
        "amount_untaxed": "315.00", "amount_tax": "0.00", "amount_total": "315.00",
        "currency": "EUR", "due_date": None, "payment_reference": "", "payment_state": "", "amount_paid": "0.00",
        "amount_residual": "0.00", "is_overdue": False, "seller": {}, "reminders": [],
    }
    assert (line["quantity"], line["timesheets"]) == ("3.50", sorted(posted["entries"]))

    response = accountant_api.post(f"{API}/invoices/{note.pk}/post/")
    assert response.json()["number"] == f"RINV/{YEAR}/00001"
    line_a.refresh_from_db()
    assert line_a.invoiced == 0
    # The posted invoice keeps listing the entries it billed; the API agrees with the selector.
    invoice = accountant_api.get(f"{posted['url']}/").json()
    assert invoice["lines"][0]["timesheets"] == sorted(posted["entries"])
    assert [e.pk for e in invoice_entries(invoice=Invoice.objects.get(pk=posted["id"]))[invoice["lines"][0]["id"]]] \
        == sorted(posted["entries"], key=lambda pk: TimeEntry.objects.get(pk=pk).date)


def test_credit_note_for_named_timesheets(accountant_api, posted, line_a):
    first = posted["entries"][0]

    response = accountant_api.post(f"{posted['url']}/credit-note/", {"timesheets": [first]})

    assert response.status_code == 201
    [line] = response.json()["lines"]
    assert (line["quantity"], line["timesheets"], response.json()["amount_total"]) == ("1.00", [first], "90.00")
    accountant_api.post(f"{API}/invoices/{response.json()['id']}/post/")
    line_a.refresh_from_db()
    assert (line_a.invoiced, line_a.to_invoice) == (Decimal("2.50"), Decimal("1.00"))


def test_credit_note_refusals(accountant_api, draft):
    response = accountant_api.post(f"{draft['url']}/credit-note/")
    assert response.status_code == 409
    assert response.json() == {"detail": f"{Invoice.objects.get()} is draft and cannot be credited."}

    accountant_api.post(f"{draft['url']}/post/")
    response = accountant_api.post(f"{draft['url']}/credit-note/", {"timesheets": [999999]})
    assert response.status_code == 400
    assert response.json() == {"timesheets": [
        f"These timesheets are not billed by INV/{YEAR}/00001 or are already on a credit note: 999999."]}


def test_pdf_is_the_stored_file(accountant_api, posted):
    run_jobs()  # the posting's render job
    invoice = Invoice.objects.get()
    with default_storage.open(invoice.pdf.name, "rb") as file:
        stored = file.read()

    response = accountant_api.get(f"{posted['url']}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="INV-{YEAR}-00001.pdf"'
    assert b"".join(response.streaming_content) == stored
    text = PdfReader(io.BytesIO(stored)).pages[0].extract_text()
    assert f"INV/{YEAR}/00001" in text


def test_pdf_being_prepared_is_a_202_with_retry_after(accountant_api, posted):
    response = accountant_api.get(f"{posted['url']}/pdf/", HTTP_ACCEPT="application/pdf")

    assert (response.status_code, response["Retry-After"], response["Content-Type"]) == (
        202, "3", "application/json")
    assert response.json() == {"detail": "PDF being prepared: ask again in 3 seconds."}


def test_pdf_missing_from_storage_is_a_503_naming_the_command(accountant_api, posted):
    run_jobs()
    default_storage.delete(Invoice.objects.get().pdf.name)

    response = accountant_api.get(f"{posted['url']}/pdf/")

    assert response.status_code == 503
    assert response.json() == {"detail": f"The PDF of INV/{YEAR}/00001 is missing from storage: an administrator "
                                          "renders it again with `manage.py render_missing_pdfs`."}


def test_a_drafts_pdf_is_a_preview(accountant_api, draft):
    response = accountant_api.get(f"{draft['url']}/pdf/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="draft-{draft["id"]}.pdf"'
    assert "Draft" in PdfReader(io.BytesIO(response.content)).pages[0].extract_text()


def test_pdf_answers_errors_in_json(accountant_api, posted):
    response = accountant_api.get(f"{API}/invoices/999999/pdf/", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "No Invoice matches the given query."}

    run_jobs()
    response = accountant_api.get(f"{posted['url']}/pdf/", HTTP_ACCEPT="application/pdf")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")


# --- Send by email ---------------------------------------------------------------------------

def test_send_queues_the_sending(accountant_api, accountant, posted, line_a):
    response = accountant_api.post(f"{posted['url']}/send/")

    assert response.status_code == 202
    to = line_a.order.customer.email
    assert response.json() == {"detail": f"Queued: INV/{YEAR}/00001 will be sent to {to}.", "to": to}
    assert queued("invoicing.tasks.send_invoice") == [[posted["id"], accountant.pk]]
    assert mail.outbox == []

    run_jobs()
    [message] = mail.outbox
    assert message.to == [to]
    assert message.attachments[0].filename == f"INV-{YEAR}-00001.pdf"


def test_sending_twice_sends_twice(accountant_api, posted):
    for _ in range(2):
        assert accountant_api.post(f"{posted['url']}/send/").status_code == 202
    run_jobs()
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_SENT, object_id=posted["id"]).count() == 2


def test_send_refusals(accountant_api, agent_api, draft, line_a):
    response = accountant_api.post(f"{draft['url']}/send/")
    assert (response.status_code, response.json()) == (
        409, {"detail": f"{Invoice.objects.get()} is draft: only posted invoices are sent."})

    accountant_api.post(f"{draft['url']}/post/")
    customer = line_a.order.customer
    customer.email = ""
    customer.save(update_fields=["email"])
    response = accountant_api.post(f"{draft['url']}/send/")
    assert (response.status_code, response.json()) == (
        400, {"detail": f"{customer} has no billing email: add one to the customer first."})

    response = agent_api.post(f"{draft['url']}/send/")
    assert (response.status_code, response.json()) == (
        403, {"detail": "Only accountants and managers see and change invoices."})
    assert accountant_api.post(f"{API}/invoices/999999/send/").status_code == 404
    assert queued("invoicing.tasks.send_invoice") == []
