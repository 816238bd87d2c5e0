"""Issue 17: one convention for durations and quantities (README, Formats), drafts named by their id, the
order page's Create Invoice box only when there is something to invoice, and its Tickets smart button."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from sales.models import ServicePolicy
from sales.templatetags.billing import quantity
from timesheets.services import timesheet_log
from web.views.timesheets import CSV_HEADER

from ..factories import ProductFactory, SaleOrderLineFactory, TaskFactory, TicketFactory, days_ago


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def cells(html: str, column: str) -> list[str]:
    parts = html.split(f'data-col="{column}">')[1:]
    return [part[:part.index("<")] for part in parts]


def headers(html: str, table: str) -> list[str]:
    head = html[html.index(f'id="{table}"'):]
    head = head[:head.index("</thead>")]
    return [text_of(cell) for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


@pytest.fixture
def logged(member, ticket):
    """1:30 and 0:45 on the ticket: 2.25 h delivered on line_a (90.00 an hour)."""
    return [timesheet_log(user=member, date=days_ago(2), minutes=90, ticket=ticket, description="Diagnosed"),
            timesheet_log(user=member, date=days_ago(1), minutes=45, ticket=ticket, description="Fixed")]


def test_a_quantity_has_two_decimals_and_its_units_symbol():
    assert [quantity(Decimal("4.5"), "hour"), quantity(Decimal("1.255"), "day"), quantity(3), quantity(None)] == [
        "4.50 h", "1.26 d", "3.00", ""]


# --- Orders: quantities in the line's unit -----------------------------------------------------------

def test_the_order_lines_show_quantities_in_their_unit(accountant_client, line_a, logged):
    days = SaleOrderLineFactory(order=line_a.order, product=ProductFactory(
        name="Setup", uom="day", service_policy=ServicePolicy.ORDERED_PREPAID), quantity=Decimal("1.5"))
    html = accountant_client.get(reverse("order_detail", args=[line_a.order.pk])).content.decode()
    assert headers(html, "order-lines") == ["Product", "Invoicing policy", "Ordered", "Delivered", "Invoiced",
                                            "To invoice", "Unit", "Unit price", ""]
    assert cells(html, "ordered") == ["50.00 h", "1.50 d"]
    assert cells(html, "delivered") == ["2.25 h", "0.00 d"]
    assert cells(html, "invoiced") == ["0.00 h", "0.00 d"]
    assert f'<tr id="line-{days.pk}">' in html
    assert "<strong>2.25 h</strong>" in html and "<strong>1.50 d</strong>" in html


def test_the_tickets_and_tasks_billing_the_order_say_their_time_spent(accountant_client, line_a, ticket, logged):
    TaskFactory(project=ticket.team.project, name="Billing task", sale_line=line_a)
    html = accountant_client.get(reverse("order_detail", args=[line_a.order.pk])).content.decode()
    assert headers(html, "order-tickets") == ["Ticket or task", "Status", "Time spent"]
    rows = html[html.index('id="order-tickets"'):html.index('id="order-invoices"')]
    assert '<td class="num">2:15</td>' in rows and '<td class="num">0:00</td>' in rows


# --- The order page's Create Invoice box and Tickets smart button ----------------------------------

def test_create_invoice_is_offered_only_when_something_is_to_invoice(accountant_client, line_a, logged):
    address = reverse("order_detail", args=[line_a.order.pk])
    html = accountant_client.get(address).content.decode()
    assert 'id="create-invoice"' in html and 'id="nothing-to-invoice"' not in html

    invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    html = accountant_client.get(address).content.decode()
    assert 'id="create-invoice"' not in html and "Create Invoice</button>" not in html
    assert ('<p class="card nothing-to-invoice" id="nothing-to-invoice">Nothing to invoice: all delivered time and '
            'quantities are invoiced.</p>') in html


def test_time_awaiting_approval_is_why_nothing_is_to_invoice(accountant_client, manager, line_a, ticket, member):
    from tickets.services import team_save

    ticket.team.invoiced_timesheets = "approved"
    team_save(team=ticket.team, actor=manager)
    timesheet_log(user=member, date=days_ago(1), minutes=30, ticket=ticket)
    html = accountant_client.get(reverse("order_detail", args=[line_a.order.pk])).content.decode()
    assert ("Nothing to invoice: all delivered time and quantities are invoiced. Time awaiting approval can be "
            "invoiced once a manager approves it.</p>") in html


def test_a_refused_create_invoice_shows_its_reason_in_the_box(accountant_client, line_a):
    response = accountant_client.post(reverse("invoice_create", args=[line_a.order.pk]))
    html = response.content.decode()
    assert 'id="create-invoice"' in html and f"There is nothing to invoice on {line_a.order.name}." in html


def test_the_tickets_smart_button_leads_to_the_orders_tickets(accountant_client, line_a, ticket, logged):
    TicketFactory(customer=line_a.order.customer, sale_line=line_a, team=ticket.team, title="Second")
    html = accountant_client.get(reverse("order_detail", args=[line_a.order.pk])).content.decode()
    assert (f'<a class="smart" href="/tickets/?order={line_a.order.pk}" id="order-tickets-link"><span class="label">'
            'Tickets</span><span class="value">2</span></a>') in html
    assert accountant_client.get(f"/tickets/?order={line_a.order.pk}").status_code == 200


def test_the_tickets_smart_button_of_an_order_without_tickets_is_dimmed(accountant_client, line_a):
    html = accountant_client.get(reverse("order_detail", args=[line_a.order.pk])).content.decode()
    assert f'<a class="smart off" href="/tickets/?order={line_a.order.pk}" id="order-tickets-link">' in html


# --- Time screens: H:MM, columns named for what they show --------------------------------------------

def test_the_task_list_says_time_spent(agent_client, ticket, line_a, logged):
    task = TaskFactory(project=ticket.team.project, name="Billing task", sale_line=line_a)
    timesheet_log(user=logged[0].user, date=days_ago(1), minutes=75, task=task)
    html = agent_client.get(reverse("task_list")).content.decode()
    assert headers(html, "tasks") == ["Task", "Project", "Customer", "Ticket", "Sales Order Item", "Time spent"]
    assert '<td class="num">1:15</td>' in html and "Hours spent" not in html


def test_to_invoice_says_the_time_to_invoice_and_quantities_in_their_unit(accountant_client, line_a, logged):
    prepaid = SaleOrderLineFactory(order=line_a.order, product=ProductFactory(
        name="Block", service_policy=ServicePolicy.ORDERED_PREPAID), quantity=Decimal("10"))
    html = accountant_client.get(reverse("to_invoice")).content.decode()
    assert headers(html, "orders-to-invoice")[1:] == ["Sales Order", "Customer", "Lines to invoice", "Time to invoice",
                                                       "Amount"]
    row = text_of(html[html.index(f'id="order-{line_a.order.pk}"'):])
    assert (f"{line_a.order.name} {line_a.order.customer} Service on Timesheet 2:15 €202.50 "
                          f"{prepaid.name} 10.00 h €900.00 2:15 €1,102.50") in row


# --- Invoices: quantities with two decimals, drafts named by their id -------------------------------

def test_drafts_are_named_by_their_id_everywhere(accountant_client, line_a, logged):
    response = accountant_client.post(reverse("invoice_create", args=[line_a.order.pk]), follow=True)
    draft = response.context["invoice"]
    name = f"Draft invoice #{draft.pk}"
    assert str(draft) == name
    html = response.content.decode()
    assert f"<title>{name} · Helpdesk billing</title>" in html
    assert re.search(rf"<h1>{name}\s*<span class=\"badge draft\"", html)
    assert f"<li class=\"msg success\" role=\"status\">{name} created: check it, then post it.</li>" in html
    assert f">{name}</a>" in accountant_client.get(reverse("invoice_list")).content.decode()
    pdf = accountant_client.get(reverse("invoice_pdf", args=[draft.pk]))
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(b"".join(
        pdf.streaming_content if pdf.streaming else [pdf.content]))).pages).split())
    assert name in text and "Draft Invoice (" not in text

    posted = invoice_post(invoice=draft)
    note = invoice_credit_note(invoice=posted)
    assert str(note) == f"Draft credit note #{note.pk}"
    html = accountant_client.get(reverse("invoice_detail", args=[note.pk])).content.decode()
    assert re.search(rf"<h1>Draft credit note #{note.pk}\s*<span", html)
    assert f"<h1>Invoice {posted.number}" in accountant_client.get(
        reverse("invoice_detail", args=[posted.pk])).content.decode()


def test_invoice_quantities_have_two_decimals_on_the_page_and_the_pdf(accountant_client, line_a, logged):
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    html = accountant_client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    assert headers(html, "invoice-lines")[:6] == ["Description", "Quantity", "Unit", "Unit price", "Tax", "Amount"]
    assert cells(html, "quantity") == ["2.25"]
    from invoicing.pdf import invoice_pdf

    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(
        invoice_pdf(invoice=invoice))).pages).split())
    assert "Service on Timesheet 2 entries, 2:15 worked → 2:15 billed 2.25 hours €90.00 0% €202.50" in text
    assert "Subtotal (2:15 billed) 2.25 hours" in text
    assert "Duration" in text and "1:30" in text and "0:45" in text


# --- CSV: durations as H:MM and as decimal hours ------------------------------------------------------

def test_the_timesheets_csv_has_the_duration_as_on_screen_and_in_decimal_hours(agent_client, member, ticket):
    timesheet_log(user=member, date=datetime.date(2025, 3, 2), minutes=100, ticket=ticket, description="Fix")
    response = agent_client.get(reverse("ticket_timesheets_csv", args=[ticket.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == CSV_HEADER == ["Date", "Agent", "Ticket", "Task", "Description", "Duration (H:MM)",
                                     "Hours (decimal)", "Billed hours (decimal)", "Sales Order Item", "Invoice",
                                     "Approval", "No charge", "Work type"]
    assert rows[1][:8] == ["2025-03-02", "agent", str(ticket), "", "Fix", "1:40", "1.67", "1.67"]
