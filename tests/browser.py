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


def lookup_box(scope, label):
    """The text box of a searchable select (static/js/lookup.js); until the script has replaced the <select>,
    none: a locator of the label alone could catch the select in between, and wait on it once hidden."""
    return scope.locator("input[role=combobox]").and_(scope.get_by_label(label, exact=True))


def pick(scope, label, typed, choice):
    """Choose `choice` in a searchable select: type `typed` in its box, click the option."""
    lookup_box(scope, label).fill(typed)
    scope.get_by_role("option", name=choice, exact=True).click()
