"""Personas signed in to the browser screens, and a real Chromium for the browser tests."""

import importlib
import os
from pathlib import Path

import pytest

from ..factories import TeamFactory, TicketFactory, UserFactory

# Playwright's sync API runs an event loop in the test's thread; the test code's ORM
# calls there are synchronous all the same.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "secret-pass-123"  # UserFactory's


@pytest.fixture(autouse=True)
def role_groups(db):
    """The groups of migration invoicing 0003_roles, put back after a transactional test flushed them."""
    from django.contrib.auth.models import Group, Permission

    roles = importlib.import_module("invoicing.migrations.0003_roles").ROLES
    audit_readers = importlib.import_module("audit.migrations.0002_append_only_and_roles").READERS
    for role, grants in roles.items():
        group, created = Group.objects.get_or_create(name=role)
        if created:
            for app, models in grants.items():
                codenames = [f"{action}_{model}" for model, actions in models.items() for action in actions]
                group.permissions.add(*Permission.objects.filter(content_type__app_label=app, codename__in=codenames))
            if role in audit_readers:
                group.permissions.add(*Permission.objects.filter(content_type__app_label="audit",
                                                                 codename="view_auditevent"))


@pytest.fixture
def member(agent, ticket):
    """The agent, a member of the ticket's team."""
    ticket.team.members.add(agent)
    return agent


@pytest.fixture
def outsider(db):
    """An agent of another team."""
    user = UserFactory(username="outsider", role="Agents")
    TeamFactory(name="Other team").members.add(user)
    return user


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(client, member):
    return signed_in(client, member)


@pytest.fixture
def accountant_client(client, accountant):
    return signed_in(client, accountant)


@pytest.fixture
def manager_client(client, manager):
    return signed_in(client, manager)


@pytest.fixture
def other_ticket(line_a):
    """A ticket of another team, same customer."""
    return TicketFactory(customer=line_a.order.customer, title="Another team's ticket")


# --- The browser ------------------------------------------------------------------------

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


@pytest.fixture
def open_browser(request, browser, live_server, artifacts):
    """Return `open(user)`: a signed-in page of its own browser context; a failed test screenshots them all."""
    yield from signed_in_pages(request, browser, live_server.url, artifacts)


def signed_in_pages(request, browser, base_url, artifacts):
    """Yield `open(user)` for the server at `base_url`, then close its contexts (the body of `open_browser`)."""
    contexts = []

    def open_as(user, password=PASSWORD):
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
