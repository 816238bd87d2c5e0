"""Personas signed in to the browser screens against the live server (Chromium: tests/conftest.py)."""

import pytest

from core.roles import sync_groups

from ..conftest import signed_in_pages
from ..factories import TeamFactory, TicketFactory, UserFactory

PASSWORD = "secret-pass-123"  # UserFactory's


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups, put back after a transactional test flushed them (core.roles.GROUPS)."""
    sync_groups()


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


@pytest.fixture
def open_browser(request, browser, live_server, artifacts):
    """Return `open(user)`: a signed-in page of its own browser context; a failed test screenshots them all."""
    yield from signed_in_pages(request, browser, live_server.url, artifacts, password=PASSWORD)
