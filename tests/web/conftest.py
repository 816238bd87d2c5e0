"""Personas signed in to the browser screens against the live server (Chromium: tests/conftest.py)."""

import importlib

import pytest

from ..conftest import signed_in_pages
from ..factories import TeamFactory, TicketFactory, UserFactory

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


@pytest.fixture
def open_browser(request, browser, live_server, artifacts):
    """Return `open(user)`: a signed-in page of its own browser context; a failed test screenshots them all."""
    yield from signed_in_pages(request, browser, live_server.url, artifacts, password=PASSWORD)
