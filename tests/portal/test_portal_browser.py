"""Issue 18 in Chromium, under the Content Security Policy: a customer's contact signs in to the portal, opens a
ticket, disputes a timesheet with a reason and sees it disputed, writes a message, files a new ticket, reads
their hours and invoices and downloads an invoice's PDF; then the same screens in French.

$SCREENSHOTS names a folder to save each screen in (as tests/web/test_ticket_browser.py does)."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from core.roles import sync_groups
from tickets.models import Ticket, TicketMessage
from timesheets.models import CustomerReview

from ..web.test_content_security_policy import watch
from .conftest import PASSWORD
from .test_screens import prepaid_block

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups, put back after a transactional test flushed them: invitations need the contacts'."""
    sync_groups()


@pytest.fixture
def contact_page(browser, live_server):
    """Return `open(side, locale)`: a new browser page signed in to the portal as that side's contact."""
    contexts = []

    def open_as(side, locale="en-US"):
        context = browser.new_context(base_url=live_server.url, locale=locale, accept_downloads=True,
                                      viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/portal/")
        expect(page).to_have_url(re.compile(r"/portal/login/\?next=/portal/$"))
        page.locator("#id_username").fill(side.contact.user.email.upper())  # typed as they like
        page.locator("#id_password").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/portal/$"))
        return page

    yield open_as
    for context in contexts:
        context.close()


def nav(page, name):
    """A link of the portal's top bar."""
    return page.locator("header nav").get_by_role("link", name=name, exact=True)


def shoot(page, name):
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_a_contact_disputes_time_writes_files_a_ticket_and_downloads_an_invoice(portal, contact_page):
    a = portal["a"]
    block = prepaid_block(a)
    page = contact_page(a)
    complaints = watch(page)
    expect(page.locator("#customer-heading")).to_have_text("Portal customer a")
    expect(page.locator("#figure-open .figure")).to_have_text("2")
    expect(page.locator(f"#prepaid-{block.pk} [data-col=remaining]")).to_have_text("14.50 h left of 20.00 h")
    expect(page.locator("#figure-not-billed .figure")).to_have_text("2:00")
    shoot(page, "en-home")

    nav(page, "Tickets").click()
    page.get_by_role("link", name="Portal ticket of a").click()
    expect(page.locator("#ticket-team")).to_have_text("Portal team a")
    row = page.locator(f"#entry-{a.open_entry.pk}")
    expect(row.locator("[data-col=duration]")).to_have_text("1:30")
    expect(row.locator("[data-col=state]")).to_have_text("To invoice")
    expect(page.locator(f"#entry-{a.invoiced_entry.pk} [data-col=state]")).to_have_text(
        f"Invoiced on {a.posted.number}")
    expect(page.locator("#timesheet-totals [data-total=billed] .num")).to_have_text("1:00")
    expect(page.locator("#timesheet-totals [data-total=not-billed] .num")).to_have_text("2:00")

    # Dispute: the reason box opens under the row; the browser asks for a reason before sending.
    row.get_by_role("link", name="Dispute").click()
    reason = page.get_by_label(re.compile("Why do you dispute 1:30"))
    expect(reason).to_be_visible()
    shoot(page, "en-ticket-dispute-form")
    reason.fill("Nobody called us that day.")
    page.locator(f"#dispute-{a.open_entry.pk}").get_by_role("button", name="Send the dispute").click()
    expect(page.locator(".msg.success")).to_contain_text("Disputed: 1:30 of")
    expect(row.locator("[data-col=state]")).to_contain_text("Held: disputed")
    expect(row.locator("[data-col=review]")).to_have_text("Disputed: Nobody called us that day.")
    expect(row.get_by_role("link", name="Dispute")).to_have_count(0)
    expect(page.locator("#timesheet-totals [data-total=not-billed] .num")).to_have_text("0:30")
    expect(page.locator("#timesheet-totals [data-total=held] .num")).to_have_text("1:30")
    review = CustomerReview.objects.get(entry=a.open_entry)
    assert (review.state, review.reason, review.contact) == ("disputed", "Nobody called us that day.", a.contact.user)

    page.get_by_label("Your message").fill("Could you also check the scanner?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".msg.success")).to_have_text("Message sent.")
    expect(page.locator("#messages .message")).to_have_count(1)
    expect(page.locator("#messages .message.from-customer")).to_contain_text("Could you also check the scanner?")
    expect(page.locator("#messages .message.from-customer header strong")).to_have_text("Contact A")
    assert TicketMessage.objects.get(ticket=a.ticket).from_customer
    history = page.locator("#ticket-events tbody tr td:nth-child(3)")
    expect(history).to_contain_text(["Disputed 1:30: “Nobody called us that day.”; held out of invoices until "
                                     "resolved", "Message from the customer"])
    shoot(page, "en-ticket")

    nav(page, "Tickets").click()
    page.get_by_role("link", name="New ticket").click()
    page.get_by_label("Team").select_option(label="Portal team a")
    page.get_by_label("Title").fill("The scanner jams")
    page.get_by_label("Description").fill("Since Monday, on every page.")
    shoot(page, "en-ticket-new")
    page.get_by_role("button", name="Create ticket").click()
    created = Ticket.objects.get(title="The scanner jams")
    expect(page).to_have_url(re.compile(rf"/portal/tickets/{created.pk}/$"))
    expect(page.locator(".msg.success")).to_have_text(f"Ticket #{created.pk} created: the support team has been told.")
    assert (created.customer, created.team, created.status, created.description) == (
        a.ticket.customer, a.team, "new", "Since Monday, on every page.")

    nav(page, "Hours").click()
    line = page.locator(f"#line-{a.line.pk}")
    expect(line.locator("td")).to_have_text([a.line.order.name, re.compile(f"^{a.line.name}"), "10.00 h", "1.50 h",
                                             "1.00 h", "0.50 h", "—"])
    expect(page.locator(f"#line-{block.pk} [data-col=remaining]")).to_have_text("14.50 h")
    expect(page.locator(f"#burndown-{block.pk} svg polyline").first).to_be_visible()
    shoot(page, "en-hours")

    nav(page, "Invoices").click()
    expect(page.locator(f"#invoice-{a.posted.pk} [data-col=due]")).to_have_text("€90.00")
    shoot(page, "en-invoices")
    page.get_by_role("link", name=a.posted.number).click()
    expect(page.locator("#invoice-total")).to_have_text("€90.00")
    shoot(page, "en-invoice")
    with page.expect_download() as started:
        page.get_by_role("link", name="Download PDF").click()
    assert started.value.suggested_filename == f"{a.posted.number.replace('/', '-')}.pdf"
    assert Path(started.value.path()).read_bytes().startswith(b"%PDF")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/portal/login/$"))
    assert complaints == []
    assert AuditEvent.objects.filter(action="entry.disputed", actor=a.contact.user).count() == 1


def test_the_portal_in_french(portal, contact_page):
    """The screens in French (the browser's language): Odoo's words, French numbers and dates."""
    a = portal["a"]
    block = prepaid_block(a)
    page = contact_page(a, locale="fr-BE")
    complaints = watch(page)
    expect(nav(page, "Tickets")).to_be_visible()
    expect(page.locator("#figure-not-billed .label")).to_have_text("Pas encore facturé")
    shoot(page, "fr-home")
    page.goto(f"/portal/tickets/{a.ticket.pk}/")
    expect(page.locator(f"#entry-{a.open_entry.pk} [data-col=state]")).to_have_text("À facturer")
    shoot(page, "fr-ticket")
    page.goto("/portal/tickets/")
    shoot(page, "fr-tickets")
    page.goto("/portal/tickets/new/")
    expect(page.get_by_role("button", name="Créer le ticket")).to_be_visible()
    shoot(page, "fr-ticket-new")
    page.goto("/portal/hours/")
    expect(page.locator(f"#line-{a.line.pk} [data-col=ordered]")).to_have_text("10,00\u00a0h")
    expect(page.locator(f"#line-{block.pk} [data-col=remaining]")).to_have_text("14,50\u00a0h")
    shoot(page, "fr-hours")
    page.goto("/portal/invoices/")
    expect(page.locator(f"#invoice-{a.posted.pk} [data-col=due]")).to_have_text("90,00\u00a0€")
    shoot(page, "fr-invoices")
    page.goto(f"/portal/invoices/{a.posted.pk}/")
    shoot(page, "fr-invoice")
    page.goto("/portal/tickets/999999/")
    expect(page.get_by_role("heading", name="Rien ici")).to_be_visible()
    shoot(page, "fr-404")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/portal/login/$"))
    shoot(page, "fr-login")
    page.goto("/portal/password/")
    shoot(page, "fr-password-forgot")
    assert complaints == []
