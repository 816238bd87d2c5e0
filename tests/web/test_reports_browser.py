"""The overview and the Time report in a real Chromium (issue 15): a manager lands on the Helpdesk
overview, opens the Time report from the top bar, reads the chart's bars and the table's figures, groups by
agent with the form, follows a row to its entries and downloads the export; the page breaks no rule of the
Content Security Policy (the chart is SVG drawn on the server, coloured by the stylesheet)."""

import csv
import datetime
import io
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from timesheets.services import timesheet_log

from ..browser import download
from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime.date(2025, 3, 3)
SHOTS = os.environ.get("REPORTS_SCREENSHOTS")  # a folder: the test saves its screens there to be looked at


def shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def cells(row) -> list[str]:
    return [text.strip() for text in row.locator("td, th").all_inner_texts()]


def test_the_overview_and_the_time_report_in_chromium(open_browser, manager, member, ticket, kinds):
    bob = UserFactory(username="bob", first_name="Bob", last_name="Builder", role="Agents")
    ticket.team.members.add(bob)
    for user, day, minutes, work_type in [(member, 1, 90, None), (member, 2, 45, kinds["Internal"]),
                                          (bob, 8, 30, None)]:
        timesheet_log(user=user, ticket=ticket, date=MONDAY + datetime.timedelta(days=day), minutes=minutes,
                      description=f"Day {day}", work_type=work_type)
    timesheet_log(user=member, ticket=ticket, date=timezone.localdate(), minutes=20, description="Today")

    page = open_browser(manager)
    complaints = []
    page.on("console", lambda message: complaints.append(message.text)
            if "Content Security Policy" in message.text else None)
    card = page.locator(f"#team-{ticket.team.pk}")
    expect(card).to_contain_text(ticket.team.name)
    expect(card.locator('[data-figure="team-week"]')).to_have_text("0:20")
    expect(card.locator('[data-figure="unbilled"]')).to_have_text("2:20")

    shot(page, "overview")
    page.locator("nav[aria-label=Main]").get_by_role("link", name="Reports").click()
    page.get_by_role("heading", name="Time", exact=True).click()
    expect(page.get_by_role("heading", name="Time", level=1)).to_be_visible()
    page.get_by_label("From").fill("2025-03-03")
    page.get_by_label("To", exact=True).fill("2025-03-16")
    page.get_by_role("button", name="Show").click()

    shot(page, "time-report")
    bars = page.locator("#report-chart g.bar")
    expect(bars).to_have_count(2)
    assert [bars.nth(n).locator("> title").text_content() for n in range(2)] == [
        "2025-W10: 2:15 (Billable 1:30, Non-billable 0:45, No charge 0:00)",
        "2025-W11: 0:30 (Billable 0:30, Non-billable 0:00, No charge 0:00)"]
    # The stylesheet colours the bars (no style attribute: the policy would refuse it).
    billable = page.locator("#report-chart rect.seg.s0").first
    assert billable.evaluate("el => getComputedStyle(el).fill") == "rgb(52, 81, 178)"
    assert cells(page.locator("#report-table tfoot tr")) == ["Total", "", "2:00", "0:45", "0:00", "2:45", "0:00",
                                                             "2:00", "", ""]

    page.get_by_label("Group by").select_option("agent")
    page.get_by_label("Period").select_option("")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("#report-table tbody tr")
    expect(rows).to_have_count(2)
    assert [cells(rows.nth(n)) for n in range(2)] == [
        ["agent", "1:30", "0:45", "0:00", "2:15", "0:00", "1:30", "2", "Entries"],
        ["Bob Builder", "0:30", "0:00", "0:00", "0:30", "0:00", "0:30", "1", "Entries"]]
    assert page.get_by_label("Group by").input_value() == "agent"

    shot(page, "time-by-agent")
    name, body = download(page, "Export CSV")
    assert name == "time-report-2025-03-03-2025-03-16.csv"
    assert list(csv.reader(io.StringIO(body.decode())))[1:] == [
        ["agent", "1:30", "0:45", "0:00", "2:15", "0:00", "1:30", "2"],
        ["Bob Builder", "0:30", "0:00", "0:00", "0:30", "0:00", "0:30", "1"],
        ["Total", "2:00", "0:45", "0:00", "2:45", "0:00", "2:00", ""]]

    rows.nth(1).get_by_role("link", name="Entries").click()
    entries = page.locator("#time-entries tbody tr")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Day 8")
    expect(page.locator("#drill-filters")).to_contain_text("Agent: Bob Builder")
    assert complaints == []
