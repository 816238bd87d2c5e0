"""My Timesheets through the API (issue 17): `GET /timesheets/week/` and `PUT /timesheets/week/`."""

import datetime
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from invoicing.services import invoice_create_from_order
from timesheets.models import LockDate, TimeEntry
from timesheets.services import timesheet_log
from timesheets.week import week_start

from ..factories import TaskFactory, UserFactory, days_ago
from .conftest import API, client_for, second_ticket

WEEK = f"{API}/timesheets/week/"
MONDAY = week_start(days_ago(7))  # last week: every day of it is past
DAY = [MONDAY + datetime.timedelta(days=n) for n in range(7)]


def put(client, row, day, **fields):
    return client.put(WEEK, {"row": row, "date": day.isoformat(), **fields}, format="json")


def cell(day, minutes=0, entries=(), reason=""):
    hours, rest = divmod(minutes, 60)
    return {"date": day.isoformat(), "minutes": minutes, "duration": f"{hours}:{rest:02d}", "entries": list(entries),
            "editable": not reason, "reason": reason}


def test_the_week_as_json(agent_api, agent, team_ticket):
    other = second_ticket(team_ticket, title="Scanner offline")
    task = TaskFactory(project=team_ticket.team.project, name="Quarterly review")
    a = timesheet_log(user=agent, date=DAY[0], minutes=90, ticket=team_ticket)
    b = timesheet_log(user=agent, date=DAY[1], minutes=45, ticket=other)
    c = timesheet_log(user=agent, date=DAY[1], minutes=15, task=task)
    response = agent_api.get(WEEK, {"week": DAY[3].isoformat()})
    assert response.status_code == 200
    empty = [cell(day) for day in DAY]
    assert response.json() == {
        "agent": agent.pk, "week_start": MONDAY.isoformat(), "days": [day.isoformat() for day in DAY],
        "rows": [
            {"row": f"ticket-{other.pk}", "ticket": other.pk, "task": None, "title": f"#{other.pk} Scanner offline",
             "total_minutes": 45, "cells": [empty[0], cell(DAY[1], 45, [b.pk]), *empty[2:]]},
            {"row": f"ticket-{team_ticket.pk}", "ticket": team_ticket.pk, "task": None,
             "title": f"#{team_ticket.pk} {team_ticket.title}", "total_minutes": 90,
             "cells": [cell(DAY[0], 90, [a.pk]), *empty[1:]]},
            {"row": f"task-{task.pk}", "ticket": None, "task": task.pk, "title": "Quarterly review",
             "total_minutes": 15, "cells": [empty[0], cell(DAY[1], 15, [c.pk]), *empty[2:]]},
        ],
        "day_totals": [90, 60, 0, 0, 0, 0, 0], "total_minutes": 150}


def test_this_week_by_default(agent_api, agent, team_ticket):
    today = days_ago(0)
    timesheet_log(user=agent, date=today, minutes=20, ticket=team_ticket)
    data = agent_api.get(WEEK).json()
    assert data["week_start"] == week_start(today).isoformat()
    [row] = data["rows"]
    for item in row["cells"]:
        future = item["date"] > today.isoformat()
        assert (item["editable"], item["reason"]) == (not future, "Time cannot be logged in the future." if future
                                                      else "")
    assert data["total_minutes"] == 20


def test_a_put_logs_changes_and_removes_a_cell(agent_api, agent, team_ticket, line_a):
    row = f"ticket-{team_ticket.pk}"
    response = put(agent_api, row, DAY[2], duration="1:30")
    assert response.status_code == 200
    entry = TimeEntry.objects.get()
    assert response.json() == {**cell(DAY[2], 90, [entry.pk]), "agent": agent.pk, "row": row,
                               "row_total_minutes": 90, "day_total_minutes": 90, "total_minutes": 90}
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("1.50")

    response = put(agent_api, row, DAY[2], minutes=45)
    assert response.json()["minutes"] == 45 and response.json()["entries"] == [entry.pk]
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("0.75")

    response = put(agent_api, row, DAY[2], duration="")
    assert response.json() == {**cell(DAY[2]), "agent": agent.pk, "row": row, "row_total_minutes": 0,
                               "day_total_minutes": 0, "total_minutes": 0}
    assert not TimeEntry.objects.exists()
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("0.00")
    assert list(AuditEvent.objects.filter(object_id=entry.pk, object_type="timesheets.timeentry").order_by("pk")
                .values_list("action", flat=True)) == ["entry.created", "entry.edited", "entry.deleted"]
    for nothing in ({"duration": "0"}, {"duration": None}, {"minutes": 0}, {"minutes": None}, {"duration": "0:00"}):
        assert put(agent_api, row, DAY[2], **nothing).status_code == 200  # an empty cell stays empty
    assert not TimeEntry.objects.exists()


def test_a_tasks_row_answers_zero_once_its_time_is_gone(agent_api, agent, team_ticket):
    task = TaskFactory(project=team_ticket.team.project)
    timesheet_log(user=agent, date=DAY[0], minutes=30, task=task)
    response = put(agent_api, f"task-{task.pk}", DAY[0], minutes=0)
    assert response.json()["row_total_minutes"] == 0 and response.json()["total_minutes"] == 0
    assert put(agent_api, f"task-{task.pk}", DAY[0], minutes=30).json() == {
        "row": ["There is no such row in this week: name a ticket you may log time on, or a task with time this "
                "week."]}


@pytest.mark.parametrize("fields, answer", [
    ({"duration": "abc"}, {"duration": ["“abc” is not a duration. Enter a duration like 1:30, 1.5, 1h30 or 90m."]}),
    ({"duration": "-1"}, {"duration": [
        "A duration cannot be negative. Enter a duration like 1:30, 1.5, 1h30 or 90m."]}),
    ({"duration": "25:00"}, {"duration": ["A single time entry cannot exceed 24 hours (24:00)."]}),
    ({"minutes": 1441}, {"minutes": ["A single time entry cannot exceed 24 hours (24:00)."]}),
    ({"minutes": -1}, {"minutes": ["Ensure this value is greater than or equal to 0."]}),
    ({"minutes": 10**30}, {"minutes": ["A single time entry cannot exceed 24 hours (24:00)."]}),
    ({"minutes": True}, {"minutes": ["A valid integer is required."]}),
    ({}, {"duration": ["Give the duration, or the minutes: one of them."]}),
    ({"duration": "1:00", "minutes": 60}, {"duration": ["Give the duration, or the minutes: one of them."]}),
    ({"duration": "1:00", "row": "order-1"}, {"row": ["Name a row as ticket-<id> or task-<id>."]}),
    ({"duration": "1:00", "date": "9999-12-31"}, {"date": ["Choose a day from 1900-01-01 to 9998-12-31."]}),
    ({"duration": "1:00", "date": "2026-02-30"}, {"date": [
        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
    ({"duration": "1:00", "agent": 0}, {"agent": ["Ensure this value is greater than or equal to 1."]}),
])
def test_bad_input_is_a_400_naming_its_field(agent_api, team_ticket, fields, answer):
    response = agent_api.put(WEEK, {"row": f"ticket-{team_ticket.pk}", "date": DAY[0].isoformat(), **fields},
                             format="json")
    assert (response.status_code, response.json()) == (400, answer)
    assert not TimeEntry.objects.exists()


def test_read_only_cells_are_409_with_their_reason(agent_api, agent, team_ticket, line_a):
    timesheet_log(user=agent, date=DAY[0], minutes=60, ticket=team_ticket)
    invoice = invoice_create_from_order(order=line_a.order)
    timesheet_log(user=agent, date=DAY[3], minutes=20, ticket=team_ticket, description="Call")
    timesheet_log(user=agent, date=DAY[3], minutes=25, ticket=team_ticket, description="Fix")
    LockDate.objects.create(pk=1, lock_date=DAY[1])
    row = f"ticket-{team_ticket.pk}"
    for day, reason in [(DAY[0], f"Invoiced on {invoice}: invoiced time cannot be changed."),
                        (DAY[1], f"Locked: timesheets up to {DAY[1]} are locked."),
                        (DAY[3], "2 timesheets on this day: change them one by one on the ticket."),
                        (days_ago(-1), "Time cannot be logged in the future.")]:
        response = put(agent_api, row, day, duration="0:30")
        assert (response.status_code, response.json()) == (409, {"detail": reason}), day
    assert sorted(TimeEntry.objects.values_list("date", "minutes")) == [(DAY[0], 60), (DAY[3], 20), (DAY[3], 25)]


def test_another_teams_ticket_is_no_row(other_agent_api, team_ticket):
    response = put(other_agent_api, f"ticket-{team_ticket.pk}", DAY[0], duration="1:00")
    assert response.status_code == 400
    assert list(response.json()) == ["row"]
    assert not TimeEntry.objects.exists()


def test_whose_week(agent_api, manager_api, accountant_api, anonymous_api, agent, manager, accountant, team_ticket):
    teammate = UserFactory(username="teammate", role="Agents")
    team_ticket.team.members.add(teammate)
    timesheet_log(user=teammate, date=DAY[0], minutes=30, ticket=team_ticket)
    # An agent: their own week only, whoever is asked for.
    for pk in (teammate.pk, manager.pk, 10**12):
        assert agent_api.get(WEEK, {"agent": pk}).json() == {"detail": "You may see and change your own week only."}
        assert put(agent_api, f"ticket-{team_ticket.pk}", DAY[0], duration="1:00", agent=pk).status_code == 403
    assert agent_api.get(WEEK, {"agent": agent.pk}).status_code == 200
    # A manager: any member of a team; someone else is a 400.
    data = manager_api.get(WEEK, {"agent": teammate.pk, "week": MONDAY.isoformat()}).json()
    assert (data["agent"], data["total_minutes"], data["rows"][0]["cells"][0]["editable"]) == (teammate.pk, 30, True)
    for pk in (accountant.pk, 10**12):
        response = manager_api.get(WEEK, {"agent": pk})
        assert (response.status_code, response.json()) == (400, {"agent": [
            f"No member of a helpdesk team has the id {pk}."]})
    response = put(manager_api, f"ticket-{team_ticket.pk}", DAY[1], duration="2h", agent=teammate.pk)
    assert response.json()["total_minutes"] == 150
    assert TimeEntry.objects.get(date=DAY[1]).user == teammate
    # Accountants do not log time; strangers authenticate first.
    assert accountant_api.get(WEEK).json() == {"detail": "Only agents and managers log time."}
    assert put(accountant_api, f"ticket-{team_ticket.pk}", DAY[0], duration="1:00").status_code == 403
    assert anonymous_api.get(WEEK).status_code == 401
    assert anonymous_api.put(WEEK, {}, format="json").status_code == 401


@pytest.mark.parametrize("query, answer", [
    ({"week": "abc"}, {"week": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
    ({"week": "0001-01-01"}, {"week": ["Choose a day from 1900-01-01 to 9998-12-31."]}),
    ({"agent": "abc"}, {"agent": ["A valid integer is required."]}),
    ({"agent": str(10**30)}, {"agent": ["Ensure this value is less than or equal to 9223372036854775807."]}),
])
def test_a_bad_query_is_a_400(manager_api, query, answer):
    response = manager_api.get(WEEK, query)
    assert (response.status_code, response.json()) == (400, answer)


def test_the_grid_as_an_integrator_fills_it_then_an_accountant_invoices_it(agent, team_ticket, line_a, accountant):
    """The same cell through the API before and after Create Invoice: then a 409, the time unchanged."""
    agent_api = client_for(agent)
    row = f"ticket-{team_ticket.pk}"
    assert put(agent_api, row, DAY[4], duration="1h30").status_code == 200
    invoice = invoice_create_from_order(order=line_a.order, actor=accountant)
    [got] = [r for r in agent_api.get(WEEK, {"week": MONDAY.isoformat()}).json()["rows"] if r["row"] == row]
    assert got["cells"][4]["reason"] == f"Invoiced on {invoice}: invoiced time cannot be changed."
    response = put(agent_api, row, DAY[4], duration="2:00")
    assert (response.status_code, response.json()) == (409, {
        "detail": f"Invoiced on {invoice}: invoiced time cannot be changed."})
    assert TimeEntry.objects.get().minutes == 90


def test_the_schema_documents_the_week_its_parameters_and_refusals(anonymous_api):
    schema = anonymous_api.get(f"{API}/schema/?format=json").json()
    operations = schema["paths"][WEEK]
    assert sorted(operations) == ["get", "put"]
    parameters = operations["get"]["parameters"]
    assert {p["name"]: (p["in"], p["schema"].get("format"), p["description"]) for p in parameters} == {
        "week": ("query", "date", "Any day of the week (YYYY-MM-DD); this week by default."),
        "agent": ("query", "int64", "Whose week: yours by default; managers, any member of a team.")}
    assert sorted(operations["get"]["responses"]) == ["200", "400", "401", "403"]
    assert sorted(operations["put"]["responses"]) == ["200", "400", "401", "403", "409"]
    components = schema["components"]["schemas"]
    assert operations["put"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WeekCellInputRequest"}
    assert sorted(components["WeekCellInputRequest"]["properties"]) == ["agent", "date", "duration", "minutes", "row"]
    assert sorted(components["WeekCellInputRequest"]["required"]) == ["date", "row"]
    assert sorted(components["Week"]["properties"]) == ["agent", "day_totals", "days", "rows", "total_minutes",
                                                        "week_start"]
    assert sorted(components["WeekRow"]["properties"]) == ["cells", "row", "task", "ticket", "title", "total_minutes"]
    assert sorted(components["WeekCell"]["properties"]) == ["date", "duration", "editable", "entries", "minutes",
                                                            "reason"]
