"""A customer's dispute resolved in a real Chromium (issue 18): the accountant finds it from the overview, reads it
on the order page, corrects the time to 0:45 with an answer, and Create Invoice's preview bills the corrected time.

The `portal` world (tests/portal/conftest.py): side A's line bills 10 h at 90.00, untaxed; its ticket has 1:00
invoiced, and 1:30 and 0:30 not invoiced yet, on a team that holds disputed time.
"""

from decimal import Decimal

from playwright.sync_api import expect

from invoicing.selectors import billing_drift
from timesheets.disputes import entry_acknowledge, entry_dispute
from timesheets.models import CustomerReview

from ..portal.conftest import portal  # noqa: F401  (two customers' worlds, each with its contact)

REASON = "The call took half an hour, not an hour and a half."
ANSWER = "Agreed: 0:45 with the follow-up check."


def order_line(page):
    return page.locator("#order-lines tbody tr").first


def test_the_accountant_corrects_a_disputed_entry_and_the_preview_follows(open_browser, portal):  # noqa: F811
    a = portal["a"]
    entry_acknowledge(entry=a.other_open_entry, contact=a.contact)
    entry_dispute(entry=a.open_entry, contact=a.contact, reason=REASON)
    books = open_browser(portal["accountant"])

    # The overview counts the open dispute; its list leads to the order.
    expect(books.locator("#open-disputes .figure")).to_have_text("1")
    books.locator("#open-disputes .figure a").click()
    expect(books.locator("h1")).to_contain_text("Open disputes")
    books.locator(f"#dispute-{a.open_entry.pk}").get_by_role("link", name=a.line.order.name).click()

    # The order page: Delivered without the held 1:30, the notice, the Disputed time card.
    expect(books.locator("h1")).to_contain_text(a.line.order.name)
    expect(order_line(books).locator("[data-col=delivered]")).to_have_text("1.50 h")  # 1:00 + 0:30
    expect(order_line(books).locator("[data-col=to-invoice] strong")).to_have_text("0.50 h")
    expect(books.locator("#disputes-notice")).to_contain_text(
        "1 timesheet (1:30) is disputed by the customer: held until resolved.")
    row = books.locator(f"#dispute-{a.open_entry.pk}")
    expect(row.locator("[data-col=duration]")).to_contain_text("1:30")
    expect(row.locator("[data-col=duration] .badge")).to_have_text("held")
    expect(row.locator("[data-col=reason] q")).to_have_text(REASON)
    expect(row).to_contain_text("Contact A")
    expect(row).to_contain_text(a.ticket.title)

    # Before: the preview bills the 0:30 alone, and says why the 1:30 is left out.
    books.get_by_role("button", name="Preview").click()
    expect(books.locator("#preview-untaxed")).to_have_text("€45.00")
    expect(books.locator("#preview-total")).to_have_text("€45.00")
    expect(books.locator("#left-out-reasons tbody tr td")).to_have_text(
        ["Disputed by the customer (held until resolved)", "1", "1:30"])
    books.locator("#disputes-notice").get_by_role("link", name="See the disputed time").click()

    # Resolve: the corrected duration is asked only for "Correct the duration".
    form = books.locator(f"#resolve-{a.open_entry.pk}")
    expect(form.get_by_label("Corrected duration")).to_be_hidden()
    form.get_by_label("Resolution").select_option(label="Correct the duration")
    expect(form.get_by_label("Corrected duration")).to_be_visible()
    form.get_by_label("Corrected duration").fill("0:45")
    form.get_by_label("Answer to the customer").fill(ANSWER)
    form.get_by_role("button", name="Resolve").click()
    expect(books.locator(".msg.success")).to_contain_text("resolved: corrected from 1:30 to 0:45.")
    expect(books).to_have_url(f"{books.url.split('#')[0].split('?')[0]}#disputes")
    expect(books.locator("#disputes")).to_have_count(0)
    expect(books.locator("#disputes-notice")).to_have_count(0)
    expect(order_line(books).locator("[data-col=delivered]")).to_have_text("2.25 h")  # 1:00 + 0:45 + 0:30
    expect(order_line(books).locator("[data-col=to-invoice] strong")).to_have_text("1.25 h")

    # After: the preview bills 0:45 + 0:30 = 1.25 h × 90.00 = 112.50 (the line has no tax).
    books.get_by_role("button", name="Preview").click()
    expect(books.locator("#preview-lines .invoice-line [data-col=quantity]")).to_have_text(["1.25"])
    expect(books.locator("#preview-untaxed")).to_have_text("€112.50")
    expect(books.locator("#preview-tax")).to_have_text("€0.00")
    expect(books.locator("#preview-total")).to_have_text("€112.50")
    expect(books.locator("#left-out-reasons")).to_have_count(0)

    # The ticket shows the resolution beside the entry, as the customer reads it on the portal.
    books.goto(f"/tickets/{a.ticket.pk}/")
    review = books.locator(f"#entry-{a.open_entry.pk} .review")
    expect(review.locator(".badge")).to_have_text("Resolved (corrected)")
    expect(review.locator(".change")).to_have_text("1:30 → 0:45")
    expect(review.locator("q.answer")).to_have_text(ANSWER)

    review = CustomerReview.objects.select_related("entry").get(entry=a.open_entry)
    assert (review.state, review.resolution, review.minutes_before, review.entry.minutes, review.answer) == (
        "resolved", "corrected", 90, 45, ANSWER)
    a.line.refresh_from_db()
    assert (a.line.delivered, a.line.to_invoice) == (Decimal("2.25"), Decimal("1.25"))
    assert billing_drift() == []
