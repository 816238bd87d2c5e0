"""The seed's walk-through and the agents' daily gestures, in a real Chromium against a live server.

Each persona has a browser of their own and clicks as a person would: links, buttons
and labelled fields, never URLs of actions. A failed test leaves screenshots (conftest).
"""

import datetime
import io
import re

from playwright.sync_api import expect
from pypdf import PdfReader

from invoicing.services import invoice_create_from_order
from tickets.models import Ticket
from timesheets.models import TimeEntry, Timer
from timesheets.services import INVOICED_MESSAGE, timesheet_log

from ..browser import download, log_time, pick
from ..factories import (
    CustomerFactory,
    ProductFactory,
    ProjectFactory,
    TaskFactory,
    TaxFactory,
    TeamFactory,
    TicketFactory,
    days_ago,
)
from ..jobs import run_jobs


def row(page, description):
    return page.locator("#timesheets-table tbody tr", has_text=description)


def test_the_seeds_walk_through(open_browser, agent, manager, accountant):
    """Configure, sell, log, link, check Delivered, invoice, post, download the PDF, close the ticket."""
    customer = CustomerFactory(name="Acme Corporation")
    ProductFactory(name="Service on Timesheet", tax=TaxFactory())
    project = ProjectFactory(name="Customer Care", billable=False)
    team = TeamFactory(name="Customer Care", project=project, timesheet_on_ticket=False, time_reinvoicing=False)
    team.members.add(agent)
    ticket = TicketFactory(team=team, customer=customer, title="Printers print blank pages", assignee=agent)

    # A manager marks the project Billable and turns on the team's options, in the admin.
    boss = open_browser(manager)
    boss.get_by_role("link", name="Admin").click()
    boss.locator("th[scope=row] a", has_text="Projects").click()
    boss.get_by_role("link", name="Customer Care").click()
    boss.get_by_label("Billable").check()
    boss.get_by_role("button", name="Save", exact=True).click()
    expect(boss.locator(".messagelist")).to_contain_text("was changed successfully")
    boss.goto("/admin/")
    boss.get_by_role("link", name="Helpdesk Teams").click()
    boss.get_by_role("link", name="Customer Care").click()
    boss.get_by_label("Timesheet on Ticket").check()
    boss.get_by_label("Time Reinvoicing").check()
    boss.get_by_role("button", name="Save", exact=True).click()
    expect(boss.locator(".messagelist")).to_contain_text("was changed successfully")
    team.refresh_from_db()
    assert (team.timesheet_on_ticket, team.time_reinvoicing, team.project.billable) == (True, True, True)

    # The manager creates the quotation with the Service on Timesheet product, and confirms it.
    boss.goto("/")
    boss.get_by_role("link", name="Sales Orders").click()
    boss.get_by_role("link", name="New quotation").click()
    pick(boss, "Customer", "acme", "Acme Corporation")
    lines = boss.locator("#order-lines")
    lines.locator("select[name$='-product']").first.select_option(label="Service on Timesheet")
    expect(lines.locator("input[name$='-price_unit']").first).to_have_value("90.00")  # from the product
    lines.locator("input[name$='-quantity']").first.fill("20")
    boss.get_by_role("button", name="Confirm").click()
    expect(boss.locator(".msg.success")).to_contain_text("is confirmed")
    order_name = re.search(r"S\d{5}", boss.locator("h1").inner_text())[0]

    # The agent records 1:30 and 0:45 on the ticket's Timesheets tab.
    desk = open_browser(agent)  # lands on the Helpdesk overview
    desk.get_by_role("link", name="Tickets", exact=True).click()
    desk.get_by_role("link", name="Printers print blank pages").click()
    desk.get_by_role("tab", name="Timesheets").click()
    log_time(desk, "1:30", "Reproduced the issue, collected the logs")
    log_time(desk, "0:45", "Rolled back the driver")
    expect(desk.locator("#timesheets-total")).to_have_text("2:15")

    # ... links the ticket to the order through "Sales Order Item" ...
    item = f"{order_name} · Service on Timesheet · 0.00 h delivered"
    pick(desk, "Sales Order Item", order_name, item)
    desk.get_by_role("button", name="Save", exact=True).click()
    expect(desk.locator(".msg.success")).to_contain_text(f"Sales Order Item set to {order_name}")
    expect(row(desk, "Rolled back the driver")).to_contain_text(order_name)

    # ... and the "Sales Order" smart button leads to the order, whose Delivered reads 2.25 h.
    desk.locator("#smart-sales-order").click()
    expect(desk.locator("h1")).to_contain_text(f"Sales Order {order_name}")
    expect(desk.locator("[data-col=delivered]")).to_have_text("2.25 h")

    # The accountant clicks "Create Invoice", posts the invoice and downloads the PDF.
    books = open_browser(accountant)
    books.get_by_role("link", name="Sales Orders").click()
    books.get_by_role("link", name=order_name).click()
    expect(books.locator("[data-col=delivered]")).to_have_text("2.25 h")
    books.get_by_role("button", name="Create Invoice").click()
    expect(books.locator("#invoice-state")).to_have_text("Draft")
    expect(books.locator("#invoice-lines")).to_contain_text("Rolled back the driver")
    books.get_by_role("button", name="Post").click()
    expect(books.locator("#invoice-state")).to_have_text("Posted")
    expect(books.locator("#invoice-total")).to_have_text("€245.03")  # 2.25 h × 90 = 202.50, VAT 21% 42.53
    # Its PDF is rendered once, by a worker: the page says so until it is stored.
    expect(books.locator("#pdf-state")).to_have_text("PDF being prepared")
    assert run_jobs() == 1
    books.reload()
    expect(books.locator("#pdf-state")).to_have_count(0)
    _, pdf = download(books, "Download PDF")
    assert pdf.startswith(b"%PDF")
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Reproduced the issue, collected the logs" in text and "Rolled back the driver" in text

    # The agent closes the ticket; its Timesheets are now locked.
    desk.goto("/tickets/")
    desk.get_by_role("link", name="Printers print blank pages").click()
    desk.get_by_role("button", name="Close").click()
    expect(desk.locator("#ticket-status")).to_have_text("Closed")
    expect(row(desk, "Rolled back the driver")).to_contain_text("Locked")
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"


def test_time_on_the_task_shows_on_the_ticket_and_the_reverse(open_browser, agent, line_a):
    team = TeamFactory()
    team.members.add(agent)
    task = TaskFactory(project=team.project, name="Replace the fuser")
    TicketFactory(team=team, customer=line_a.order.customer, title="Paper jams", task=task, sale_line=line_a)

    page = open_browser(agent)
    page.get_by_role("link", name="Tickets", exact=True).click()
    page.get_by_role("link", name="Paper jams").click()
    page.locator("#task-link").click()
    expect(page.locator("h1")).to_have_text("Replace the fuser")
    log_time(page, "0:30", "Ordered the part")

    page.locator("#ticket-link").click()
    expect(row(page, "Ordered the part")).to_contain_text("0:30")
    log_time(page, "1h", "Fitted the part")
    expect(page.locator("#timesheets-total")).to_have_text("1:30")

    page.locator("#task-link").click()
    expect(row(page, "Fitted the part")).to_contain_text("1:00")
    expect(page.locator("#timesheets-total")).to_have_text("1:30")


def test_editing_an_invoiced_entry_is_refused_and_nothing_changes(open_browser, agent, ticket, line_a):
    ticket.team.members.add(agent)
    entry = timesheet_log(user=agent, date=days_ago(1), minutes=60, ticket=ticket, description="Replaced toner")

    page = open_browser(agent)
    page.goto(f"/tickets/{ticket.pk}/")
    row(page, "Replaced toner").get_by_role("link", name="Edit").click()
    editing = page.locator(f"#entry-{entry.pk}")
    editing.get_by_label("Duration").fill("3:00")

    # Meanwhile the accountant invoices the order: the entry is locked before the agent saves.
    invoice_create_from_order(order=line_a.order)
    editing.get_by_role("button", name="Save").click()

    expect(page.locator(".msg.error")).to_have_text(INVOICED_MESSAGE)
    expect(row(page, "Replaced toner")).to_contain_text("1:00")
    expect(row(page, "Replaced toner")).to_contain_text("Locked")
    expect(row(page, "Replaced toner").get_by_role("link", name="Edit")).to_have_count(0)
    entry.refresh_from_db()
    assert entry.minutes == 60


def test_the_timer_survives_a_reload_and_its_stop_fills_the_form(open_browser, agent, ticket):
    ticket.team.members.add(agent)
    page = open_browser(agent)
    page.goto(f"/tickets/{ticket.pk}/")
    page.get_by_role("button", name="Start timer").click()
    expect(page.locator("#timer")).to_contain_text("Timer running since")

    # Closing the tab loses nothing: the timer is kept on the server.
    page.reload()
    expect(page.get_by_role("button", name="Stop timer")).to_be_visible()
    # 25 minutes 10 seconds later...
    Timer.objects.filter(user=agent, ticket=ticket).update(
        started_at=Timer.objects.get().started_at - datetime.timedelta(minutes=25, seconds=10))
    page.reload()
    expect(page.locator("#timer .elapsed")).to_have_text(re.compile(r"^0:25:\d\d$"))  # counted on by the script

    page.get_by_role("button", name="Stop timer").click()
    form = page.locator("#log-time")
    expect(form.get_by_label("Duration")).to_have_value("0:26")  # rounded up to the minute
    expect(form.get_by_label("Description")).to_be_focused()
    form.get_by_label("Description").fill("Remote session with the customer")
    form.get_by_role("button", name="Log time").click()
    expect(row(page, "Remote session with the customer")).to_contain_text("0:26")
    expect(page.get_by_role("button", name="Start timer")).to_be_visible()
    assert TimeEntry.objects.get().minutes == 26

