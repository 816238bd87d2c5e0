"""What the browser tests do on a page again and again (Playwright)."""

from pathlib import Path

from playwright.sync_api import expect


def log_time(page, duration, description):
    """Fill the Timesheets tab's "Log time" form and submit it."""
    form = page.locator("#log-time")
    form.get_by_label("Duration").fill(duration)
    form.get_by_label("Description").fill(description)
    form.get_by_role("button", name="Log time").click()
    expect(page.locator(".msg.success")).to_contain_text("Logged")


def download(page, link):
    """Click the link and return the download's name and bytes."""
    with page.expect_download() as started:
        page.get_by_role("link", name=link).click()
    return started.value.suggested_filename, Path(started.value.path()).read_bytes()


def pick(scope, label, typed, choice):
    """Choose `choice` in a searchable select (static/js/lookup.js): type `typed` in its box, click the option."""
    scope.get_by_label(label, exact=True).fill(typed)
    scope.get_by_role("option", name=choice, exact=True).click()
