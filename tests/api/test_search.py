"""`?search=` on /api/v1/tickets/, /customers/ and /timesheets/ (issue 16): the domains' search selectors, as
the screens' search boxes use them, never wider than the list; hostile text is cleaned, never a 500."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.limits import SEARCH_LENGTH
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, TicketFactory, days_ago
from .conftest import API

HOSTILE = ["%", "_", "\\", "'", "\x00", "x" * 100_000, "%00", "#" + "9" * 40, " "]


@pytest.fixture
def desk(team_ticket, agent):
    """The agent's team's tickets: the fixture's, one about toner for Globex, one with wildcard characters."""
    globex = CustomerFactory(name="Globex")
    toner = TicketFactory(team=team_ticket.team, customer=globex, title="Toner smears",
                          description="Since the new cartridge")
    wild = TicketFactory(team=team_ticket.team, customer=team_ticket.customer, title=r"Disk 100% full in C:\tmp_a")
    timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=toner, description="Replaced the TONER cartridge")
    timesheet_log(user=agent, date=days_ago(1), minutes=15, ticket=wild, description="Freed 10% of C:\\tmp_a")
    return {"ticket": team_ticket, "toner": toner, "wild": wild}


def titles(client, search) -> list[str]:
    response = client.get(f"{API}/tickets/", {"search": search})
    assert response.status_code == 200, response.content
    return [ticket["title"] for ticket in response.json()["results"]]


def test_tickets_by_title_description_customer_and_number(agent_api, desk):
    assert titles(agent_api, "toner") == ["Toner smears"]
    assert titles(agent_api, "CARTRIDGE") == ["Toner smears"]
    assert titles(agent_api, "globex") == ["Toner smears"]
    assert titles(agent_api, f"#{desk['wild'].pk}") == [desk["wild"].title]
    assert titles(agent_api, f"#{desk['ticket'].pk}") == [desk["ticket"].title]
    assert titles(agent_api, "100%") == [desk["wild"].title]
    assert titles(agent_api, "p_a") == [desk["wild"].title]
    assert titles(agent_api, "m_a") == []  # "_" matches itself only
    assert titles(agent_api, "\\tmp") == [desk["wild"].title]
    assert titles(agent_api, "") == [desk["wild"].title, "Toner smears", desk["ticket"].title]


def test_hostile_searches_are_cleaned_not_refused(agent_api, manager_api, desk):
    assert titles(agent_api, "ton\x00er") == ["Toner smears"]  # PostgreSQL refuses NUL in text: dropped
    assert titles(agent_api, "Toner smears" + " " * SEARCH_LENGTH + "zzz") == ["Toner smears"]  # cut, then stripped
    for route in ("tickets", "customers", "timesheets"):
        for text in HOSTILE:
            response = manager_api.get(f"{API}/{route}/", {"search": text})
            assert response.status_code == 200, (route, text[:10], response.content[:200])
    assert manager_api.get(f"{API}/tickets/", {"search": "x" * 100_000}).json()["count"] == 0
    assert manager_api.get(f"{API}/tickets/", {"search": "\x00"}).json()["count"] == 3  # nothing left: no filter


def test_search_never_widens_what_an_agent_sees(other_agent_api, desk):
    """An agent of another team finds none of the team's tickets nor time, whatever the search."""
    for text in ("toner", "globex", f"#{desk['toner'].pk}", str(desk["toner"].pk), "%", "_", ""):
        assert titles(other_agent_api, text) == []
        assert other_agent_api.get(f"{API}/timesheets/", {"search": text}).json()["count"] == 0


def test_customers_by_name(agent_api, desk):
    CustomerFactory(name="100% Cotton_Shirts")

    def names(search):
        return [c["name"] for c in agent_api.get(f"{API}/customers/", {"search": search}).json()["results"]]

    assert names("GLOB") == ["Globex"]
    assert names("%") == names("n_s") == ["100% Cotton_Shirts"]
    assert names("o_t") == []  # "_" matches itself only: not "ott"


def test_time_entries_by_description(agent_api, desk):
    def described(search):
        return [e["description"] for e in agent_api.get(f"{API}/timesheets/", {"search": search}).json()["results"]]

    assert described("toner") == ["Replaced the TONER cartridge"]
    assert described("10%") == described("p_a") == ["Freed 10% of C:\\tmp_a"]
    assert described("1_%") == []
    assert described("") == ["Freed 10% of C:\\tmp_a", "Replaced the TONER cartridge"]


def _queries(client, address) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    return len(captured)


def test_a_search_sends_as_many_queries_for_one_match_as_for_fifty(manager_api, desk):
    """The token with the user and roles; the customers named like the text; the COUNT; the page of tickets,
    each one's hours a correlated sum in that one query."""
    for n in range(50):
        TicketFactory(team=desk["ticket"].team, customer=desk["ticket"].customer, title=f"Paper {n} jams")

    one = _queries(manager_api, f"{API}/tickets/?search=smears")
    fifty = _queries(manager_api, f"{API}/tickets/?search=jams")

    assert one == fifty


def test_the_schema_documents_search(anonymous_api):
    schema = anonymous_api.get(f"{API}/schema/?format=json").json()
    for route, says in (("tickets", "title, description or customer's name"), ("customers", "name holds"),
                        ("timesheets", "description holds")):
        [search] = [p for p in schema["paths"][f"{API}/{route}/"]["get"]["parameters"] if p["name"] == "search"]
        assert search["in"] == "query" and search["schema"] == {"type": "string"}
        assert says in search["description"] and "`%` and `_` match themselves" in search["description"]
