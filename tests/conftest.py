import os
from pathlib import Path

import pytest
from django.db import connection

from sales.models import WorkType

from .factories import TicketFactory, UserFactory, confirmed_line


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", role="Agents")


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role="Managers", is_staff=True)


@pytest.fixture
def accountant(db):
    return UserFactory(username="accountant", role="Accountants", is_staff=True)


@pytest.fixture
def line_a(db):
    """Order line A: Service on Timesheet, 90/h, 50 h ordered, on a confirmed order."""
    return confirmed_line(quantity=50, price_unit=90)


@pytest.fixture
def ticket(line_a):
    """A ticket of a reinvoicing team, billed to line A."""
    return TicketFactory(customer=line_a.order.customer, sale_line=line_a)


@pytest.fixture
def kinds(db):
    """The demo's work types (DESIGN Rule 13), by name: billable, billable, non-billable, no charge."""
    return {name: WorkType.objects.create(name=name, billing=billing) for name, billing in (
        ("Remote support", "billable"), ("On-site", "billable"), ("Internal", "non_billable"),
        ("Goodwill", "no_charge"))}


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's row locks (make test starts one)"
)


@pytest.fixture(autouse=True)
def english_after():
    """Each test starts and ends in English: a French request of the test client leaves French active in
    the process, which would change the next test's messages."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def no_billing_drift(request):
    """After every test that touched the database, every stored billing figure matches the entries,
    and every entry bills the line Rule 4 gives it, of its own customer (placement.misplaced)."""
    uses_db = request.node.get_closest_marker("django_db") or "db" in request.fixturenames
    if uses_db:
        request.getfixturevalue("db")  # set up first, torn down after this check
    yield
    if uses_db:
        from invoicing.selectors import billing_drift

        from .placement import misplaced

        assert [str(d) for d in billing_drift()] == []
        assert misplaced() == []


# --- The browser: tests/web/ against the live server, tests/demo/ against `make run`'s -----------
# One Chromium for the whole run: a second sync Playwright in the same thread fails to start.

# Playwright's sync API runs an event loop in the test's thread; the test code's ORM
# calls there are synchronous all the same.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs it (scripts/ensure-debian.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts(request, tmp_path_factory) -> Path:
    """Where a failed browser test leaves its screenshots: $TEST_ARTIFACTS, else the pytest tmp folder."""
    folder = os.environ.get("TEST_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.getbasetemp() / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def signed_in_pages(request, browser, base_url, artifacts, *, password=None):
    """Yield `open(user, password)`: a page signed in to the server at `base_url`, in a browser context of
    its own; then close the contexts, saving screenshots of their pages if the test failed."""
    contexts = []

    def open_as(user, password=password):
        username = getattr(user, "username", user)  # a user, or the name of one on a server of its own
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, accept_downloads=True)
        context.set_default_timeout(10_000)
        contexts.append((username, context))
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # data-confirm asks before destructive actions
        page.goto("/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    yield open_as
    report = getattr(request.node, "report_call", None)
    failed = report is None or report.failed
    for username, context in contexts:
        if failed:
            for n, page in enumerate(context.pages):
                stem = artifacts / f"{request.node.name}-{username}-{n}"
                try:
                    page.screenshot(path=f"{stem}.png", full_page=True)
                    Path(f"{stem}.html").write_text(page.content())
                except Exception as error:  # a crashed page must not hide the test's own failure
                    print(f"could not save {stem}: {error}")
                else:
                    print(f"screenshot of {username}'s page {page.url}: {stem}.png")
        context.close()
