"""My Timesheets (issue 17): the week grid screen, its form without JavaScript and the cell's JSON (week_cell).

Last week is used wherever a day must be past whatever today is; this week where today matters.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from invoicing.services import invoice_create_from_order
from timesheets.models import LockDate, TimeEntry
from timesheets.services import timesheet_log
from timesheets.week import week_start

from ..factories import TaskFactory, TicketFactory, UserFactory, days_ago

MONDAY = week_start(days_ago(7))
DAY = [MONDAY + datetime.timedelta(days=n) for n in range(7)]
WEEK = f"{reverse('my_timesheets')}?week={MONDAY}"
CELL = reverse("week_cell")


def cells(html: str) -> dict[str, str]:
    """The grid's inputs, {"ticket-12:2026-11-23": "1:30"}, in the page's order."""
    return dict(re.findall(r'name="cell:([^"]+)" id="[^"]*" value="([^"]*)"', html))


def filled(html: str) -> dict[str, str]:
    return {name: value for name, value in cells(html).items() if value}


def totals(html: str, kind: str) -> list[str]:
    return re.findall(rf'data-total="{kind}"[^>]*>([^<]*)<', html)


def texts(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def name(row, day) -> str:
    return f"{row}:{day.isoformat()}"


@pytest.fixture
def second(ticket):
    return TicketFactory(team=ticket.team, customer=ticket.customer, title="Scanner offline")


@pytest.fixture
def task(ticket):
    return TaskFactory(project=ticket.team.project, name="Quarterly review")


@pytest.fixture
def worked(member, ticket, second, task):
    """Last week: 1:30 on Monday and 0:30 on Wednesday on the ticket, 0:45 on the second on Tuesday, 0:15 on a task."""
    timesheet_log(user=member, date=DAY[0], minutes=90, ticket=ticket)
    timesheet_log(user=member, date=DAY[2], minutes=30, ticket=ticket)
    timesheet_log(user=member, date=DAY[1], minutes=45, ticket=second)
    timesheet_log(user=member, date=DAY[1], minutes=15, task=task)
    return member


# --- The grid -------------------------------------------------------------------------------------------

def test_the_agents_week_rows_cells_and_totals(agent_client, worked, ticket, second, task):
    response = agent_client.get(WEEK)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>My Timesheets</h1>" in html
    assert f"Week {MONDAY:%V}: {DAY[0]} to {DAY[6]}" in html
    assert list(cells(html))[::7] == [name(f"ticket-{second.pk}", DAY[0]), name(f"ticket-{ticket.pk}", DAY[0]),
                                      name(f"task-{task.pk}", DAY[0])]
    assert len(cells(html)) == 21
    assert filled(html) == {name(f"ticket-{second.pk}", DAY[1]): "0:45", name(f"ticket-{ticket.pk}", DAY[0]): "1:30",
                            name(f"ticket-{ticket.pk}", DAY[2]): "0:30", name(f"task-{task.pk}", DAY[1]): "0:15"}
    assert totals(html, "row") == ["0:45", "2:00", "0:15"]
    assert totals(html, "day") == ["1:30", "1:00", "0:30", "0:00", "0:00", "0:00", "0:00"]
    assert totals(html, "week") == ["3:00"]
    # Rows name their ticket (with its customer) or task, linked; each cell's original value rides along.
    assert (f'<a href="/tickets/{second.pk}/">#{second.pk} Scanner offline</a> '
            f'<span class="muted">{ticket.customer}</span>') in html
    assert f'<a href="/tasks/{task.pk}/">Quarterly review</a> <span class="muted">task · {task.project}</span>' in html
    assert f'<input type="hidden" name="was:{name(f"ticket-{ticket.pk}", DAY[0])}" value="1:30">' in html
    assert f'aria-label="#{ticket.pk} {ticket.title}, Monday {DAY[0]}"' in html
    assert f'href="{reverse("my_timesheets")}?week={MONDAY - datetime.timedelta(days=7)}"' in html
    assert f'href="{reverse("my_timesheets")}?week={MONDAY + datetime.timedelta(days=7)}"' in html


def test_this_week_by_default_today_marked_and_the_future_read_only(agent_client, member, ticket):
    today = days_ago(0)
    response = agent_client.get(f"{reverse('my_timesheets')}?add={ticket.pk}")
    html = response.content.decode()
    assert response.context["week"].start == week_start(today)
    assert f'aria-current="date"><span class="weekday">{today:%a}</span> <span class="date">{today}</span>' in html
    days = [week_start(today) + datetime.timedelta(days=n) for n in range(7)]
    assert list(cells(html)) == [name(f"ticket-{ticket.pk}", day) for day in days if day <= today]
    future = [day for day in days if day > today]
    assert html.count('title="Time cannot be logged in the future."') == len(future)
    assert "No time logged this week" not in html
    # The ticket added is where typing starts.
    assert re.search(rf'name="cell:{name(f"ticket-{ticket.pk}", days[0])}"[^>]*autofocus', html)


def test_an_empty_week_says_how_to_start(agent_client, member):
    html = agent_client.get(WEEK).content.decode()
    assert "No time logged this week. Add a ticket above to log time on it." in html
    assert 'id="week-save"' not in html
    assert totals(html, "week") == ["0:00"]


def test_read_only_cells_say_why_with_a_lock(agent_client, member, ticket, line_a):
    timesheet_log(user=member, date=DAY[0], minutes=60, ticket=ticket)
    invoice = invoice_create_from_order(order=line_a.order)
    timesheet_log(user=member, date=DAY[3], minutes=20, ticket=ticket, description="Call")
    timesheet_log(user=member, date=DAY[3], minutes=25, ticket=ticket, description="Fix")
    html = agent_client.get(WEEK).content.decode()
    reason = f"Invoiced on {invoice}: invoiced time cannot be changed."
    assert (f'<span class="cell-text" title="{reason}"><svg class="icon"') in html
    assert f'1:00</span><span class="visually-hidden"> {reason}</span>' in html
    several = "2 timesheets on this day: change them one by one on the ticket."
    assert (f'<a class="cell-text" href="/tickets/{ticket.pk}/#timesheets" title="{several}">0:45</a>'
            f'<span class="visually-hidden"> {several}</span>') in html
    assert {name(f"ticket-{ticket.pk}", DAY[0]), name(f"ticket-{ticket.pk}", DAY[3])} & set(cells(html)) == set()
    assert totals(html, "row") == ["1:45"]


def test_locked_days_are_read_only_for_agents_not_managers(client, member, manager, ticket):
    LockDate.objects.create(pk=1, lock_date=DAY[1])
    client.force_login(member)
    html = client.get(f"{WEEK}&add={ticket.pk}").content.decode()
    assert html.count(f'title="Locked: timesheets up to {DAY[1]} are locked."') == 2
    assert list(cells(html))[0] == name(f"ticket-{ticket.pk}", DAY[2])
    client.force_login(manager)
    html = client.get(f"{WEEK}&agent={member.pk}&add={ticket.pk}").content.decode()
    assert len(cells(html)) == 7


def test_only_tickets_one_may_log_on_are_added(agent_client, member, ticket, other_ticket):
    response = agent_client.get(f"{WEEK}&add={ticket.pk}&add={other_ticket.pk}&add=abc&add=99999999999999999999")
    assert response.status_code == 200
    assert [row.key for row in response.context["week"].rows] == [f"ticket-{ticket.pk}"]
    assert texts(response) == [f"Ticket {other_ticket.pk} is not one you may log time on: it is not shown."]
    assert "Another team&#x27;s ticket" not in response.content.decode()


def test_a_wrong_week_shows_this_week_with_a_message(agent_client, member):
    for week, message in [("abc", "“abc” is not a date: write it as YYYY-MM-DD."),
                          ("2026-02-30", "“2026-02-30” is not a date: write it as YYYY-MM-DD."),
                          ("9999-12-31", "Choose a day from 1900-01-01 to 9998-12-31.")]:
        response = agent_client.get(f"{reverse('my_timesheets')}?week={week}")
        assert response.status_code == 200
        assert response.context["week"].start == week_start(days_ago(0))
        assert texts(response) == [f"{message} This week is shown instead."]


def test_any_day_shows_its_monday_to_sunday(agent_client, member):
    response = agent_client.get(f"{reverse('my_timesheets')}?week={DAY[4]}")
    assert response.context["week"].start == MONDAY


# --- Whose week ---------------------------------------------------------------------------------------

def test_a_manager_opens_and_fills_an_agents_week(manager_client, worked, ticket):
    response = manager_client.get(f"{WEEK}&agent={worked.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>Timesheets of {worked.username}</h1>" in html
    assert totals(html, "week") == ["3:00"]
    assert f'<option value="{worked.pk}" selected>{worked.username}</option>' in html
    assert f"agent={worked.pk}" in response.context["links"]["previous"]
    response = manager_client.post(f"{WEEK}&agent={worked.pk}", {
        f"cell:{name(f'ticket-{ticket.pk}', DAY[4])}": "2h"})
    assert response.status_code == 302
    entry = TimeEntry.objects.get(date=DAY[4])
    assert (entry.user, entry.minutes) == (worked, 120)
    event = AuditEvent.objects.get(action="entry.created", object_id=entry.pk)
    assert event.actor.username == "manager"


def test_a_manager_naming_no_team_member_sees_a_message(manager_client, member, accountant):
    for value in ("abc", str(accountant.pk), "99999999999999999999", "0"):
        response = manager_client.get(f"{WEEK}&agent={value}")
        assert response.status_code == 200
        assert response.context["agent"].username == "manager"
        assert texts(response) == [
            f"No member of a helpdesk team has the id “{value}”. Your own week is shown instead."]


def test_a_form_sent_to_a_wrong_week_or_agent_saves_nothing(manager_client, member, ticket):
    for query in ("agent=99999", "week=2026-02-30"):
        response = manager_client.post(f"{reverse('my_timesheets')}?{query}",
                                       {f"cell:{name(f'ticket-{ticket.pk}', days_ago(0))}": "1:00"})
        assert response.status_code == 200
        assert texts(response)[-1] == "Nothing was saved: the address names no week to save."
    assert not TimeEntry.objects.exists()


def test_an_agent_opens_their_own_week_only(agent_client, member, manager, outsider):
    assert agent_client.get(f"{WEEK}&agent={member.pk}").status_code == 200
    for other in (outsider.pk, manager.pk, "abc", 10**30):
        response = agent_client.get(f"{WEEK}&agent={other}")
        assert response.status_code == 403
        assert "You may open your own week only." in response.content.decode()
        assert agent_client.post(f"{WEEK}&agent={other}", {}).status_code == 403


def test_accountants_are_refused_strangers_sent_to_log_in(client, accountant):
    assert client.get(WEEK)["Location"] == f"{reverse('login')}?next={reverse('my_timesheets')}%3Fweek%3D{MONDAY}"
    client.force_login(accountant)
    response = client.get(WEEK)
    assert response.status_code == 403
    assert "Only agents and managers log time." in response.content.decode()
    assert client.post(CELL, {"row": "ticket-1", "date": DAY[0], "duration": "1:00"}).status_code == 403


# --- Saving the form (no JavaScript) ------------------------------------------------------------------

def test_the_form_logs_changes_and_removes_the_cells_changed(agent_client, worked, ticket, second, line_a):
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("2.00")  # the ticket's 1:30 + 0:30; the second ticket and the task bill no line
    before = list(TimeEntry.objects.order_by("pk").values_list("pk", "minutes"))
    response = agent_client.post(WEEK, {
        f"cell:{name(f'ticket-{ticket.pk}', DAY[0])}": "1:30", f"was:{name(f'ticket-{ticket.pk}', DAY[0])}": "1:30",
        f"cell:{name(f'ticket-{ticket.pk}', DAY[2])}": "45m", f"was:{name(f'ticket-{ticket.pk}', DAY[2])}": "0:30",
        f"cell:{name(f'ticket-{ticket.pk}', DAY[4])}": "1.5",
        f"cell:{name(f'ticket-{second.pk}', DAY[1])}": "", f"was:{name(f'ticket-{second.pk}', DAY[1])}": "0:45",
        f"cell:{name(f'ticket-{second.pk}', DAY[2])}": "",
    })
    assert response.status_code == 302
    assert response["Location"] == WEEK
    page = agent_client.get(WEEK)
    assert texts(page) == ["Saved 3 cells."]
    html = page.content.decode()
    assert totals(html, "row") == ["3:45", "0:15"]
    assert totals(html, "week") == ["4:00"]
    mine = dict(TimeEntry.objects.filter(ticket=ticket).values_list("date", "minutes"))
    assert mine == {DAY[0]: 90, DAY[2]: 45, DAY[4]: 90}
    assert not TimeEntry.objects.filter(ticket=second).exists()
    assert TimeEntry.objects.get(date=DAY[0]).pk == before[0][0]  # unchanged, not logged again
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("3.75")  # the ticket's 1:30 + 0:45 + 1:30


def test_the_same_time_typed_otherwise_changes_nothing(agent_client, worked, ticket):
    response = agent_client.post(WEEK, {
        f"cell:{name(f'ticket-{ticket.pk}', DAY[0])}": "1.5", f"was:{name(f'ticket-{ticket.pk}', DAY[0])}": "1:30",
        f"cell:{name(f'ticket-{ticket.pk}', DAY[3])}": "0", f"cell:{name(f'ticket-{ticket.pk}', DAY[4])}": " ",
    })
    assert response.status_code == 302
    assert texts(agent_client.get(WEEK)) == ["Nothing to save: no cell changed."]
    assert AuditEvent.objects.filter(action="entry.edited").count() == 0


@pytest.mark.parametrize("typed, message", [
    ("abc", "“abc” is not a duration. Enter a duration like 1:30, 1.5, 1h30 or 90m."),
    ("-1", "A duration cannot be negative. Enter a duration like 1:30, 1.5, 1h30 or 90m."),
    ("25:00", "A single time entry cannot exceed 24 hours (24:00)."),
    ("99999999999999999999", "“99999999999999999999” is not a duration. Enter a duration like 1:30, 1.5, 1h30 "
                             "or 90m."),
    ("1e400", "“1e400” is not a duration. Enter a duration like 1:30, 1.5, 1h30 or 90m."),
])
def test_a_bad_duration_is_refused_beside_its_cell_and_the_others_saved(agent_client, worked, ticket, line_a,
                                                                         typed, message):
    cell = name(f"ticket-{ticket.pk}", DAY[4])
    response = agent_client.post(WEEK, {f"cell:{cell}": typed, f"cell:{name(f'ticket-{ticket.pk}', DAY[5])}": "0:20"})
    assert response.status_code == 200
    html = response.content.decode()
    assert texts(response) == ["Saved 1 cell.", "1 cell was not saved: its message is beside it."]
    assert cells(html)[cell] == typed
    assert f'<span class="help error cell-error" id="cell-{cell.replace(":", "-")}-error">{message}</span>' in html
    assert re.search(rf'name="cell:{cell}"[^>]*aria-invalid="true"[^>]*autofocus', html)
    assert dict(TimeEntry.objects.filter(ticket=ticket).values_list("date", "minutes")) == {
        DAY[0]: 90, DAY[2]: 30, DAY[5]: 20}
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("2.33")  # 1:30 + 0:30 + 0:20 = 2:20


def test_read_only_cells_are_refused_with_their_reason(agent_client, member, ticket, line_a):
    timesheet_log(user=member, date=DAY[0], minutes=60, ticket=ticket)
    invoice = invoice_create_from_order(order=line_a.order)
    timesheet_log(user=member, date=DAY[3], minutes=20, ticket=ticket, description="Call")
    timesheet_log(user=member, date=DAY[3], minutes=25, ticket=ticket, description="Fix")
    LockDate.objects.create(pk=1, lock_date=DAY[1])
    tomorrow = days_ago(-1)
    response = agent_client.post(WEEK, {
        f"cell:{name(f'ticket-{ticket.pk}', DAY[0])}": "0:30",  # invoiced
        f"cell:{name(f'ticket-{ticket.pk}', DAY[1])}": "0:30",  # locked
        f"cell:{name(f'ticket-{ticket.pk}', DAY[3])}": "1:00",  # two entries
        f"cell:{name(f'ticket-{ticket.pk}', tomorrow)}": "1:00",  # not this week, and the future
        f"cell:{name(f'ticket-{ticket.pk}', DAY[6])}": "0:40",  # saved
    })
    assert response.status_code == 200
    assert texts(response) == ["Saved 1 cell.", "4 cells were not saved: each message is beside its cell."]
    leftover = [(cell.key, cell.day, cell.error) for cell in response.context["leftover"]]
    key = f"ticket-{ticket.pk}"
    assert leftover == [
        (key, DAY[0], f"Invoiced on {invoice}: invoiced time cannot be changed."),
        (key, DAY[1], f"Locked: timesheets up to {DAY[1]} are locked."),
        (key, DAY[3], "2 timesheets on this day: change them one by one on the ticket."),
        (key, tomorrow, f"{tomorrow} is not a day of the week of {MONDAY}."),
    ]
    assert sorted(TimeEntry.objects.values_list("date", "minutes")) == [
        (DAY[0], 60), (DAY[3], 20), (DAY[3], 25), (DAY[6], 40)]
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("2.42")  # 1:00 invoiced + 0:45 + 0:40 = 2:25


def test_a_future_day_is_refused(agent_client, member, ticket):
    next_monday = week_start(days_ago(0)) + datetime.timedelta(days=7)
    address = f"{reverse('my_timesheets')}?week={next_monday}&add={ticket.pk}"
    response = agent_client.post(address, {f"cell:{name(f'ticket-{ticket.pk}', next_monday)}": "1:00"})
    assert [cell.error for cell in response.context["leftover"]] == ["Time cannot be logged in the future."]
    assert not TimeEntry.objects.exists()


def test_another_teams_ticket_or_a_made_up_row_is_refused(agent_client, member, other_ticket, ticket):
    response = agent_client.post(WEEK, {
        f"cell:{name(f'ticket-{other_ticket.pk}', DAY[0])}": "1:00",
        f"cell:{name('task-99999999', DAY[0])}": "1:00",
        f"cell:{name('order-1', DAY[0])}": "1:00",
        f"cell:ticket-{ticket.pk}:someday": "1:00",
        "cell:": "1:00",
    })
    assert response.status_code == 200
    errors = sorted(cell.error for cell in response.context["leftover"])
    no_row = ("There is no such row in this week: add a ticket with “Add a ticket”, or log time on a task from its "
              "page.")
    assert errors == [no_row, no_row, no_row, "“someday” is not a date: write it as YYYY-MM-DD.",
                      "“” is not a date: write it as YYYY-MM-DD."]
    assert "Another team" not in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_a_teams_ticket_without_timesheets_is_read_only(agent_client, member, ticket):
    ticket.team.time_reinvoicing = ticket.team.timesheet_on_ticket = False
    ticket.team.save()
    response = agent_client.post(f"{WEEK}&add={ticket.pk}", {f"cell:{name(f'ticket-{ticket.pk}', DAY[0])}": "1:00"})
    assert [cell.error for cell in response.context["leftover"]] == [
        f"Timesheet on Ticket is off for the team {ticket.team}."]
    assert not TimeEntry.objects.exists()


# --- One cell as JSON (static/js/week.js) ------------------------------------------------------------------

def test_a_cell_saves_as_json_with_the_totals(agent_client, worked, ticket, line_a):
    response = agent_client.post(CELL, {"row": f"ticket-{ticket.pk}", "date": DAY[1], "duration": "45m"})
    assert response.status_code == 200
    assert response.json() == {"row": f"ticket-{ticket.pk}", "date": DAY[1].isoformat(), "minutes": 45,
                               "duration": "0:45", "totals": {"row": "2:45", "day": "1:45", "week": "3:45"},
                               "message": f"Saved 0:45 on {DAY[1]}."}
    response = agent_client.post(CELL, {"row": f"ticket-{ticket.pk}", "date": DAY[1], "duration": "1:30"})
    assert response.json()["totals"] == {"row": "3:30", "day": "2:30", "week": "4:30"}
    response = agent_client.post(CELL, {"row": f"ticket-{ticket.pk}", "date": DAY[1], "duration": ""})
    assert response.json() == {"row": f"ticket-{ticket.pk}", "date": DAY[1].isoformat(), "minutes": 0,
                               "duration": "", "totals": {"row": "2:00", "day": "1:00", "week": "3:00"},
                               "message": f"Removed the time of {DAY[1]}."}
    assert [event.action for event in AuditEvent.objects.filter(action__startswith="entry.").order_by("pk")][-3:] == [
        "entry.created", "entry.edited", "entry.deleted"]
    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("2.00")  # as before: 1:30 + 0:30


def test_a_tasks_row_goes_with_its_last_entry(agent_client, worked, task):
    response = agent_client.post(CELL, {"row": f"task-{task.pk}", "date": DAY[1], "duration": "0"})
    assert response.json()["totals"] == {"row": "0:00", "day": "0:45", "week": "2:45"}
    assert not TimeEntry.objects.filter(task=task, ticket=None).exists()


@pytest.mark.parametrize("data, status, error", [
    ({"duration": "abc"}, 400, "“abc” is not a duration. Enter a duration like 1:30, 1.5, 1h30 or 90m."),
    ({"duration": "-1"}, 400, "A duration cannot be negative. Enter a duration like 1:30, 1.5, 1h30 or 90m."),
    ({"duration": "24:01"}, 400, "A single time entry cannot exceed 24 hours (24:00)."),
    ({"date": "2026-13-01"}, 400, "“2026-13-01” is not a date: write it as YYYY-MM-DD."),
    ({"date": "0001-01-01"}, 400, "Choose a day from 1900-01-01 to 9998-12-31."),
    ({"row": "ticket-abc"}, 400, "Name a row as ticket-<id> or task-<id>."),
    ({"row": "ticket-99999999"}, 409, "There is no such row in this week: add a ticket with “Add a ticket”, or "
                                      "log time on a task from its page."),
    ({"date": days_ago(-1)}, 409, "Time cannot be logged in the future."),
    ({"agent": "abc"}, 403, "You may open your own week only."),
])
def test_a_cell_refused_answers_why(agent_client, member, ticket, data, status, error):
    response = agent_client.post(CELL, {"row": f"ticket-{ticket.pk}", "date": DAY[0], "duration": "1:00", **data})
    assert (response.status_code, response.json()) == (status, {"error": error})
    assert not TimeEntry.objects.exists()


def test_an_invoiced_cell_is_a_409_and_stays(agent_client, member, ticket, line_a):
    timesheet_log(user=member, date=DAY[0], minutes=60, ticket=ticket)
    invoice = invoice_create_from_order(order=line_a.order)
    response = agent_client.post(CELL, {"row": f"ticket-{ticket.pk}", "date": DAY[0], "duration": ""})
    assert (response.status_code, response.json()) == (409, {
        "error": f"Invoiced on {invoice}: invoiced time cannot be changed."})
    assert TimeEntry.objects.get().minutes == 60


def test_another_teams_ticket_is_no_row_and_a_get_is_refused(agent_client, member, other_ticket):
    response = agent_client.post(CELL, {"row": f"ticket-{other_ticket.pk}", "date": DAY[0], "duration": "1:00"})
    assert response.status_code == 409
    assert not TimeEntry.objects.exists()
    assert agent_client.get(CELL).status_code == 405


def test_an_agent_cannot_fill_anothers_week(agent_client, member, ticket):
    teammate = UserFactory(username="teammate", role="Agents")
    ticket.team.members.add(teammate)
    response = agent_client.post(CELL, {"row": f"ticket-{ticket.pk}", "date": DAY[0], "duration": "1:00",
                                        "agent": teammate.pk})
    assert (response.status_code, response.json()) == (403, {"error": "You may open your own week only."})
    assert not TimeEntry.objects.exists()


def test_a_manager_fills_an_agents_cell(manager_client, member, ticket):
    response = manager_client.post(CELL, {"row": f"ticket-{ticket.pk}", "date": DAY[0], "duration": "1h",
                                          "agent": member.pk})
    assert response.json()["totals"] == {"row": "1:00", "day": "1:00", "week": "1:00"}
    assert TimeEntry.objects.get().user == member


# --- The searchable selects -------------------------------------------------------------------------------

def test_add_a_ticket_searches_the_tickets_one_may_log_on(agent_client, member, ticket, second, other_ticket):
    closed_team = TicketFactory(title="Scanner of a team without timesheets")
    closed_team.team.timesheet_on_ticket = closed_team.team.time_reinvoicing = False
    closed_team.team.save()
    closed_team.team.members.add(member)
    answer = agent_client.get(reverse("lookup_week_tickets"), {"q": "scanner"}).json()
    assert answer == {"results": [{"id": str(second.pk), "text": f"#{second.pk} Scanner offline · {ticket.customer}"}],
                      "more": False}
    assert [row["id"] for row in agent_client.get(reverse("lookup_week_tickets")).json()["results"]] == [
        str(second.pk), str(ticket.pk)]


def test_whose_week_lists_team_members_for_managers(client, member, manager, accountant, outsider):
    client.force_login(manager)
    found = client.get(reverse("lookup_week_agents")).json()["results"]
    assert [row["text"] for row in found] == ["agent", "outsider"]
    client.force_login(member)
    assert client.get(reverse("lookup_week_agents")).json()["results"] == [{"id": str(member.pk), "text": "agent"}]
    client.force_login(accountant)
    assert client.get(reverse("lookup_week_agents")).status_code == 403


def test_the_lists_offer_what_the_forms_accept(member, manager, ticket, second, outsider):
    from web.forms.week import AddTicketForm, AgentForm
    from web.lookups import KINDS

    for user in (member, manager):
        assert set(KINDS["week-tickets"].rows(user=user)) == set(AddTicketForm(user=user).fields["add"].queryset)
    assert set(KINDS["week-agents"].rows(user=manager)) == set(AgentForm().fields["agent"].queryset) == {
        member, outsider}
