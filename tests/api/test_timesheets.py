"""/api/v1/timesheets/: log, change and delete time; who may; filters."""

from decimal import Decimal

import pytest

from invoicing.services import invoice_create_from_order
from timesheets.models import TimeEntry

from ..factories import ProductFactory, UserFactory, confirmed_line, days_ago
from .conftest import API, client_for, log, second_ticket

HINT = "Enter a duration like 1:30, 1.5, 1h30 or 90m."


@pytest.mark.parametrize("duration, minutes, hours, shown", [
    ("1:30", 90, "1.50", "1:30"),
    ("1.5", 90, "1.50", "1:30"),
    ("1,5", 90, "1.50", "1:30"),
    ("90m", 90, "1.50", "1:30"),
    ("1h30", 90, "1.50", "1:30"),
    (1.5, 90, "1.50", "1:30"),
    (0.25, 15, "0.25", "0:15"),
    (2, 120, "2.00", "2:00"),
    (0.333, 20, "0.33", "0:20"),
])
def test_agent_logs_time_typed_as_people_type_it(agent_api, agent, team_ticket, line_a, duration, minutes, hours,
                                                 shown):
    response = log(agent_api, team_ticket, duration, description="Printer fixed")

    assert response.status_code == 201, response.json()
    entry = TimeEntry.objects.get()
    assert response.json() == {
        "id": entry.pk, "date": days_ago(0).isoformat(), "user": agent.pk, "description": "Printer fixed",
        "duration": shown, "minutes": minutes, "billable_minutes": minutes, "hours": hours,
        "ticket": team_ticket.pk, "task": None, "project": team_ticket.team.project_id, "work_type": None,
        "sale_line": line_a.pk, "invoice": None, "invoice_line": None,
        "approval": "to_approve", "approval_note": "", "written_off": False, "write_off_reason": "",
        "held": False, "review": None,
    }
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal(hours)


def test_date_defaults_to_today(agent_api, team_ticket):
    response = agent_api.post(f"{API}/timesheets/", {"ticket": team_ticket.pk, "duration": "0:45"})

    assert response.status_code == 201
    assert response.json()["date"] == days_ago(0).isoformat()


@pytest.mark.parametrize("fields, errors", [
    ({"duration": "abc"}, {"duration": [f"“abc” is not a duration. {HINT}"]}),
    ({"duration": "-1:00"}, {"duration": [f"A duration cannot be negative. {HINT}"]}),
    ({"duration": 0}, {"duration": ["A duration must be more than 0 minutes."]}),
    ({"duration": "0:00"}, {"duration": ["A duration must be more than 0 minutes."]}),
    ({"duration": 24.5}, {"duration": ["A single time entry cannot exceed 24 hours (24:00)."]}),
    ({"duration": 1e300}, {"duration": ["A single time entry cannot exceed 24 hours (24:00)."]}),
    ({"duration": True}, {"duration": [f"Enter the duration as text or as a number of hours. {HINT}"]}),
    ({"duration": None}, {"duration": ["This field may not be null."]}),
    ({"duration": "1:00", "date": days_ago(-1).isoformat()}, {"date": ["Time cannot be logged in the future."]}),
    ({"duration": "1:00", "date": "yesterday"},
     {"date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
    ({"duration": "1:00", "ticket": None}, {"detail": "Log time on a ticket or on a task."}),
    ({"duration": "1:00", "description": "x" * 501},
     {"description": ["Ensure this field has no more than 500 characters."]}),
])
def test_refused_input_says_why_on_the_field(agent_api, team_ticket, fields, errors):
    response = agent_api.post(f"{API}/timesheets/", {"ticket": team_ticket.pk, **fields})

    assert response.status_code == 400
    assert response.json() == errors
    assert TimeEntry.objects.count() == 0


def test_a_line_of_another_customer_is_refused(agent_api, team_ticket):
    other = confirmed_line()

    response = log(agent_api, team_ticket, "1:00", sale_line=other.pk)

    assert response.status_code == 400
    assert response.json() == {"sale_line": [
        f"{other.order.name} belongs to {other.order.customer}, not to {team_ticket.customer}: "
        "choose a line of this customer's order."]}


def test_missing_duration_is_required(agent_api, team_ticket):
    response = agent_api.post(f"{API}/timesheets/", {"ticket": team_ticket.pk})

    assert response.status_code == 400
    assert response.json() == {"duration": ["This field is required."]}


def test_agent_of_another_team_cannot_log_on_the_ticket(other_agent_api, team_ticket):
    response = log(other_agent_api, team_ticket, "1:00")

    assert response.status_code == 400
    assert response.json() == {"ticket": [f'Invalid pk "{team_ticket.pk}" - object does not exist.']}


def test_accountant_cannot_log_time(accountant_api, team_ticket):
    response = log(accountant_api, team_ticket, "1:00")

    assert response.status_code == 403
    assert response.json() == {"detail": "Only agents and managers log time."}


def test_anonymous_is_asked_to_authenticate(anonymous_api, team_ticket):
    response = log(anonymous_api, team_ticket, "1:00")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == "Token"


def test_agent_logs_only_their_own_time(agent_api, manager, team_ticket):
    response = log(agent_api, team_ticket, "1:00", user=manager.pk)

    assert response.status_code == 403
    assert response.json() == {"detail": "You can only log your own time."}


def test_manager_logs_time_for_an_agent(manager_api, agent, team_ticket):
    response = log(manager_api, team_ticket, "2h", user=agent.pk)

    assert response.status_code == 201
    assert response.json()["user"] == agent.pk
    assert response.json()["minutes"] == 120


def test_time_on_a_task_carries_its_ticket(agent_api, team_ticket, line_a):
    from projects.services import task_create
    from tickets.services import ticket_link_task

    task = task_create(project=team_ticket.team.project, name="Replace the fuser")
    ticket_link_task(ticket=team_ticket, task=task)

    response = agent_api.post(f"{API}/timesheets/", {"task": task.pk, "duration": "1:00"})

    assert response.status_code == 201
    assert (response.json()["task"], response.json()["ticket"]) == (task.pk, team_ticket.pk)
    assert response.json()["sale_line"] == line_a.pk


def test_list_and_detail_follow_the_teams(agent_api, other_agent_api, team_ticket):
    entry_id = log(agent_api, team_ticket, "1:00").json()["id"]

    assert agent_api.get(f"{API}/timesheets/").json()["count"] == 1
    assert agent_api.get(f"{API}/timesheets/{entry_id}/").json()["minutes"] == 60
    assert other_agent_api.get(f"{API}/timesheets/").json() == {
        "count": 0, "next": None, "previous": None, "results": []}
    response = other_agent_api.get(f"{API}/timesheets/{entry_id}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No TimeEntry matches the given query."}


def test_patch_changes_duration_date_and_description(agent_api, team_ticket, line_a):
    entry_id = log(agent_api, team_ticket, "1:00").json()["id"]

    response = agent_api.patch(f"{API}/timesheets/{entry_id}/", {
        "duration": "2:15", "date": days_ago(3).isoformat(), "description": "Second visit"})

    assert response.status_code == 200
    body = response.json()
    assert (body["minutes"], body["hours"], body["date"], body["description"]) == (
        135, "2.25", days_ago(3).isoformat(), "Second visit")
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("2.25")


def test_patch_refuses_what_it_cannot_change(agent_api, team_ticket):
    entry_id = log(agent_api, team_ticket, "1:00").json()["id"]
    other = second_ticket(team_ticket)

    response = agent_api.patch(f"{API}/timesheets/{entry_id}/", {"ticket": other.pk, "duration": "0"})
    assert response.status_code == 400
    assert response.json() == {"duration": ["A duration must be more than 0 minutes."]}

    response = agent_api.patch(f"{API}/timesheets/{entry_id}/", {"ticket": other.pk})
    assert response.status_code == 400
    assert response.json() == {"ticket": ["Log the time again instead: an entry keeps its agent, ticket and task."]}

    response = agent_api.patch(f"{API}/timesheets/{entry_id}/", {"date": days_ago(-2).isoformat()})
    assert response.status_code == 400
    assert response.json() == {"date": ["Time cannot be logged in the future."]}


def test_put_is_not_offered(agent_api, team_ticket):
    entry_id = log(agent_api, team_ticket, "1:00").json()["id"]

    response = agent_api.put(f"{API}/timesheets/{entry_id}/", {"duration": "2:00"})

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "PUT" not allowed.'}


def test_setting_the_sale_line_marks_it_set_by_hand(agent_api, team_ticket, line_a):
    line_b = confirmed_line(order=line_a.order, product=ProductFactory(name="Junior support", list_price=20))
    entry_id = log(agent_api, team_ticket, "1:00").json()["id"]

    response = agent_api.patch(f"{API}/timesheets/{entry_id}/", {"sale_line": line_b.pk})

    assert response.status_code == 200
    assert response.json()["sale_line"] == line_b.pk
    assert TimeEntry.objects.get(pk=entry_id).sale_line_manual is True
    line_a.refresh_from_db()
    line_b.refresh_from_db()
    assert (line_a.delivered, line_b.delivered) == (Decimal("0.00"), Decimal("1.00"))

    # null returns the entry to the line its ticket bills.
    response = agent_api.patch(f"{API}/timesheets/{entry_id}/", {"sale_line": None})
    assert response.json()["sale_line"] == line_a.pk
    assert TimeEntry.objects.get(pk=entry_id).sale_line_manual is False


def test_delete_drops_delivered(agent_api, team_ticket, line_a):
    entry_id = log(agent_api, team_ticket, "1:00").json()["id"]

    response = agent_api.delete(f"{API}/timesheets/{entry_id}/")

    assert response.status_code == 204
    assert TimeEntry.objects.count() == 0
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("0.00")


def test_invoiced_time_cannot_be_changed_or_deleted(agent_api, team_ticket, line_a):
    entry_id = log(agent_api, team_ticket, "1:00").json()["id"]
    invoice = invoice_create_from_order(order=line_a.order)
    conflict = {"detail": "You cannot modify timesheets that are already invoiced."}

    response = agent_api.patch(f"{API}/timesheets/{entry_id}/", {"duration": "2:00"})
    assert (response.status_code, response.json()) == (409, conflict)

    response = agent_api.delete(f"{API}/timesheets/{entry_id}/")
    assert (response.status_code, response.json()) == (409, conflict)

    body = agent_api.get(f"{API}/timesheets/{entry_id}/").json()
    assert (body["minutes"], body["invoice"], body["invoice_line"]) == (60, invoice.pk, invoice.lines.get().pk)


def test_agents_change_only_their_own_time(agent_api, team_ticket):
    colleague = UserFactory(username="colleague", role="Agents")
    team_ticket.team.members.add(colleague)
    entry_id = log(agent_api, team_ticket, "1:00").json()["id"]
    colleague_api = client_for(colleague)

    assert colleague_api.get(f"{API}/timesheets/{entry_id}/").status_code == 200
    response = colleague_api.patch(f"{API}/timesheets/{entry_id}/", {"duration": "3:00"})
    assert (response.status_code, response.json()) == (403, {"detail": "You can only change your own time."})
    response = colleague_api.delete(f"{API}/timesheets/{entry_id}/")
    assert (response.status_code, response.json()) == (403, {"detail": "You can only change your own time."})


def test_manager_changes_an_agents_time(agent_api, manager_api, team_ticket):
    entry_id = log(agent_api, team_ticket, "1:00").json()["id"]

    response = manager_api.patch(f"{API}/timesheets/{entry_id}/", {"duration": "0:30"})

    assert response.status_code == 200
    assert response.json()["minutes"] == 30


def test_filters(manager_api, agent, agent_api, team_ticket, line_a):
    other = second_ticket(team_ticket)
    old = log(agent_api, team_ticket, "1:00", days=10).json()["id"]
    invoice_create_from_order(order=line_a.order)
    recent = log(agent_api, team_ticket, "2:00", days=2).json()["id"]
    on_other = log(agent_api, other, "3:00", days=1).json()["id"]
    by_manager = log(manager_api, team_ticket, "0:30").json()["id"]

    def ids(query):
        response = manager_api.get(f"{API}/timesheets/?{query}")
        assert response.status_code == 200, response.json()
        return sorted(row["id"] for row in response.json()["results"])

    assert ids(f"ticket={team_ticket.pk}") == sorted([old, recent, by_manager])
    assert ids(f"ticket={other.pk}") == [on_other]
    assert ids(f"sale_line={line_a.pk}") == sorted([old, recent, by_manager])
    assert ids(f"user={agent.pk}") == sorted([old, recent, on_other])
    assert ids(f"date_from={days_ago(2).isoformat()}") == sorted([recent, on_other, by_manager])
    assert ids(f"date_to={days_ago(2).isoformat()}") == sorted([old, recent])
    assert ids(f"date_from={days_ago(2).isoformat()}&date_to={days_ago(1).isoformat()}") == sorted([recent, on_other])
    assert ids("invoiced=true") == [old]
    assert ids("invoiced=false") == sorted([recent, on_other, by_manager])
    assert ids("task=999999") == []
    response = manager_api.get(f"{API}/timesheets/?ordering=minutes")
    assert [row["id"] for row in response.json()["results"]] == [by_manager, old, recent, on_other]

    response = manager_api.get(f"{API}/timesheets/?date_from=soon&ticket=x")
    assert response.status_code == 400
    assert response.json() == {"date_from": ["Enter a valid date."], "ticket": ["Enter a whole number."]}
