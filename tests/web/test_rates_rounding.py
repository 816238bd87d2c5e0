"""Work types, rates and rounding on the screens (DESIGN Rules 13 and 14): the Work type of the Timesheets tab,
the order's rates, Create Invoice's preview (its lines and why, what it leaves out and why), the explanation on
the invoice page and its PDF, the CSV's Work type; and an agent then an accountant in Chromium."""

import io
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from invoicing.models import Invoice
from invoicing.services import invoice_create_from_order
from sales.models import Rounding
from timesheets.models import TimeEntry
from timesheets.rates import order_rates_set
from timesheets.services import timesheet_log

from ..factories import (
    ProductFactory,
    SaleOrderLineFactory,
    TaskFactory,
    TaxFactory,
    TicketFactory,
    UserFactory,
    confirmed_line,
    days_ago,
)
from .conftest import signed_in


class _Table(HTMLParser):
    """The text of each row of the table with id `table_id` (its nested tables' rows left out)."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.depth, self.rows, self.cell = table_id, 0, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and (self.depth or dict(attrs).get("id") == self.table_id):
            self.depth += 1
        elif self.depth == 1 and tag == "tr":
            self.rows.append([])
        elif self.depth == 1 and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth == 1 and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join(" ".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def rows(response, table_id: str) -> list[list[str]]:
    """The rows of a table of the page, each a list of its cells' text, the heading's included."""
    parser = _Table(table_id)
    parser.feed(response.content.decode())
    return parser.rows


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Martin", role="Agents")


@pytest.fixture
def order(db, kinds, alice, manager):
    """Support (90.00/h, per ticket, 60-min increment, VAT 21%), Senior support (120.00/h, per entry) and On-site
    (150.00/h); Alice's time bills Senior support, On-site time bills On-site."""
    support = confirmed_line(product=ProductFactory(name="Support", rounding=Rounding.TICKET,
                                                    billing_increment_minutes=60),
                             price_unit=Decimal("90.00"), quantity=0, tax=TaxFactory())
    order = support.order
    senior = SaleOrderLineFactory(order=order, product=ProductFactory(name="Senior support"), price_unit=120)
    onsite = SaleOrderLineFactory(order=order, product=ProductFactory(name="On-site"), price_unit=150)
    order_rates_set(order=order, actor=manager, agent_rates=[{"user": alice, "sale_line": senior}],
                    work_type_rates=[{"work_type": kinds["On-site"], "sale_line": onsite}])
    order.support, order.senior, order.onsite = support, senior, onsite
    return order


@pytest.fixture
def desk(order, kinds, member, alice):
    """The order's ticket, its team's default work type Remote support, the agent and Alice its members."""
    ticket = TicketFactory(customer=order.customer, sale_line=order.support, title="Mail is down")
    ticket.team.default_work_type = kinds["Remote support"]
    ticket.team.save()
    ticket.team.members.add(member, alice)
    return ticket


@pytest.fixture
def week(desk, member, alice, kinds):
    """The agent: 0:45, 0:45 and 0:05 of Remote support three days ago, 0:20 Internal, 0:30 Goodwill and 1:00
    On-site; Alice 0:30; and the agent's 0:15 today."""
    def log(user, minutes, work_type=None, days=3, description=""):
        return timesheet_log(user=user, ticket=desk, date=days_ago(days), minutes=minutes, work_type=work_type,
                             description=description or f"{minutes} min")

    return [log(member, 45), log(member, 45), log(member, 5), log(member, 20, kinds["Internal"]),
            log(member, 30, kinds["Goodwill"], description="Goodwill"), log(member, 60, kinds["On-site"]),
            log(alice, 30, description="Alice's fix"), log(member, 15, days=0, description="Today")]


# --- The Timesheets tab: Work type ------------------------------------------------------------

def test_the_log_form_offers_every_work_type_with_the_teams_default_chosen(agent_client, desk, kinds):
    response = agent_client.get(reverse("ticket_detail", args=[desk.pk]))
    field = response.context["tab"]["log_form"]["work_type"]
    assert [(str(value), label) for value, label in field.field.choices] == [
        ("", "Team default"), (str(kinds["Goodwill"].pk), "Goodwill (no charge)"),
        (str(kinds["Internal"].pk), "Internal (non-billable)"), (str(kinds["On-site"].pk), "On-site"),
        (str(kinds["Remote support"].pk), "Remote support")]
    assert field.value() == str(kinds["Remote support"].pk)
    assert f'<option value="{kinds["Remote support"].pk}" selected>Remote support</option>' in response.content.decode()


def test_time_logged_with_a_work_type_bills_as_it_says(agent_client, member, desk, kinds, order):
    address = reverse("ticket_detail", args=[desk.pk])

    def log(work_type, description):
        return agent_client.post(address, {"action": "log", "log-date": days_ago(1).isoformat(), "log-duration": "1:00",
                                           "log-description": description, "log-work_type": work_type}, follow=True)

    assert messages_of(log(kinds["On-site"].pk, "Visit")) == [f"Logged 1:00 on {days_ago(1)}."]
    log(kinds["Internal"].pk, "Stand-up")
    log(kinds["Goodwill"].pk, "Our mistake")
    response = log("", "Remote fix")  # the empty choice: the team's default
    placed = {e.description: (e.work_type.name, e.sale_line_id, e.billable_minutes)
              for e in TimeEntry.objects.select_related("work_type")}
    assert placed == {"Visit": ("On-site", order.onsite.pk, 60), "Stand-up": ("Internal", None, 0),
                      "Our mistake": ("Goodwill", order.support.pk, 0),
                      "Remote fix": ("Remote support", order.support.pk, 60)}
    table = {row[2]: row[3] for row in rows(response, "timesheets-table")[1:-1]}
    assert table == {"Visit": "On-site", "Stand-up": "Internal Non-billable", "Our mistake": "Goodwill No charge",
                     "Remote fix": "Remote support"}
    order.support.refresh_from_db()
    assert (order.support.delivered_minutes, order.support.delivered) == (60, Decimal("1.00"))


def test_a_work_type_not_in_the_list_is_refused_on_its_field(agent_client, desk):
    response = agent_client.post(reverse("ticket_detail", args=[desk.pk]), {
        "action": "log", "log-date": days_ago(1).isoformat(), "log-duration": "0:30", "log-work_type": "999999"})
    assert response.status_code == 200
    assert response.context["tab"]["log_form"].errors == {
        "work_type": ["Select a valid choice. 999999 is not one of the available choices."]}
    assert not TimeEntry.objects.exists()


def test_editing_an_entrys_work_type_moves_it_to_the_line_it_maps_to(agent_client, member, desk, kinds, order):
    entry = timesheet_log(user=member, ticket=desk, date=days_ago(1), minutes=45, description="Printer")
    address = reverse("ticket_detail", args=[desk.pk])
    form = agent_client.get(address, {"edit": entry.pk}).context["tab"]["edit_form"]
    assert form["work_type"].value() == str(kinds["Remote support"].pk)
    response = agent_client.post(address, {"action": "edit", "entry": entry.pk, "edit-date": days_ago(1).isoformat(),
                                           "edit-duration": "0:45", "edit-description": "Printer",
                                           "edit-work_type": kinds["On-site"].pk}, follow=True)
    assert messages_of(response) == [f"Saved 0:45 of {days_ago(1)}."]
    entry.refresh_from_db()
    assert (entry.work_type, entry.sale_line, entry.billable_minutes) == (kinds["On-site"], order.onsite, 45)


def test_on_a_task_the_linked_tickets_team_default_is_chosen_and_without_a_ticket_none(agent_client, desk, kinds):
    desk.task = TaskFactory(project=desk.team.project, name="Move the mail server")
    desk.save()
    response = agent_client.get(reverse("task_detail", args=[desk.task.pk]))
    form = response.context["tab"]["log_form"]
    assert (form["work_type"].value(), form.fields["work_type"].choices[0]) == (
        str(kinds["Remote support"].pk), ("", "Team default"))
    alone = TaskFactory(project=desk.team.project, name="Inventory")
    address = reverse("task_detail", args=[alone.pk])
    form = agent_client.get(address).context["tab"]["log_form"]
    assert (form["work_type"].value(), form.fields["work_type"].choices[0]) == ("", ("", "No work type (billable)"))
    agent_client.post(address, {"action": "log", "log-date": days_ago(1).isoformat(), "log-duration": "0:30",
                                "log-work_type": kinds["Internal"].pk})
    assert TimeEntry.objects.get(task=alone).work_type == kinds["Internal"]


def test_the_csv_has_the_work_type(agent_client, member, desk, kinds, order):
    timesheet_log(user=member, ticket=desk, date=days_ago(1), minutes=30, work_type=kinds["Goodwill"],
                  description="Goodwill")
    response = agent_client.get(reverse("ticket_timesheets_csv", args=[desk.pk]))
    header, row = response.content.decode("utf-8-sig").splitlines()
    assert header.endswith(",Approval,No charge,Work type")
    assert row == (f"{days_ago(1)},agent,{desk},,Goodwill,0:30,0.50,0.00,{order.name} - Support,,To approve,,Goodwill")


# --- The order page: rates ------------------------------------------------------------------

def test_the_order_page_lists_its_rates_and_links_to_edit_them(accountant_client, order):
    response = accountant_client.get(reverse("order_detail", args=[order.pk]))
    assert rows(response, "agent-rates") == [["Agent", "Sales Order Item", "Unit price"],
                                             ["Alice Martin", "Senior support", "€120.00"]]
    assert rows(response, "work-type-rates") == [["Work type", "Sales Order Item", "Unit price"],
                                                 ["On-site", "On-site", "€150.00"]]
    edit = reverse("admin:sales_saleorder_change", args=[order.pk])
    assert f'<a class="btn small" href="{edit}">Edit rates</a>' in response.content.decode()


def test_an_agent_reads_the_rates_without_the_link(agent_client, order, desk):
    response = agent_client.get(reverse("order_detail", args=[order.pk]))
    assert rows(response, "agent-rates")[1:] == [["Alice Martin", "Senior support", "€120.00"]]
    assert "Edit rates" not in response.content.decode()


def test_an_order_without_rates_shows_none_to_agents(agent_client, line_a, ticket):
    html = agent_client.get(reverse("order_detail", args=[line_a.order.pk])).content.decode()
    assert 'id="rates"' not in html


# --- Create Invoice's preview ----------------------------------------------------------------

def preview(client, order, **period):
    return client.get(reverse("invoice_preview", args=[order.pk]), {k: v.isoformat() for k, v in period.items()})


def test_the_preview_shows_the_lines_with_their_explanation_and_totals(accountant_client, order, week):
    response = preview(accountant_client, order, period_end=days_ago(1))
    assert response.status_code == 200
    assert rows(response, "preview-lines") == [
        ["Description", "Quantity", "Unit", "Unit price", "Tax", "Amount"],
        ["Support 4 entries, 2:05 worked → 2:00 billed: per ticket, 60-min increment, 1 no charge (0:30)",
         "2.00", "hours", "€90.00", "21%", "€180.00"],
        ["Senior support 1 entry, 0:30 worked → 0:30 billed · rate for agent Alice Martin", "0.50", "hours", "€120.00",
         "0%", "€60.00"],
        ["On-site 1 entry, 1:00 worked → 1:00 billed · work type On-site", "1.00", "hours", "€150.00", "0%", "€150.00"],
    ]
    assert [line.explanation for line in response.context["preview"]["lines"]][0] == (
        "4 entries, 2:05 worked → 2:00 billed: per ticket, 60-min increment, 1 no charge (0:30)")
    html = response.content.decode()
    assert '<td class="num" id="preview-untaxed">€390.00</td>' in html
    assert '<td class="num" id="preview-tax">€37.80</td>' in html  # 21% of 180.00
    assert '<td class="num" id="preview-total">€427.80</td>' in html
    assert rows(response, "left-out-reasons") == [["Reason", "Entries", "Time"],
                                                  ["Non-billable work type", "1", "0:20"],
                                                  ["After the period", "1", "0:15"],
                                                  ["Total", "2", "0:35"]]
    assert rows(response, "left-out-examples") == [
        ["Date", "Agent", "Ticket", "Work type", "Duration", "Reason"],
        [str(days_ago(3)), "agent", f"#{week[0].ticket_id} Mail is down", "Internal", "0:20", "Non-billable work type"],
        [str(days_ago(0)), "agent", f"#{week[0].ticket_id} Mail is down", "Remote support", "0:15", "After the period"],
    ]
    assert not Invoice.objects.exists()  # a preview creates nothing


def test_create_invoice_from_the_preview_creates_what_it_showed(accountant_client, order, week):
    shown = preview(accountant_client, order, period_end=days_ago(1))
    assert '<input type="hidden" name="period_end" value="{}">'.format(days_ago(1)) in shown.content.decode()
    response = accountant_client.post(reverse("invoice_create", args=[order.pk]),
                                      {"period_start": "", "period_end": days_ago(1).isoformat()}, follow=True)
    invoice = Invoice.objects.get()
    assert response.redirect_chain[-1][0] == reverse("invoice_detail", args=[invoice.pk])
    assert [(line.name, line.explanation, line.amount_untaxed) for line in invoice.lines.order_by("pk")] == [
        (line.name, line.explanation, line.amount_untaxed) for line in shown.context["preview"]["lines"]]
    assert (invoice.amount_untaxed, invoice.amount_total) == (Decimal("390.00"), Decimal("427.80"))


def test_the_preview_shows_create_invoices_refusal(accountant_client, order, week):
    invoice_create_from_order(order=order, period_end=days_ago(1))
    response = preview(accountant_client, order, period_start=days_ago(2), period_end=days_ago(1))
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["preview"]["error"] == (
        f"There is nothing to invoice on {order.name} for timesheets from {days_ago(2)} to {days_ago(1)}.")
    assert f'id="preview-error">{response.context["preview"]["error"]}</div>' in html
    assert 'id="preview-lines"' not in html and 'id="preview-create"' not in html
    assert rows(response, "left-out-reasons")[1:] == [["Non-billable work type", "1", "0:20"],
                                                      ["On another invoice (a draft)", "6", "3:35"],
                                                      ["After the period", "1", "0:15"],
                                                      ["Total", "8", "4:10"]]


@pytest.mark.parametrize("query, field, message", [
    ({"period_start": "2025-03-10", "period_end": "2025-03-01"}, "period_end", "The period ends before it starts."),
    ({"period_start": "2025-02-30"}, "period_start", "Enter a valid date."),
])
def test_a_bad_period_is_a_message_on_the_form(accountant_client, order, query, field, message):
    response = accountant_client.get(reverse("invoice_preview", args=[order.pk]), query)
    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    assert message in response.content.decode()


def test_only_those_who_invoice_preview(client, member, manager, order, week):
    address = reverse("invoice_preview", args=[order.pk])
    assert address == f"/orders/{order.pk}/invoice-preview/"
    response = signed_in(client, member).get(address)
    assert response.status_code == 403
    assert "Only accountants and managers create, post, cancel and credit invoices." in response.content.decode()
    assert signed_in(client, manager).get(address).status_code == 200


def test_the_order_page_offers_preview_beside_create_invoice(accountant_client, order, week):
    html = accountant_client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert '<button class="btn" type="submit" form="invoice-preview-form">Preview</button>' in html
    action = reverse("invoice_preview", args=[order.pk])
    assert f'<form method="get" action="{action}" id="invoice-preview-form"' in html


# --- The invoice page and its PDF ------------------------------------------------------------

def test_the_invoice_page_explains_each_line_and_marks_no_charge_time(accountant_client, order, week):
    invoice = invoice_create_from_order(order=order, period_end=days_ago(1))
    response = accountant_client.get(reverse("invoice_detail", args=[invoice.pk]))
    html = response.content.decode()
    assert ('<td><strong>Support</strong><div class="explanation">4 entries, 2:05 worked → 2:00 billed: per ticket, '
            '60-min increment, 1 no charge (0:30)</div></td>') in html
    assert ('<div class="explanation">1 entry, 0:30 worked → 0:30 billed · rate for agent Alice Martin</div>') in html
    goodwill = week[4]
    row = re.search(rf'<tr id="entry-{goodwill.pk}">.*?</tr>', html, re.S)[0]
    assert 'Goodwill <span class="badge no-charge">No charge</span>' in row
    assert '0:30<div class="help">billed <span data-col="billed">0:00</span></div>' in row
    assert html.count('class="badge no-charge"') == 1


def test_the_pdf_explains_each_line_and_marks_no_charge_time(accountant_client, order, week):
    invoice = invoice_create_from_order(order=order, period_end=days_ago(1))
    response = accountant_client.get(reverse("invoice_pdf", args=[invoice.pk]))  # a draft's: rendered now
    assert response["Content-Type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
    assert "4 entries, 2:05 worked → 2:00 billed: per ticket, 60-min increment, 1 no charge (0:30)" in text
    assert "1 entry, 1:00 worked → 1:00 billed · work type On-site" in text
    assert "Goodwill No charge · billed 0:00" in text
    assert text.count("No charge · billed 0:00") == 1


# --- In Chromium ----------------------------------------------------------------------------

def test_an_agent_logs_on_site_time_and_the_accountant_previews_then_invoices(open_browser, order, desk, kinds,
                                                                             member, accountant):
    agent = open_browser(member)
    agent.goto(reverse("ticket_detail", args=[desk.pk]))
    form = agent.locator("#log-time")
    expect(form.get_by_label("Work type")).to_have_value(str(kinds["Remote support"].pk))  # the team's default
    form.get_by_label("Date").fill(days_ago(2).isoformat())
    form.get_by_label("Duration").fill("1:00")
    form.get_by_label("Description").fill("Replaced the switch on site")
    form.get_by_label("Work type").select_option(label="On-site")
    form.get_by_role("button", name="Log time").click()
    expect(agent.locator(".msg.success")).to_have_text(f"Logged 1:00 on {days_ago(2)}.")
    form.get_by_label("Duration").fill("0:45")
    form.get_by_label("Description").fill("Checked the mail queue")
    form.get_by_role("button", name="Log time").click()
    expect(agent.locator(".msg.success")).to_have_text(f"Logged 0:45 on {days_ago(0)}.")
    visit = agent.locator("#timesheets-table tbody tr", has_text="Replaced the switch on site")
    expect(visit.locator("[data-col=work-type]")).to_have_text("On-site")
    assert TimeEntry.objects.get(description="Replaced the switch on site").sale_line == order.onsite

    # The accountant previews up to yesterday: today's 0:45 is left out, after the period.
    books = open_browser(accountant)
    books.goto(reverse("order_detail", args=[order.pk]))
    books.locator("#create-invoice").get_by_label("to", exact=True).fill(days_ago(1).isoformat())
    books.get_by_role("button", name="Preview").click()
    expect(books.locator("h1")).to_contain_text("Create Invoice: preview")
    expect(books.locator("#preview-lines .explanation")).to_have_text(
        "1 entry, 1:00 worked → 1:00 billed · work type On-site")
    expect(books.locator("#preview-total")).to_have_text("€150.00")
    expect(books.locator("#left-out-reasons")).to_contain_text("After the period")
    expect(books.locator("#left-out-examples tbody tr")).to_contain_text("0:45")
    assert not Invoice.objects.exists()
    books.get_by_role("button", name="Create Invoice").click()
    expect(books.locator("#invoice-state")).to_have_text("Draft")
    expect(books.locator("#invoice-lines .explanation")).to_have_text(
        "1 entry, 1:00 worked → 1:00 billed · work type On-site")
    expect(books.locator("#invoice-total")).to_have_text("€150.00")
    invoice = Invoice.objects.get()
    assert (invoice.period_end, invoice.amount_total) == (days_ago(1), Decimal("150.00"))


def test_the_order_page_says_what_create_invoice_bills_of_time_rounded_per_ticket(accountant_client, order, week):
    # Support rounds per ticket to the hour: 0:45 + 0:45 + 0:05 + 0:15 to invoice (1.83 h) bill 2:00.
    html = accountant_client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert '<strong>1.83 h</strong><div class="help"' in html
    assert 'bills <span data-col="rounded">2.00 h</span>' in html
    assert html.count('data-col="rounded"') == 1  # the lines rounded per entry bill what they show
