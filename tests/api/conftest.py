import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ..factories import TeamFactory, TicketFactory, UserFactory, days_ago

API = "/api/v1"


def client_for(user=None) -> APIClient:
    """Return an API client sending `user`'s token, as an integrator's script would; anonymous without one."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def other_agent(db):
    """An agent of another team: sees none of the `ticket` fixture's team's tickets."""
    agent = UserFactory(username="other_agent", role="Agents")
    TeamFactory(name="Other team").members.add(agent)
    return agent


@pytest.fixture
def agent_api(agent):
    return client_for(agent)


@pytest.fixture
def manager_api(manager):
    return client_for(manager)


@pytest.fixture
def accountant_api(accountant):
    return client_for(accountant)


@pytest.fixture
def other_agent_api(other_agent):
    return client_for(other_agent)


@pytest.fixture
def anonymous_api():
    return APIClient()


@pytest.fixture
def team_ticket(ticket, agent):
    """The `ticket` fixture (billed to line A), in a team the agent belongs to."""
    ticket.team.members.add(agent)
    return ticket


def log(client, ticket, duration, *, days=0, **fields):
    """Log time on a ticket through the API; return the response."""
    return client.post(f"{API}/timesheets/", {"ticket": ticket.pk, "duration": duration,
                                              "date": days_ago(days).isoformat(), **fields})


def second_ticket(ticket, **kwargs):
    """Return another ticket of the same team and customer."""
    return TicketFactory(team=ticket.team, customer=ticket.customer, **kwargs)


REQUESTS = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, config):
    if REQUESTS in config.stash:
        terminalreporter.write_line(f"schemathesis: {config.stash[REQUESTS]} generated requests")
