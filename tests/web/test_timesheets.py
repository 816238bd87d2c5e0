"""The Timesheets tab of the ticket and task pages, the timer, and the CSV exports."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.errors import Conflict
from invoicing.services import invoice_create_from_order
from timesheets.models import TimeEntry, Timer
from timesheets.services import INVOICED_MESSAGE, timer_start, timer_stop, timesheet_log

from ..factories import TaskFactory, TeamFactory, TicketFactory, UserFactory, days_ago


def page_of(ticket):
    return reverse("ticket_detail", args=[ticket.pk])


def log(client, address, duration, description="", date=None, **extra):
    data = {"action": "log", "log-date": (date or days_ago(0)).isoformat(), "log-duration": duration,
            "log-description": description, **extra}
    return client.post(address, data)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def task(ticket):
    ticket.task = TaskFactory(project=ticket.team.project, name="Replace the fuser")
    ticket.save()
    return ticket.task


# --- Logging --------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["1:30", "1.5", "1,5", "1h30", "90m"])
def test_durations_are_typed_as_people_type_them(agent_client, member, ticket, typed):
    response = log(agent_client, page_of(ticket), typed, "Reset the router")
    assert response.status_code == 302
    assert response["Location"] == f"{page_of(ticket)}#timesheets"
    entry = TimeEntry.objects.get()
    assert (entry.minutes, entry.user, entry.description, entry.sale_line) == (90, member, "Reset the router",
                                                                               ticket.sale_line)


def test_a_bad_duration_shows_on_the_field_and_keeps_what_was_typed(agent_client, ticket):
    response = log(agent_client, page_of(ticket), "1h75x", "Called the customer back")
    assert response.status_code == 200
    form = response.context["tab"]["log_form"]
    assert form.errors == {"duration": ["“1h75x” is not a duration. Enter a duration like 1:30, 1.5, 1h30 or 90m."]}
    html = response.content.decode()
    assert 'value="1h75x"' in html
    assert 'value="Called the customer back"' in html
    assert 'aria-invalid="true"' in html
    assert TimeEntry.objects.count() == 0


@pytest.mark.parametrize("typed, message", [
    ("", "A duration is required. Enter a duration like 1:30, 1.5, 1h30 or 90m."),
    ("0:00", "A duration must be more than 0 minutes."),
    ("25h", "A single time entry cannot exceed 24 hours (24:00)."),
])
def test_empty_zero_and_too_long_durations_are_refused(agent_client, ticket, typed, message):
    response = log(agent_client, page_of(ticket), typed)
    assert response.context["tab"]["log_form"].errors == {"duration": [message]}


def test_a_future_date_is_refused_on_the_date_field(agent_client, ticket):
    response = log(agent_client, page_of(ticket), "1:00", date=days_ago(-1))
    assert response.context["tab"]["log_form"].errors == {"date": ["Time cannot be logged in the future."]}
    assert f'value="{days_ago(-1).isoformat()}"' in response.content.decode()


def test_a_team_without_timesheet_on_ticket_refuses_time_above_the_fields(agent_client, ticket):
    team = ticket.team
    team.time_reinvoicing = team.timesheet_on_ticket = False
    team.save()
    response = log(agent_client, page_of(ticket), "1:00")
    assert response.context["tab"]["log_form"].non_field_errors() == [
        f"Timesheet on Ticket is off for the team {team}: time cannot be logged on its tickets."]
    assert "Timesheet on Ticket is off" in response.content.decode()


def test_the_tab_lists_rows_with_their_line_invoice_and_total(agent_client, member, ticket, line_a):
    timesheet_log(user=member, date=days_ago(2), minutes=90, ticket=ticket, description="Diagnosed")
    invoice = invoice_create_from_order(order=line_a.order)
    timesheet_log(user=member, date=days_ago(1), minutes=45, ticket=ticket, description="Fixed")
    response = agent_client.get(page_of(ticket))
    tab = response.context["tab"]
    assert [(e.description, e.duration, e.is_invoiced, e.editable) for e in tab["entries"]] == [
        ("Fixed", "0:45", False, True), ("Diagnosed", "1:30", True, False)]
    assert tab["total_minutes"] == 135
    html = response.content.decode()
    assert '<th class="num" data-col="total">2:15</th>' in html
    assert f"{line_a.order.name} · Service on Timesheet" in html
    assert f"{invoice}</a>" in html and "Locked" in html


# --- Editing and deleting ---------------------------------------------------------------------

def test_an_agent_edits_their_entry_inline(agent_client, member, ticket):
    entry = timesheet_log(user=member, date=days_ago(1), minutes=30, ticket=ticket, description="Typo")
    form = agent_client.get(page_of(ticket), {"edit": entry.pk}).context["tab"]["edit_form"]
    assert (form["duration"].value(), form["description"].value()) == ("0:30", "Typo")
    response = agent_client.post(page_of(ticket), {
        "action": "edit", "entry": entry.pk, "edit-date": days_ago(1).isoformat(), "edit-duration": "1h15",
        "edit-description": "Fixed the typo"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.minutes, entry.description) == (75, "Fixed the typo")
    ticket.sale_line.refresh_from_db()
    assert ticket.sale_line.delivered_minutes == 75


def test_a_bad_edit_stays_in_the_row_with_what_was_typed(agent_client, member, ticket):
    entry = timesheet_log(user=member, date=days_ago(1), minutes=30, ticket=ticket)
    response = agent_client.post(page_of(ticket), {
        "action": "edit", "entry": entry.pk, "edit-date": days_ago(1).isoformat(), "edit-duration": "soon"})
    assert response.status_code == 200
    assert response.context["tab"]["edit_id"] == entry.pk
    assert 'value="soon"' in response.content.decode()
    entry.refresh_from_db()
    assert entry.minutes == 30


def test_editing_an_invoiced_entry_is_refused_and_nothing_changes(agent_client, member, ticket, line_a):
    entry = timesheet_log(user=member, date=days_ago(1), minutes=30, ticket=ticket, description="Billed")
    invoice_create_from_order(order=line_a.order)
    response = agent_client.post(page_of(ticket), {
        "action": "edit", "entry": entry.pk, "edit-date": days_ago(1).isoformat(), "edit-duration": "3:00",
        "edit-description": "Changed"}, follow=True)
    assert messages_of(response) == ["You cannot modify timesheets that are already invoiced."]
    assert INVOICED_MESSAGE == "You cannot modify timesheets that are already invoiced."
    entry.refresh_from_db()
    assert (entry.minutes, entry.description) == (30, "Billed")
    # The page offers no edit for it, even when asked.
    assert agent_client.get(page_of(ticket), {"edit": entry.pk}).context["tab"]["edit_form"] is None


def test_deleting_an_invoiced_entry_is_refused(agent_client, member, ticket, line_a):
    entry = timesheet_log(user=member, date=days_ago(1), minutes=30, ticket=ticket)
    invoice_create_from_order(order=line_a.order)
    response = agent_client.post(page_of(ticket), {"action": "delete", "entry": entry.pk}, follow=True)
    assert messages_of(response) == [INVOICED_MESSAGE]
    assert TimeEntry.objects.filter(pk=entry.pk).exists()


def test_an_agent_deletes_their_unbilled_entry(agent_client, member, ticket):
    entry = timesheet_log(user=member, date=days_ago(1), minutes=30, ticket=ticket)
    response = agent_client.post(page_of(ticket), {"action": "delete", "entry": entry.pk}, follow=True)
    assert messages_of(response) == [f"Deleted 0:30 of {days_ago(1).isoformat()}."]
    assert not TimeEntry.objects.exists()
    ticket.sale_line.refresh_from_db()
    assert ticket.sale_line.delivered_minutes == 0


def test_an_agent_cannot_change_a_colleagues_time_but_a_manager_can(client, member, manager, ticket):
    colleague = UserFactory(username="colleague", role="Agents")
    ticket.team.members.add(colleague)
    entry = timesheet_log(user=member, date=days_ago(1), minutes=30, ticket=ticket)
    client.force_login(colleague)
    assert client.get(page_of(ticket)).context["tab"]["entries"][0].editable is False
    edit = {"action": "edit", "entry": entry.pk, "edit-date": days_ago(1).isoformat(), "edit-duration": "2:00"}
    assert client.post(page_of(ticket), edit).status_code == 403
    assert client.post(page_of(ticket), {"action": "delete", "entry": entry.pk}).status_code == 403
    client.force_login(manager)
    assert client.post(page_of(ticket), edit).status_code == 302
    entry.refresh_from_db()
    assert entry.minutes == 120


def test_an_entry_not_on_the_page_or_a_bad_id_is_404(agent_client, member, ticket):
    elsewhere = timesheet_log(user=member, date=days_ago(1), minutes=30,
                              ticket=TicketFactory(team=ticket.team, customer=ticket.customer))
    assert agent_client.post(page_of(ticket), {"action": "delete", "entry": elsewhere.pk}).status_code == 404
    assert agent_client.post(page_of(ticket), {"action": "delete", "entry": "x"}).status_code == 404


# --- The task page shows the same Timesheets -------------------------------------------------

def test_time_on_the_task_shows_on_the_ticket_and_the_reverse(agent_client, member, ticket, task):
    log(agent_client, reverse("task_detail", args=[task.pk]), "0:30", "On the task")
    log(agent_client, page_of(ticket), "1:00", "On the ticket")
    on_ticket = agent_client.get(page_of(ticket)).context["tab"]["entries"]
    on_task = agent_client.get(reverse("task_detail", args=[task.pk])).context["tab"]["entries"]
    assert [e.description for e in on_ticket] == [e.description for e in on_task] == ["On the ticket", "On the task"]
    assert {(e.ticket_id, e.task_id) for e in on_task} == {(ticket.pk, task.pk)}


def test_the_task_page_links_its_ticket_and_refuses_other_teams(client, agent_client, outsider, ticket, task):
    html = agent_client.get(reverse("task_detail", args=[task.pk])).content.decode()
    assert f'href="{page_of(ticket)}" id="ticket-link"' in html
    assert 'id="log-time"' in html
    client.force_login(outsider)
    assert client.get(reverse("task_detail", args=[task.pk])).status_code == 404


def test_the_tasks_list_shows_hours_and_what_an_agent_may_open(agent_client, member, ticket, task):
    TaskFactory(name="Someone else's task")
    timesheet_log(user=member, date=days_ago(0), minutes=75, task=task)
    response = agent_client.get(reverse("task_list"))
    assert [(t.name, t.minutes_spent) for t in response.context["page_obj"]] == [("Replace the fuser", 75)]


# --- The timer ---------------------------------------------------------------------------------

def test_the_timer_survives_a_reload_and_stop_fills_the_form_rounded_up(agent_client, member, ticket):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        response = agent_client.post(reverse("ticket_timer_start", args=[ticket.pk]), follow=True)
    assert messages_of(response) == ["Timer started. It keeps running when you close this page."]
    with time_machine.travel(start + datetime.timedelta(minutes=25, seconds=10), tick=False):
        page = agent_client.get(page_of(ticket))
        assert page.context["timer"].started_at == start
        assert page.context["timer_elapsed"] == "0:25"
        stopped = agent_client.post(reverse("ticket_timer_stop", args=[ticket.pk]))
    assert stopped["Location"] == f"{page_of(ticket)}?duration=0%3A26"
    assert not Timer.objects.exists()
    form_page = agent_client.get(stopped["Location"])
    assert form_page.context["tab"]["log_form"]["duration"].value() == "0:26"
    assert messages_of(form_page) == ["Timer stopped after 0:26: describe the work and save the entry."]
    assert TimeEntry.objects.count() == 0  # nothing is logged until the agent saves


def test_stop_without_a_timer_is_a_message(agent_client, ticket):
    response = agent_client.post(reverse("ticket_timer_stop", args=[ticket.pk]), follow=True)
    assert messages_of(response) == ["No timer is running on this ticket: start one first."]


def test_timer_services_round_up_and_keep_one_timer_per_agent_and_ticket(member, ticket):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = timer_start(user=member, ticket=ticket)
    with time_machine.travel(start + datetime.timedelta(minutes=5), tick=False):
        assert timer_start(user=member, ticket=ticket) == first  # a second Start keeps the first
    delta = datetime.timedelta
    for elapsed, minutes in [(delta(0), 1), (delta(seconds=1), 1), (delta(minutes=25), 25),
                             (delta(minutes=25, microseconds=1), 26)]:
        timer_start(user=member, ticket=ticket)
        Timer.objects.update(started_at=start)
        with time_machine.travel(start + elapsed, tick=False):
            assert timer_stop(user=member, ticket=ticket) == minutes, elapsed
    with pytest.raises(Conflict, match="No timer is running on this ticket"):
        timer_stop(user=member, ticket=ticket)


def test_a_timer_needs_timesheet_on_ticket(member):
    ticket = TicketFactory(team=TeamFactory(timesheet_on_ticket=False, time_reinvoicing=False))
    with pytest.raises(ValidationError, match="Timesheet on Ticket is off"):
        timer_start(user=member, ticket=ticket)
    assert not Timer.objects.exists()


def test_accountants_have_no_timer(accountant_client, ticket):
    assert accountant_client.post(reverse("ticket_timer_start", args=[ticket.pk])).status_code == 403
    assert 'id="timer"' not in accountant_client.get(page_of(ticket)).content.decode()


# --- CSV ---------------------------------------------------------------------------------------

def csv_text(response) -> str:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return response.content.decode("utf-8")


def test_the_tickets_timesheets_download_as_csv(agent_client, member, ticket, task, line_a):
    member.first_name, member.last_name = "Ada", "Lovelace"
    member.save()
    timesheet_log(user=member, date=datetime.date(2025, 3, 2), minutes=90, ticket=ticket,
                  description='Reset the "main" router, then checked')
    invoice = invoice_create_from_order(order=line_a.order)
    timesheet_log(user=member, date=datetime.date(2025, 3, 3), minutes=45, task=task, description="=SUM(A1)")
    response = agent_client.get(reverse("ticket_timesheets_csv", args=[ticket.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="ticket-{ticket.pk}-timesheets.csv"'
    line = f"{line_a.order.name} - Service on Timesheet"
    assert csv_text(response) == (
        "\ufeffDate,Agent,Ticket,Task,Description,Duration (H:MM),Hours (decimal),Billed hours (decimal),"
        "Sales Order Item,Invoice,Approval,No charge,Work type\r\n"
        f'2025-03-02,Ada Lovelace,{ticket},Replace the fuser,"Reset the ""main"" router, then checked",1:30,1.50,1.50,'
        f"{line},{invoice},To approve,,\r\n"
        f"2025-03-03,Ada Lovelace,{ticket},Replace the fuser,'=SUM(A1),0:45,0.75,0.75,{line},,To approve,,\r\n"
    )
    task_csv = agent_client.get(reverse("task_timesheets_csv", args=[task.pk]))
    assert csv_text(task_csv) == csv_text(response)
    line_csv = agent_client.get(reverse("line_timesheets_csv", args=[line_a.pk]))
    assert csv_text(line_csv) == csv_text(response)
    assert line_csv["Content-Disposition"] == (
        f'attachment; filename="{line_a.order.name}-line-{line_a.pk}-timesheets.csv"')
