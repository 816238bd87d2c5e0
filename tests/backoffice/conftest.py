import pytest
from django.test import Client

from ..security.conftest import world  # noqa: F401  (the two teams of the permission matrix, and team A's lead)


@pytest.fixture
def manager_client(client, manager):
    """A browser logged in as a manager: staff, in the Managers group."""
    client.force_login(manager)
    return client


@pytest.fixture
def lead_client(world):  # noqa: F811
    """A browser logged in as team A's lead: an agent who is staff, so the admin is open to them."""
    client = Client()
    client.force_login(world.users["lead_a"])
    return client
