"""The Content Security Policy in a real Chromium: every screen's scripts and styles still work, and
the browser reports no violation on the screens, the admin or the API docs."""

import pytest
from playwright.sync_api import expect

from invoicing.services import invoice_create_from_order, invoice_post
from timesheets.services import timesheet_log

from ..factories import days_ago

pytestmark = pytest.mark.django_db(transaction=True)


def watch(page) -> list[str]:
    """Collect the console's Content Security Policy complaints (Chromium reports each refusal there)."""
    complaints = []
    page.on("console", lambda message: complaints.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text else None)
    return complaints


def test_the_screens_and_their_scripts_work_under_the_policy(open_browser, member, ticket, line_a, manager):
    timesheet_log(user=member, date=days_ago(1), minutes=90, ticket=ticket, description="Reset the spooler")
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))

    desk = open_browser(member)
    complaints = watch(desk)
    desk.goto(f"/tickets/{ticket.pk}/")
    desk.get_by_role("tab", name="Description").click()  # app.js switches tabs
    expect(desk.locator("#timesheets")).to_be_hidden()
    desk.get_by_role("tab", name="Timesheets").click()
    expect(desk.locator("#timesheets")).to_be_visible()
    desk.get_by_role("button", name="Start timer").click()
    expect(desk.locator(".timer.running")).to_be_visible()
    # Styles from the static file apply: the top bar is dark.
    assert desk.locator(".topbar").evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(28, 37, 56)"

    boss = open_browser(manager)
    complaints += watch(boss)
    boss.goto("/orders/new/")
    rows = boss.locator("#order-lines tbody tr")
    count = rows.count()
    boss.locator("[data-add-line]").click()  # app.js adds a line from the <template>
    expect(rows).to_have_count(count + 1)
    boss.goto(f"/invoices/{invoice.pk}/")
    expect(boss.locator("#history")).to_contain_text("Posted")
    for address in ["/admin/", f"/admin/tickets/ticket/{ticket.pk}/change/", "/admin/timesheets/timeentry/",
                    "/admin/audit/auditevent/"]:
        boss.goto(address)
        expect(boss.locator("#content")).to_be_visible()
    assert complaints == []


def test_the_api_docs_render_under_the_policy(open_browser, manager):
    page = open_browser(manager)
    complaints = watch(page)
    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15_000)
    page.goto("/api/v1/redoc/")
    expect(page.locator("#redoc-container h1, redoc h1").first).to_be_visible(timeout=15_000)
    # ReDoc's page asks for Google's fonts and its logo from its CDN: refused, as nothing leaves the site.
    assert [text for text in complaints if "fonts.googleapis.com" not in text and "cdn.redoc.ly" not in text] == []
