"""Issue 17 in Chromium, under the Content Security Policy: an agent files a ticket from the Tickets list (its customer,
task, Sales Order Item and a teammate picked in the searchable selects), starts work on it, takes it back, and reads
who did what in its History."""

import os

from django.utils.timezone import localtime
from playwright.sync_api import expect

from audit.selectors import audit_events_for
from tickets.models import Ticket

from ..browser import lookup_box, pick
from ..factories import CustomerFactory, TaskFactory, TicketFactory, UserFactory, confirmed_line
from .test_content_security_policy import watch


def test_an_agent_files_a_ticket_works_it_and_reads_its_history(open_browser, member, ticket, line_a):
    team = ticket.team
    acme = ticket.customer
    acme.name = "Acme Corporation"
    acme.save()
    TicketFactory(team=team, customer=CustomerFactory(name="Acme Rockets"), title="Launch pad offline")
    block = confirmed_line(order=line_a.order, name="Senior support")
    teammate = UserFactory(username="jdoe", first_name="Jane", last_name="Doe", role="Agents")
    team.members.add(teammate)
    TaskFactory(project=team.project, name="Replace the fuser")
    page = open_browser(member)
    complaints = watch(page)

    page.get_by_role("link", name="Tickets", exact=True).click()
    page.get_by_role("link", name="New ticket").click()
    expect(page.get_by_role("heading", name="New ticket")).to_be_visible()
    # The agent's team and themselves are chosen; a line needs a customer first.
    expect(lookup_box(page, "Team")).to_have_value(team.name)
    expect(lookup_box(page, "Assignee")).to_have_value("agent")
    expect(lookup_box(page, "Sales Order Item")).to_be_disabled()

    pick(page, "Customer", "acme", "Acme Corporation")
    page.get_by_label("Title").fill("Scanner on the 2nd floor is offline")
    page.get_by_label("Description").fill("It lost its network settings after the power cut.")
    pick(page, "Task", "fuser", "Replace the fuser")
    expect(lookup_box(page, "Sales Order Item")).to_be_enabled()
    pick(page, "Sales Order Item", "senior", f"{line_a.order.name} · Senior support · 0.00 h delivered")
    pick(page, "Assignee", "doe", "Jane Doe")
    shoot(page, "new-ticket")
    page.get_by_role("button", name="Create ticket").click()

    created = Ticket.objects.get(title="Scanner on the 2nd floor is offline")
    expect(page).to_have_url(f"{page.url.split('/tickets/')[0]}/tickets/{created.pk}/")
    expect(page.locator(".msg.success")).to_have_text(f"Ticket #{created.pk} created.")
    assert (created.team, created.customer, created.task.name, created.sale_line, created.assignee) == (
        team, acme, "Replace the fuser", block, teammate)
    expect(page.locator("#assignee")).to_contain_text("Jane Doe")

    page.get_by_role("button", name="Start work").click()
    expect(page.locator(".msg.success")).to_have_text(f"{created} is in progress.")
    expect(page.locator("#ticket-status")).to_have_text("In Progress")
    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator(".msg.success")).to_have_text(f"{created} is assigned to agent.")

    rows = page.locator("#ticket-events tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.locator("td:nth-child(2)")).to_have_text(["agent", "agent", "agent"])
    expect(rows.locator("td:nth-child(3)")).to_have_text([
        f"Ticket created in {team.name} for Acme Corporation, assigned to jdoe",
        "Status changed from New to In Progress",
        "Assigned to agent (was jdoe)"])
    filed = audit_events_for(obj=created).first().at
    expect(rows.first.locator("td.date")).to_have_text(localtime(filed).strftime("%Y-%m-%d %H:%M"))

    # Then to the teammate again, through the Assign select.
    pick(page, "Assignee", "jane", "Jane Doe")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".msg.success")).to_have_text(f"{created} is assigned to Jane Doe.")
    expect(rows.last.locator("td:nth-child(3)")).to_have_text("Assigned to jdoe (was agent)")
    shoot(page, "ticket-history")
    page.goto(f"/tickets/?order={line_a.order_id}")
    expect(page.locator("#order-filter")).to_have_text(f"Sales order {line_a.order.name} ×")
    expect(page.locator("#tickets tbody tr")).to_have_count(2)
    shoot(page, "tickets-of-an-order")
    page.get_by_role("link", name="Show the tickets of every sales order").click()
    expect(page.locator("#tickets tbody tr")).to_have_count(3)
    assert complaints == []


def shoot(page, name):
    """Save a screenshot when $SCREENSHOTS names a folder: the pages as they were looked at (issue 17)."""
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_a_refused_ticket_comes_back_with_its_message_and_the_choices_kept(open_browser, member, ticket):
    page = open_browser(member)
    complaints = watch(page)
    page.goto("/tickets/new/")
    pick(page, "Customer", ticket.customer.name[:6], ticket.customer.name)
    # Changing the team would empty the task; with nothing typed in Title, the browser asks for it first.
    page.get_by_role("button", name="Create ticket").click()
    expect(page.get_by_label("Title")).to_be_focused()
    page.get_by_label("Title").fill("   ")
    page.get_by_role("button", name="Create ticket").click()
    expect(page.locator(".errorlist")).to_have_text("This field is required.")
    expect(lookup_box(page, "Customer")).to_have_value(ticket.customer.name)
    expect(lookup_box(page, "Sales Order Item")).to_be_enabled()
    assert Ticket.objects.count() == 1
    assert complaints == []
