"""The whole customer portal walk of issue 18 in Chromium, three people in three browsers:

a manager invites Globex's contact from the customer's page in the admin; the invitation email (its job run)
carries the link; the contact sets a password through it, opens their ticket, reads its timesheets and
disputes one with a reason; the accountant resolves it on the order page, correcting the duration, with an
answer; the contact reloads and reads the answer; the accountant clicks Create Invoice and posts it; the
contact finds the invoice in Invoices and downloads its PDF. Exact figures throughout: 1:30 + 0:45 + 2:00
logged, the 0:45 corrected to 0:30, 4.00 h at 90.00 = €360.00.

$SCREENSHOTS names a folder to save each screen in.
"""

import io
import os
import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect
from pypdf import PdfReader

from audit.models import AuditEvent
from core.roles import sync_groups
from invoicing.models import Invoice
from sales.models import Contact
from timesheets.models import CustomerReview
from timesheets.services import timesheet_log

from ..browser import download
from ..conftest import signed_in_pages
from ..factories import CustomerFactory, TeamFactory, TicketFactory, UserFactory, confirmed_line, days_ago
from ..jobs import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)

STAFF_PASSWORD = "secret-pass-123"  # UserFactory's
CONTACT_EMAIL = "wanda@globex.example"
CONTACT_PASSWORD = "globex-portal-2026"
LINK = re.compile(r"(https?://\S+/portal/password/[^/\s]+/[^/\s]+/)")


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups, put back after a transactional test flushed them: the invitation needs the contacts'."""
    sync_groups()


@pytest.fixture
def staff_page(request, browser, live_server, artifacts):
    """Return `open(user)`: a page signed in at /login/ in a browser context of its own."""
    yield from signed_in_pages(request, browser, live_server.url, artifacts, password=STAFF_PASSWORD)


@pytest.fixture
def stranger_page(browser, live_server):
    """Return `open()`: a page of a browser context of its own, signed in to nothing."""
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def shoot(page, name):
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/walk-{name}.png", full_page=True)


def globex():
    """Globex's confirmed order (10 h at 90.00), its ticket on a team that accepts portal tickets and holds
    disputed time, and Dana's three timesheets on it: 1:30, 0:45, 2:00."""
    customer = CustomerFactory(name="Globex Corporation", email="billing@globex.example")
    line = confirmed_line(order__customer=customer, name="Support hours", quantity=10, price_unit=90)
    team = TeamFactory(name="Network desk", portal_tickets=True, hold_disputed=True)
    agent = UserFactory(username="dana", first_name="Dana", last_name="Scully", role="Agents")
    team.members.add(agent)
    ticket = TicketFactory(team=team, customer=customer, sale_line=line, title="The VPN drops every hour")
    entries = [timesheet_log(user=agent, date=days_ago(3 - n), minutes=minutes, ticket=ticket, description=text)
               for n, (minutes, text) in enumerate([(90, "Diagnosed the VPN gateway"),
                                                    (45, "Called your internet provider"),
                                                    (120, "Replaced the firewall")])]
    return customer, line, ticket, entries


def test_the_whole_portal_walk(staff_page, stranger_page):
    customer, line, ticket, (diagnosed, called, replaced) = globex()
    order = line.order
    manager = UserFactory(username="mona", first_name="Mona", last_name="Manager", role="Managers", is_staff=True)
    accountant = UserFactory(username="alex", first_name="Alex", last_name="Books", role="Accountants",
                             is_staff=True)

    # 1. The manager invites Globex's contact from the customer's page in the admin.
    admin = staff_page(manager)
    admin.goto(f"/admin/sales/customer/{customer.pk}/change/")
    admin.get_by_role("link", name="Invite a contact").click()
    expect(admin).to_have_url(re.compile(rf"/admin/sales/customer/{customer.pk}/invite/$"))
    admin.get_by_label("Email").fill(CONTACT_EMAIL)
    admin.get_by_label("Name").fill("Wanda Globex")
    shoot(admin, "1-invite")
    admin.get_by_role("button", name="Send the invitation").click()
    # (The admin's message list writes every message with a capital first letter, the address's too.)
    expect(admin.locator(".messagelist .success")).to_have_text(
        "Wanda@globex.example is invited: the email with a link to set their password is on its way.")
    contact = Contact.objects.get(user__email=CONTACT_EMAIL)
    assert (contact.customer, contact.invited_by, contact.joined) == (customer, manager, False)

    # 2. The invitation email, sent by its job, carries the link.
    assert mail.outbox == []  # queued, not sent in the request
    run_jobs()
    [email] = mail.outbox
    assert email.to == [CONTACT_EMAIL]
    assert "Hello Wanda Globex," in email.body and "Globex Corporation" in email.body
    link = LINK.search(email.body).group(1)

    # 3. The contact sets a password through it, and is in their portal.
    portal = stranger_page()
    portal.goto(link)
    expect(portal.get_by_role("heading", name="Choose your password")).to_be_visible()
    portal.get_by_label("New password", exact=True).fill(CONTACT_PASSWORD)
    portal.get_by_label("New password again").fill(CONTACT_PASSWORD)
    shoot(portal, "2-password")
    portal.get_by_role("button", name="Save my password").click()
    expect(portal).to_have_url(re.compile(r"/portal/$"))
    expect(portal.locator(".msg.success")).to_have_text("Your password is set. Welcome, Wanda Globex.")
    expect(portal.locator("#customer-heading")).to_have_text("Globex Corporation")
    shoot(portal, "3-home")

    # 4. Their ticket, its timesheets: 4:15 not yet billed.
    portal.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets", exact=True).click()
    portal.get_by_role("link", name="The VPN drops every hour").click()
    expect(portal.locator("#ticket-team")).to_have_text("Network desk")
    for entry, duration in ((diagnosed, "1:30"), (called, "0:45"), (replaced, "2:00")):
        row = portal.locator(f"#entry-{entry.pk}")
        expect(row.locator("[data-col=duration]")).to_have_text(duration)
        expect(row.locator("[data-col=agent]")).to_have_text("Dana Scully")
        expect(row.locator("[data-col=state]")).to_have_text("To invoice")
    expect(portal.locator("#timesheet-totals [data-total=not-billed] .num")).to_have_text("4:15")

    # 5. They dispute the 0:45 with a reason: held out of the invoice.
    row = portal.locator(f"#entry-{called.pk}")
    row.get_by_role("link", name="Dispute").click()
    portal.get_by_label(re.compile("Why do you dispute 0:45")).fill("Nobody asked you to call our provider.")
    portal.locator(f"#dispute-{called.pk}").get_by_role("button", name="Send the dispute").click()
    expect(portal.locator(".msg.success")).to_contain_text("Disputed: 0:45 of")
    expect(row.locator("[data-col=state]")).to_contain_text("Held: disputed")
    expect(row.locator("[data-col=review]")).to_have_text("Disputed: Nobody asked you to call our provider.")
    expect(portal.locator("#timesheet-totals [data-total=not-billed] .num")).to_have_text("3:30")
    expect(portal.locator("#timesheet-totals [data-total=held] .num")).to_have_text("0:45")
    shoot(portal, "4-disputed")

    # 6. The accountant finds it on the order page and resolves it: corrected to 0:30, with an answer.
    books = staff_page(accountant)
    books.goto(f"/orders/{order.pk}/")
    expect(books.locator("[data-col=delivered]")).to_have_text("3.50 h")  # the held 0:45 is out
    dispute = books.locator(f"#disputes #dispute-{called.pk}")
    expect(dispute.locator("[data-col=duration]")).to_contain_text("0:45")
    expect(dispute.locator("[data-col=reason]")).to_contain_text("Nobody asked you to call our provider.")
    form = books.locator(f"#resolve-{called.pk}")
    form.get_by_label("Resolution").select_option(label="Correct the duration")
    form.get_by_label("Corrected duration").fill("0:30")
    form.get_by_label("Answer to the customer").fill("We called on your behalf; we bill half an hour of it.")
    shoot(books, "5-resolve")
    form.get_by_role("button", name="Resolve").click()
    expect(books.locator(".msg.success")).to_contain_text("resolved: corrected from 0:45 to 0:30.")
    expect(books.locator("[data-col=delivered]")).to_have_text("4.00 h")
    review = CustomerReview.objects.get(entry=called)
    assert (review.state, review.resolution, review.minutes_before, review.resolved_by) == (
        "resolved", "corrected", 45, accountant)

    # 7. The customer reloads: the answer, the corrected duration, to invoice again.
    portal.reload()
    row = portal.locator(f"#entry-{called.pk}")
    expect(row.locator("[data-col=duration]")).to_have_text("0:30")
    expect(row.locator("[data-col=state]")).to_contain_text("To invoice")
    expect(row.locator("[data-col=review]")).to_contain_text(
        "Resolved: We called on your behalf; we bill half an hour of it.")
    expect(row.locator("[data-col=review]")).to_contain_text("Corrected from 0:45 to 0:30")
    expect(portal.locator("#timesheet-totals [data-total=not-billed] .num")).to_have_text("4:00")
    expect(row.get_by_role("link", name="Dispute")).to_have_count(0)  # resolved: not again
    shoot(portal, "6-answered")

    # 8. The accountant clicks Create Invoice and posts it: 4.00 h at 90.00.
    books.get_by_role("button", name="Create Invoice").click()
    expect(books.locator("#invoice-state")).to_have_text("Draft")
    books.get_by_role("button", name="Post").click()
    expect(books.locator("#invoice-state")).to_have_text("Posted")
    expect(books.locator("#invoice-total")).to_have_text("€360.00")
    invoice = Invoice.objects.get(sale_order=order)
    assert (invoice.state, invoice.amount_total, invoice.lines.get().quantity) == ("posted", 360, 4)
    assert run_jobs() >= 1  # its PDF, stored once

    # 9. The customer sees it in Invoices, opens it and downloads its PDF.
    portal.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices", exact=True).click()
    listed = portal.locator(f"#invoice-{invoice.pk}")
    expect(listed).to_contain_text(invoice.number)
    expect(listed.locator("[data-col=total]")).to_have_text("€360.00")
    expect(listed.locator("[data-col=due]")).to_have_text("€360.00")
    shoot(portal, "7-invoices")
    listed.get_by_role("link", name=invoice.number).click()
    expect(portal.locator("#invoice-total")).to_have_text("€360.00")
    expect(portal.locator("#invoice-due")).to_have_text("€360.00")
    expect(portal.locator("#invoice-lines [data-col=quantity]").first).to_have_text("4.00")
    expect(portal.locator(f"#entry-{called.pk} [data-col=duration]")).to_have_text("0:30")
    shoot(portal, "8-invoice")
    name, pdf = download(portal, "Download PDF")
    assert name == f"{invoice.number.replace('/', '-')}.pdf"
    assert pdf.startswith(b"%PDF")
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert invoice.number in text and "360.00" in text and "Called your internet provider" in text

    # Everything is in the audit log, each by whom it was done.
    contact.refresh_from_db()
    assert contact.joined
    assert list(AuditEvent.objects.filter(action__in=["contact.invited", "contact.joined", "entry.disputed",
                                                      "entry.dispute_resolved"]).order_by("pk")
                .values_list("action", "actor_name")) == [
        ("contact.invited", "mona"), ("contact.joined", CONTACT_EMAIL), ("entry.disputed", CONTACT_EMAIL),
        ("entry.dispute_resolved", "alex")]
