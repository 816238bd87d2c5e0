"""Disputed time in the staff's API (issue 18): the open disputes (`disputes/`), their resolution
(`timesheets/{id}/resolve/`: kept, written off, corrected), each timesheet's `review` and `held`, and the portal's
settings on the team (`portal_tickets`, `hold_disputed`) and the company (`portal_shows_agents`).

The `portal` fixture's customers A and B each dispute their 1:30 entry (not invoiced) on a team that holds disputed
time: it bills 0 until resolved; their line (10 h at 90.00) then delivers 1:00 invoiced + 0:30 = 1.50 h.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from sales.models import Company
from tickets.models import HelpdeskTeam
from timesheets.disputes import entry_acknowledge, entry_dispute
from timesheets.models import CustomerReview, TimeEntry
from timesheets.services import timesheet_log

from ..factories import TicketFactory, days_ago
from ..portal import conftest as portal_world
from .conftest import API, client_for

portal = portal_world.portal  # the two customers' fixture of tests/portal/, shared


@pytest.fixture
def disputed(portal):
    """Both customers dispute their 1:30 entry; A acknowledges its 0:30."""
    for side in (portal["a"], portal["b"]):
        entry_dispute(entry=side.open_entry, contact=side.contact, reason=f"Too long for {side.name}")
    entry_acknowledge(entry=portal["a"].other_open_entry, contact=portal["a"].contact)
    return portal


def state() -> tuple:
    return (list(TimeEntry.objects.order_by("pk").values_list("pk", "minutes", "billable_minutes", "held",
                                                              "written_off")),
            list(CustomerReview.objects.order_by("pk").values_list()), AuditEvent.objects.count())


def delivered(side) -> int:
    side.line.refresh_from_db()
    return side.line.delivered_minutes


def dispute_body(side):
    entry, review = side.open_entry, CustomerReview.objects.get(entry=side.open_entry)
    return {"id": entry.pk, "date": entry.date.isoformat(), "user": side.agent.pk,
            "agent": f"Agent {side.name.upper()}", "ticket": side.ticket.pk, "ticket_title": side.ticket.title,
            "sale_line": side.line.pk,
            "description": entry.description, "minutes": 90, "duration": "1:30", "billable_minutes": 0, "held": True,
            "reason": f"Too long for {side.name}", "disputed_at": review.at.isoformat().replace("+00:00", "Z"),
            "contact": f"Contact {side.name.upper()}"}


@pytest.mark.parametrize("who", ["accountant", "manager"])
def test_open_disputes_oldest_first(disputed, who):
    a, b = disputed["a"], disputed["b"]
    api = client_for(disputed[who])

    response = api.get(f"{API}/disputes/")

    assert response.status_code == 200
    assert response.json() == {"count": 2, "next": None, "previous": None,
                               "results": [dispute_body(a), dispute_body(b)]}
    assert api.get(f"{API}/disputes/?order={b.line.order_id}").json()["results"] == [dispute_body(b)]
    assert api.get(f"{API}/disputes/?ticket={a.ticket.pk}").json()["results"] == [dispute_body(a)]
    assert api.get(f"{API}/disputes/?ticket={a.ticket.pk}&order={b.line.order_id}").json()["count"] == 0
    assert api.get(f"{API}/disputes/?order={10**6}").json()["count"] == 0


@pytest.mark.parametrize("query, refusal", [
    ("order=abc", {"order": ["A valid integer is required."]}),
    ("ticket=1.5", {"ticket": ["A valid integer is required."]}),
    ("ticket=0", {"ticket": ["Ensure this value is greater than or equal to 1."]}),
    (f"order={10**30}", {"order": ["Ensure this value is less than or equal to 9223372036854775807."]}),
])
def test_a_bad_filter_is_refused(disputed, query, refusal):
    response = client_for(disputed["accountant"]).get(f"{API}/disputes/?{query}")

    assert (response.status_code, response.json()) == (400, refusal)


def test_agents_neither_list_nor_resolve_disputes(disputed):
    a = disputed["a"]
    api = client_for(a.agent)
    before = state()

    response = api.get(f"{API}/disputes/")
    assert (response.status_code, response.json()) == (
        403, {"detail": "Only accountants and managers resolve disputed time."})
    response = api.post(f"{API}/timesheets/{a.open_entry.pk}/resolve/", {"resolution": "kept", "answer": "As logged."})
    assert (response.status_code, response.json()) == (
        403, {"detail": "Only accountants and managers resolve disputed time."})
    assert state() == before


def test_the_list_does_not_grow_with_disputes(disputed):
    api = client_for(disputed["accountant"])
    a = disputed["a"]

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert api.get(f"{API}/disputes/").status_code == 200
        return len(captured)

    few = count()
    for i in range(27):
        ticket = TicketFactory(team=a.team, customer=a.contact.customer, sale_line=a.line)
        entry = timesheet_log(user=a.agent, date=days_ago(i % 5), minutes=15, ticket=ticket)
        entry_dispute(entry=entry, contact=a.contact, reason=f"Reason {i}")
    # The token with its user and roles, COUNT(*), the page (entries, their agent, ticket, review and contact).
    assert few == count() == 3
    assert api.get(f"{API}/disputes/").json()["count"] == 29


# --- Resolving -------------------------------------------------------------------------------------

def resolve(api, entry, **body):
    return api.post(f"{API}/timesheets/{entry.pk}/resolve/", body)


def test_kept_bills_the_time_again_with_the_answer(disputed):
    a, accountant = disputed["a"], disputed["accountant"]
    api = client_for(accountant)
    assert delivered(a) == 90

    response = resolve(api, a.open_entry, resolution="kept", answer="Our log shows the call.")

    assert response.status_code == 200, response.json()
    body = response.json()
    review = CustomerReview.objects.get(entry=a.open_entry)
    assert (body["minutes"], body["billable_minutes"], body["held"], body["written_off"]) == (90, 90, False, False)
    assert body["review"] == {"state": "resolved", "reason": "Too long for a", "resolution": "kept",
                              "answer": "Our log shows the call.", "minutes_before": None,
                              "at": review.at.isoformat().replace("+00:00", "Z"),
                              "resolved_at": review.resolved_at.isoformat().replace("+00:00", "Z")}
    assert review.resolved_by == accountant
    assert delivered(a) == 180
    event = AuditEvent.objects.get(action="entry.dispute_resolved")
    assert (event.actor, event.object_id, event.changes) == (accountant, a.open_entry.pk, {
        "ticket": a.ticket.pk, "resolution": "kept", "answer": "Our log shows the call.", "minutes": [90, 90],
        "billable_minutes": [0, 90]})
    assert client_for(accountant).get(f"{API}/disputes/").json()["count"] == 1


def test_written_off_bills_nothing(disputed):
    a, manager = disputed["a"], disputed["manager"]

    response = resolve(client_for(manager), a.open_entry, resolution="written_off", answer="Sorry: on us.")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["billable_minutes"], body["held"], body["written_off"], body["write_off_reason"]) == (
        0, False, True, "Sorry: on us.")
    assert body["review"]["resolution"] == "written_off"
    assert delivered(a) == 90
    assert AuditEvent.objects.get(action="entry.dispute_resolved").changes["billable_minutes"] == [0, 0]


@pytest.mark.parametrize("given, minutes", [({"duration": "1:00"}, 60), ({"duration": "45m"}, 45),
                                            ({"duration": 0.25}, 15), ({"minutes": 50}, 50)])
def test_corrected_bills_the_duration_given(disputed, given, minutes):
    a = disputed["a"]

    response = resolve(client_for(disputed["accountant"]), a.open_entry, resolution="corrected",
                       answer="Right, corrected.", **given)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["minutes"], body["billable_minutes"], body["held"], body["review"]["minutes_before"]) == (
        minutes, minutes, False, 90)
    assert delivered(a) == 90 + minutes
    assert AuditEvent.objects.get(action="entry.dispute_resolved").changes["minutes"] == [90, minutes]


@pytest.mark.parametrize("body, refusal", [
    ({}, {"resolution": ["This field is required."], "answer": ["Give the customer an answer."]}),
    ({"resolution": "maybe", "answer": "x"}, {"resolution": ["Choose kept, written_off or corrected."]}),
    ({"resolution": ["kept"], "answer": "x"}, {"resolution": ["Choose kept, written_off or corrected."]}),
    ({"resolution": "kept", "answer": "  "}, {"answer": ["Give the customer an answer."]}),
    ({"resolution": "kept", "answer": None}, {"answer": ["Give the customer an answer."]}),
    ({"resolution": "kept", "answer": "x" * 1001}, {"answer": ["Ensure this field has no more than 1000 characters."]}),
    ({"resolution": "corrected", "answer": "x"}, {"duration": ["Give the corrected duration."]}),
    ({"resolution": "corrected", "answer": "x", "duration": "1:00", "minutes": 60},
     {"duration": ["Give the duration, or the minutes: one of them."]}),
    ({"resolution": "kept", "answer": "x", "duration": "1:00"}, {"duration": ["Only a correction takes a duration."]}),
    ({"resolution": "written_off", "answer": "x", "minutes": 10},
     {"minutes": ["Only a correction takes a duration."]}),
    ({"resolution": "corrected", "answer": "x", "duration": "25:00"},
     {"duration": ["A single time entry cannot exceed 24 hours (24:00)."]}),
    ({"resolution": "corrected", "answer": "x", "duration": 1e300},
     {"duration": ["A single time entry cannot exceed 24 hours (24:00)."]}),
    ({"resolution": "corrected", "answer": "x", "duration": "0:00"},
     {"duration": ["A duration must be more than 0 minutes."]}),
    ({"resolution": "corrected", "answer": "x", "duration": "soon"},
     {"duration": ["“soon” is not a duration. Enter a duration like 1:30, 1.5, 1h30 or 90m."]}),
    ({"resolution": "corrected", "answer": "x", "minutes": 0},
     {"minutes": ["A duration must be more than 0 minutes."]}),
    ({"resolution": "corrected", "answer": "x", "minutes": -30},
     {"minutes": ["A duration must be more than 0 minutes."]}),
    ({"resolution": "corrected", "answer": "x", "minutes": 10**30},
     {"minutes": ["A single time entry cannot exceed 24 hours (24:00)."]}),
    ({"resolution": "corrected", "answer": "x", "minutes": "sixty"}, {"minutes": ["A valid integer is required."]}),
])
def test_a_resolution_refused_changes_nothing(disputed, body, refusal):
    before = state()

    response = resolve(client_for(disputed["accountant"]), disputed["a"].open_entry, **body)

    assert (response.status_code, response.json()) == (400, refusal)
    assert state() == before


def test_only_an_open_dispute_is_resolved(disputed):
    a = disputed["a"]
    api = client_for(disputed["accountant"])
    before = state()

    for entry in (a.other_open_entry, a.invoiced_entry):  # acknowledged; invoiced, never disputed
        response = resolve(api, entry, resolution="kept", answer="As logged.")
        assert response.status_code == 409
    assert resolve(api, a.other_open_entry, resolution="kept", answer="x").json() == {
        "detail": f"Timesheet {a.other_open_entry.pk} has no open dispute."}
    assert resolve(api, a.invoiced_entry, resolution="kept", answer="x").json() == {
        "detail": "You cannot modify timesheets that are already invoiced."}
    assert state() == before

    assert resolve(api, a.open_entry, resolution="kept", answer="As logged.").status_code == 200
    resolved = state()
    response = resolve(api, a.open_entry, resolution="written_off", answer="Changed my mind.")
    assert (response.status_code, response.json()) == (
        409, {"detail": f"Timesheet {a.open_entry.pk} has no open dispute."})
    assert state() == resolved
    assert api.post(f"{API}/timesheets/{10**6}/resolve/", {"resolution": "kept", "answer": "x"}).status_code == 404


# --- Reviews on the staff's timesheets; the portal's settings ---------------------------------------

def test_timesheets_show_the_review_and_held(disputed):
    a = disputed["a"]
    api = client_for(disputed["manager"])

    held = api.get(f"{API}/timesheets/{a.open_entry.pk}/").json()
    acknowledged = api.get(f"{API}/timesheets/{a.other_open_entry.pk}/").json()
    plain = api.get(f"{API}/timesheets/{a.invoiced_entry.pk}/").json()

    assert (held["held"], held["billable_minutes"], held["review"]["state"], held["review"]["reason"]) == (
        True, 0, "disputed", "Too long for a")
    assert (acknowledged["held"], acknowledged["review"]["state"]) == (False, "acknowledged")
    assert (plain["held"], plain["review"]) == (False, None)
    listed = {row["id"]: row["review"] and row["review"]["state"]
              for row in api.get(f"{API}/timesheets/?ticket={a.ticket.pk}").json()["results"]}
    assert listed == {a.open_entry.pk: "disputed", a.other_open_entry.pk: "acknowledged", a.invoiced_entry.pk: None}


def test_the_teams_and_companys_portal_settings(portal):
    manager, team = client_for(portal["manager"]), portal["a"].team

    response = manager.patch(f"{API}/teams/{team.pk}/", {"portal_tickets": False, "hold_disputed": False})

    assert response.status_code == 200, response.json()
    assert (response.json()["portal_tickets"], response.json()["hold_disputed"]) == (False, False)
    team = HelpdeskTeam.objects.get(pk=team.pk)
    assert (team.portal_tickets, team.hold_disputed) == (False, False)
    assert client_for(portal["a"].agent).get(f"{API}/teams/{team.pk}/").json()["portal_tickets"] is False

    assert manager.get(f"{API}/company/").json()["portal_shows_agents"] is True
    response = manager.patch(f"{API}/company/", {"portal_shows_agents": False})
    assert (response.status_code, response.json()["portal_shows_agents"]) == (200, False)
    assert Company.current().portal_shows_agents is False
    response = manager.patch(f"{API}/company/", {"portal_shows_agents": "perhaps"})
    assert (response.status_code, response.json()) == (400, {"portal_shows_agents": ["Must be a valid boolean."]})
    response = client_for(portal["accountant"]).patch(f"{API}/company/", {"portal_shows_agents": True})
    assert response.status_code == 403
    assert Company.current().portal_shows_agents is False


def test_a_team_not_holding_disputed_time_bills_it_meanwhile(portal):
    """The team's setting read when the dispute is raised: the time stays billed, the dispute shown beside it."""
    a = portal["a"]
    client_for(portal["manager"]).patch(f"{API}/teams/{a.team.pk}/", {"hold_disputed": False})

    response = client_for(a.contact.user).post(f"{API}/portal/timesheets/{a.open_entry.pk}/dispute/",
                                               {"reason": "Too long"})

    assert response.status_code == 200
    assert response.json()["held"] is False
    assert delivered(a) == 180
    assert client_for(portal["accountant"]).get(f"{API}/disputes/").json()["results"][0]["held"] is False
