"""The order page with "Create Invoice", the invoice page and its actions, PDF and CSV; agents get 403."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from invoicing.models import Invoice
from invoicing.services import invoice_create_from_order, invoice_post
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log

from ..factories import TaskFactory, days_ago
from ..jobs import run_jobs


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def cells(html: str, column: str) -> list[str]:
    """Return the text of the cells marked data-col=`column`."""
    parts = html.split(f'data-col="{column}">')[1:]
    return [part[:part.index("<")] for part in parts]


@pytest.fixture
def logged(member, ticket):
    """1:30 and 0:45 on the ticket, two and one days ago."""
    return [timesheet_log(user=member, date=days_ago(2), minutes=90, ticket=ticket, description="Diagnosed"),
            timesheet_log(user=member, date=days_ago(1), minutes=45, ticket=ticket, description="Fixed")]


# --- The order page -------------------------------------------------------------------------

def test_the_order_page_shows_delivered_as_the_tickets_hours(accountant_client, line_a, ticket, logged):
    task = TaskFactory(project=ticket.team.project, name="Billing task", sale_line=line_a)
    response = accountant_client.get(reverse("order_detail", args=[line_a.order.pk]))
    html = response.content.decode()
    figures = cells(html, "ordered"), cells(html, "delivered"), cells(html, "invoiced")
    assert figures == (["50.00 h"], ["2.25 h"], ["0.00 h"])  # in the line's unit, two decimals (README, Formats)
    assert '<td class="num" data-col="to-invoice"><strong>2.25 h</strong></td>' in html
    assert [t.title for t in response.context["tickets"]] == [ticket.title]
    assert [t.name for t in response.context["tasks"]] == [task.name]
    assert "Create Invoice</button>" in html and "Order Lines" in html and "Delivered" in html


def test_an_agent_sees_the_order_without_create_invoice(agent_client, line_a):
    html = agent_client.get(reverse("order_detail", args=[line_a.order.pk])).content.decode()
    assert "Create Invoice</button>" not in html


def test_create_invoice_bills_the_time_and_opens_the_draft(accountant_client, accountant, line_a, logged):
    response = accountant_client.post(reverse("invoice_create", args=[line_a.order.pk]), follow=True)
    invoice = Invoice.objects.get()
    assert response.redirect_chain[-1][0] == reverse("invoice_detail", args=[invoice.pk])
    assert messages_of(response) == [f"{invoice} created: check it, then post it."]
    assert (invoice.state, invoice.amount_untaxed, invoice.created_by) == ("draft", Decimal("202.50"), accountant)
    [(line, entries)] = response.context["lines"]
    assert (line.quantity, [e.description for e in entries]) == (Decimal("2.25"), ["Diagnosed", "Fixed"])


def test_create_invoice_with_a_period_bills_only_its_timesheets(accountant_client, line_a, logged):
    accountant_client.post(reverse("invoice_create", args=[line_a.order.pk]),
                           {"period_start": days_ago(1).isoformat(), "period_end": days_ago(0).isoformat()})
    invoice = Invoice.objects.get()
    assert (invoice.lines.get().minutes, invoice.period_start) == (45, days_ago(1))
    line_a.refresh_from_db()
    assert (line_a.invoiced, line_a.to_invoice) == (Decimal("0.75"), Decimal("1.50"))


def test_a_backwards_period_and_nothing_to_invoice_show_on_the_form(accountant_client, line_a, logged):
    address = reverse("invoice_create", args=[line_a.order.pk])
    response = accountant_client.post(address, {"period_start": days_ago(0).isoformat(),
                                                "period_end": days_ago(3).isoformat()})
    assert response.status_code == 200
    assert response.context["invoice_form"].errors == {"period_end": ["The period ends before it starts."]}
    response = accountant_client.post(address, {"period_start": days_ago(0).isoformat()})
    assert response.context["invoice_form"].non_field_errors() == [
        f"There is nothing to invoice on {line_a.order.name} for timesheets from {days_ago(0)} to today."]
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("name", ["invoice_post", "invoice_cancel", "invoice_remove", "invoice_credit"])
def test_agents_get_403_on_every_invoicing_action(agent_client, line_a, logged, name):
    invoice = invoice_create_from_order(order=line_a.order)
    response = agent_client.post(reverse(name, args=[invoice.pk]), {"entry": logged[0].pk, "mode": "full"})
    assert response.status_code == 403
    assert "Only accountants and managers create, post, cancel and credit invoices." in response.content.decode()
    invoice.refresh_from_db()
    assert (invoice.state, TimeEntry.objects.filter(invoice_line__isnull=False).count()) == ("draft", 2)


def test_agents_get_403_on_create_invoice(agent_client, line_a, logged):
    assert agent_client.post(reverse("invoice_create", args=[line_a.order.pk])).status_code == 403
    assert not Invoice.objects.exists()


# --- The invoice page -------------------------------------------------------------------------

def test_a_draft_offers_remove_cancel_and_post(accountant_client, line_a, logged):
    invoice = invoice_create_from_order(order=line_a.order)
    address = reverse("invoice_detail", args=[invoice.pk])
    html = accountant_client.get(address).content.decode()
    assert "Post</button>" in html and "Cancel</button>" in html and 'form="remove-form"' in html
    assert "Download PDF" not in html
    assert invoice.customer_name in html and "1 Main Street" in html

    response = accountant_client.post(reverse("invoice_remove", args=[invoice.pk]), {"entry": logged[1].pk},
                                      follow=True)
    assert messages_of(response) == ["Removed from the invoice: that time is to invoice again."]
    invoice.refresh_from_db()
    assert invoice.amount_untaxed == Decimal("135.00")  # 1.50 h × 90
    logged[1].refresh_from_db()
    assert not logged[1].is_invoiced

    response = accountant_client.post(reverse("invoice_post", args=[invoice.pk]), follow=True)
    invoice.refresh_from_db()
    assert invoice.number == f"INV/{days_ago(0).year}/00001"
    assert messages_of(response) == [f"Posted {invoice.number}: it can no longer change."]


def test_cancelling_a_draft_frees_its_time(accountant_client, line_a, logged):
    invoice = invoice_create_from_order(order=line_a.order)
    response = accountant_client.post(reverse("invoice_cancel", args=[invoice.pk]), follow=True)
    assert messages_of(response) == [f"{invoice} is cancelled; its Timesheets are to invoice again."]
    assert not TimeEntry.objects.filter(invoice_line__isnull=False).exists()


def test_posting_twice_is_a_message_not_an_error(accountant_client, line_a, logged):
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    response = accountant_client.post(reverse("invoice_post", args=[invoice.pk]), follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [f"{invoice.number} is posted and cannot be posted."]


def test_a_posted_invoice_credits_ticked_entries_or_all(accountant_client, line_a, logged):
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    address = reverse("invoice_detail", args=[invoice.pk])
    html = accountant_client.get(address).content.decode()
    assert "Download PDF" in html and 'form="credit-form"' in html and "Remove</button>" not in html

    response = accountant_client.post(reverse("invoice_credit", args=[invoice.pk]), {}, follow=True)
    assert messages_of(response) == ["Tick the Timesheets to give back, or make a full credit note."]

    response = accountant_client.post(reverse("invoice_credit", args=[invoice.pk]), {"entry": [logged[1].pk]},
                                      follow=True)
    note = Invoice.objects.get(kind="credit_note")
    assert response.redirect_chain[-1][0] == reverse("invoice_detail", args=[note.pk])
    assert note.amount_untaxed == Decimal("67.50")  # 0.75 h × 90
    # The ticked entry is on the draft note: it cannot be ticked again.
    entries = dict(accountant_client.get(address).context["lines"])
    assert [e.creditable for e in list(entries.values())[0]] == [True, False]

    accountant_client.post(reverse("invoice_post", args=[note.pk]))
    logged[1].refresh_from_db()
    assert not logged[1].is_invoiced
    response = accountant_client.post(reverse("invoice_credit", args=[invoice.pk]), {"mode": "full"}, follow=True)
    full = Invoice.objects.filter(kind="credit_note").exclude(pk=note.pk).get()
    assert full.amount_untaxed == Decimal("135.00")


def test_download_pdf_is_the_invoice_with_its_timesheets(accountant_client, line_a, logged):
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    run_jobs()  # the worker stores the PDF posting queued
    response = accountant_client.get(reverse("invoice_pdf", args=[invoice.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number.replace("/", "-")}.pdf"'
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(b"".join(response.streaming_content))).pages)
    assert invoice.number in text and "Diagnosed" in text and "Fixed" in text


def test_the_invoices_timesheets_download_as_csv(accountant_client, member, line_a, ticket):
    timesheet_log(user=member, date=datetime.date(2025, 5, 6), minutes=100, ticket=ticket, description="Upgrade")
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    timesheet_log(user=member, date=datetime.date(2025, 5, 7), minutes=30, ticket=ticket, description="Not billed yet")
    response = accountant_client.get(reverse("invoice_timesheets_csv", args=[invoice.pk]))
    assert response["Content-Disposition"] == (
        f'attachment; filename="{invoice.number.replace("/", "-")}-timesheets.csv"')
    assert response.content.decode() == (
        "\ufeffDate,Agent,Ticket,Task,Description,Duration (H:MM),Hours (decimal),Billed hours (decimal),"
        "Sales Order Item,Invoice,Approval,No charge,Work type\r\n"
        f"2025-05-06,agent,{ticket},,Upgrade,1:40,1.67,1.67,{line_a.order.name} - Service on Timesheet,"
        f"{invoice.number},To approve,,\r\n"
    )


def test_the_invoice_list_filters_by_order_and_state(accountant_client, line_a, logged):
    draft = invoice_create_from_order(order=line_a.order)

    def numbers(**query):
        return [str(i) for i in accountant_client.get(reverse("invoice_list"), query).context["page_obj"]]

    assert numbers() == [str(draft)]
    assert numbers(order=line_a.order.pk) == [str(draft)]
    assert numbers(state="posted") == []
    assert accountant_client.get(reverse("invoice_list"), {"order": 999999}).status_code == 404


def test_an_agent_reads_an_invoice_without_its_actions(agent_client, line_a, logged):
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    html = agent_client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    assert invoice.number in html
    assert "Credit Note</button>" not in html and 'form="credit-form"' not in html
