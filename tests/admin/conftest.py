import pytest


@pytest.fixture
def manager_client(client, manager):
    """A browser logged in as a manager: staff, in the Managers group."""
    client.force_login(manager)
    return client
