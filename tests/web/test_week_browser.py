"""My Timesheets in Chromium (issue 17), with the keyboard only: a row added by searching its ticket, cells typed
and saved as they are left (static/js/week.js), the totals following, all of it stored; a read-only cell says why."""

import datetime
from decimal import Decimal

from playwright.sync_api import expect

from invoicing.services import invoice_create_from_order
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log
from timesheets.week import week_start

from ..browser import lookup_box
from ..factories import TicketFactory, days_ago
from .conftest import PASSWORD
from .test_content_security_policy import watch

MONDAY = week_start(days_ago(7))  # last week: every day of it is past
DAY = [MONDAY + datetime.timedelta(days=n) for n in range(7)]


def test_an_agent_fills_a_week_with_the_keyboard(open_browser, member, ticket, line_a):
    ticket.title = "Fax jams"
    ticket.save()
    timesheet_log(user=member, date=DAY[2], minutes=60, ticket=ticket)
    invoice = invoice_create_from_order(order=line_a.order)
    toner = TicketFactory(team=ticket.team, customer=ticket.customer, sale_line=line_a, title="Toner smears")
    page = open_browser(member)
    complaints = watch(page)

    page.get_by_role("link", name="My Timesheets").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My Timesheets")).to_be_visible()
    page.get_by_role("link", name="← Previous week").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#week-label")).to_contain_text(f"{DAY[0]} to {DAY[6]}")

    # The read-only invoiced cell says why on hover and to screen readers.
    reason = f"Invoiced on {invoice}: invoiced time cannot be changed."
    fax = page.locator(f"tr[data-row='ticket-{ticket.pk}']")
    expect(fax.locator(f"td[data-date='{DAY[2]}'] .cell-text")).to_have_attribute("title", reason)
    expect(fax.locator(f"td[data-date='{DAY[2]}'] .visually-hidden")).to_have_text(f" {reason}")
    expect(fax.locator(f"td[data-date='{DAY[2]}'] input")).to_have_count(0)

    box = lookup_box(page, "Add a ticket")
    box.focus()
    page.keyboard.type("toner")
    expect(page.get_by_role("option", name=f"#{toner.pk} Toner smears · {ticket.customer}")).to_be_visible()
    page.keyboard.press("Enter")  # picks
    page.keyboard.press("Enter")  # adds the row
    row = page.locator(f"tr[data-row='ticket-{toner.pk}']")
    monday, tuesday = (row.get_by_role("textbox", name=f"#{toner.pk} Toner smears, {day:%A} {day}")
                       for day in DAY[:2])
    expect(monday).to_be_focused()  # the row added is where typing starts

    page.keyboard.type("1:30")
    page.keyboard.press("Tab")
    expect(tuesday).to_be_focused()
    page.keyboard.type("45m")
    page.keyboard.press("Enter")  # saves, and moves down to the next row's Tuesday
    expect(fax.get_by_role("textbox", name=f"#{ticket.pk} Fax jams, Tuesday {DAY[1]}")).to_be_focused()
    expect(row.locator("[data-total=row]")).to_have_text("2:15")
    expect(monday).to_have_value("1:30")
    expect(tuesday).to_have_value("0:45")
    expect(page.locator(f"tfoot [data-total=day][data-date='{DAY[1]}']")).to_have_text("0:45")
    expect(page.locator("#week-total")).to_have_text("3:15")
    expect(page.locator("#week-status")).to_have_text(f"Saved 0:45 on {DAY[1]}.")

    # A duration refused stays in its cell with the message; Escape puts the saved value back.
    for _ in range(8):  # back to the Fax row's Monday and its link, then along the Toner row from Sunday to Tuesday
        page.keyboard.press("Shift+Tab")
    expect(tuesday).to_be_focused()
    page.keyboard.type("abc")
    page.keyboard.press("Enter")
    expect(row.locator(f"td[data-date='{DAY[1]}'] .cell-error")).to_have_text(
        "“abc” is not a duration. Enter a duration like 1:30, 1.5, 1h30 or 90m.")
    expect(tuesday).to_have_attribute("aria-invalid", "true")
    tuesday.focus()
    page.keyboard.press("Escape")
    expect(tuesday).to_have_value("0:45")
    expect(row.locator(f"td[data-date='{DAY[1]}'] .cell-error")).to_be_hidden()

    page.reload()
    expect(monday).to_have_value("1:30")
    expect(tuesday).to_have_value("0:45")
    expect(row.locator("[data-total=row]")).to_have_text("2:15")
    expect(page.locator("#week-total")).to_have_text("3:15")
    assert sorted(TimeEntry.objects.filter(ticket=toner).values_list("date", "minutes")) == [(DAY[0], 90),
                                                                                           (DAY[1], 45)]

    # Save, clicked straight after typing, saves the cell once (the script's save, not the form's as well).
    wednesday = row.get_by_role("textbox", name=f"#{toner.pk} Toner smears, Wednesday {DAY[2]}")
    wednesday.fill("2")
    page.get_by_role("button", name="Save").click()
    expect(wednesday).to_have_value("2:00")
    expect(row.locator("[data-total=row]")).to_have_text("4:15")
    expect(page.locator("#week-total")).to_have_text("5:15")
    assert sorted(TimeEntry.objects.filter(ticket=toner).values_list("date", "minutes")) == [
        (DAY[0], 90), (DAY[1], 45), (DAY[2], 120)]
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("5.25")  # 1:00 invoiced + 4:15
    assert complaints == []


def test_without_the_script_the_grid_is_one_form(browser, live_server, member, ticket):
    """JavaScript off: Enter sends the form, which saves every cell changed."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login/")
        page.get_by_label("Username").fill(member.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"/timesheets/week/?week={MONDAY}&add={ticket.pk}")
        row = page.locator(f"tr[data-row='ticket-{ticket.pk}']")
        row.get_by_role("textbox", name=f"#{ticket.pk} {ticket.title}, Monday {DAY[0]}").fill("1h")
        wednesday = row.get_by_role("textbox", name=f"#{ticket.pk} {ticket.title}, Wednesday {DAY[2]}")
        wednesday.fill("2")
        wednesday.press("Enter")
        expect(page.locator(".msg.success")).to_have_text("Saved 2 cells.")
        expect(row.locator("[data-total=row]")).to_have_text("3:00")
    finally:
        context.close()
    assert sorted(TimeEntry.objects.values_list("date", "minutes")) == [(DAY[0], 60), (DAY[2], 120)]
