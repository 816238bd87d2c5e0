"""/api/v1/tickets/: agents see and work their teams' tickets; task and Sales Order Item go through services."""

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from projects.services import task_create
from tickets.models import Ticket
from timesheets.models import TimeEntry

from ..factories import ProductFactory, TicketFactory, confirmed_line
from .conftest import API, log, second_ticket


def ticket_body(ticket, **fields):
    return {"id": ticket.pk, "team": ticket.team_id, "customer": ticket.customer_id, "title": ticket.title,
            "description": "", "status": "new", "assignee": None, "task": None, "sale_line": ticket.sale_line_id,
            "hours_spent": "0.00", **fields}


def test_detail_with_hours_spent(agent_api, team_ticket):
    log(agent_api, team_ticket, "1:30")
    log(agent_api, team_ticket, "0:15", days=1)

    response = agent_api.get(f"{API}/tickets/{team_ticket.pk}/")

    assert response.status_code == 200
    assert response.json() == ticket_body(team_ticket, hours_spent="1.75")


def test_list_shows_the_agents_teams_tickets(agent_api, team_ticket):
    TicketFactory()  # another team's
    log(agent_api, team_ticket, "0:20")

    response = agent_api.get(f"{API}/tickets/")

    assert response.json() == {"count": 1, "next": None, "previous": None,
                               "results": [ticket_body(team_ticket, hours_spent="0.33")]}


def test_an_agent_of_another_team_does_not_see_the_ticket(other_agent_api, team_ticket):
    response = other_agent_api.get(f"{API}/tickets/{team_ticket.pk}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No Ticket matches the given query."}
    assert other_agent_api.get(f"{API}/tickets/").json()["count"] == 0
    assert other_agent_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"status": "closed"}).status_code == 404


def test_managers_and_accountants_see_every_ticket(manager_api, accountant_api, team_ticket):
    TicketFactory()

    assert manager_api.get(f"{API}/tickets/").json()["count"] == 2
    assert accountant_api.get(f"{API}/tickets/").json()["count"] == 2


def test_agent_files_a_ticket_in_their_team(agent, agent_api, team_ticket, line_a):
    response = agent_api.post(f"{API}/tickets/", {
        "team": team_ticket.team_id, "customer": team_ticket.customer_id, "title": "VPN down",
        "description": "Since this morning", "status": "in_progress", "assignee": agent.pk, "sale_line": line_a.pk})

    assert response.status_code == 201
    ticket = Ticket.objects.get(title="VPN down")
    assert response.json() == ticket_body(ticket, description="Since this morning", status="in_progress",
                                          assignee=agent.pk)


def test_agent_cannot_file_a_ticket_in_another_team(other_agent_api, team_ticket):
    response = other_agent_api.post(f"{API}/tickets/", {
        "team": team_ticket.team_id, "customer": team_ticket.customer_id, "title": "Not mine"})

    assert response.status_code == 400
    assert response.json() == {"team": [f'Invalid pk "{team_ticket.team_id}" - object does not exist.']}


def test_accountants_do_not_change_tickets(accountant_api, team_ticket):
    response = accountant_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"status": "closed"})

    assert response.status_code == 403
    assert response.json() == {"detail": "Only agents and managers change tickets."}


def test_anonymous_is_refused(anonymous_api, team_ticket):
    response = anonymous_api.get(f"{API}/tickets/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_bad_token_is_refused(team_ticket):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-key")

    response = client.get(f"{API}/tickets/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_patch_plain_fields_and_status(agent_api, team_ticket):
    response = agent_api.patch(f"{API}/tickets/{team_ticket.pk}/", {
        "title": "Printer fixed", "description": "Toner", "status": "solved"})

    assert response.status_code == 200
    assert response.json() == ticket_body(team_ticket, title="Printer fixed", description="Toner", status="solved")

    response = agent_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"status": "done"})
    assert response.status_code == 400
    assert response.json() == {"status": ['"done" is not a valid choice.']}


def test_linking_a_task_moves_the_tickets_time(agent_api, manager_api, team_ticket):
    entry_id = log(agent_api, team_ticket, "1:00").json()["id"]
    task = task_create(project=team_ticket.team.project, name="Replace the fuser")

    response = agent_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"task": task.pk})

    assert response.status_code == 200
    assert response.json()["task"] == task.pk
    assert TimeEntry.objects.get(pk=entry_id).task == task
    assert manager_api.get(f"{API}/tasks/{task.pk}/").json()["ticket"] == team_ticket.pk


def test_linking_a_task_refusals(agent_api, team_ticket):
    elsewhere = task_create(project=TicketFactory().team.project, name="Elsewhere")
    response = agent_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"task": elsewhere.pk})
    assert response.status_code == 400
    assert response.json() == {"task": [f"Choose a task of {team_ticket.team.project}, the team's project."]}

    taken = task_create(project=team_ticket.team.project, name="Taken")
    second_ticket(team_ticket, task=taken)
    response = agent_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"task": taken.pk})
    assert response.status_code == 400
    assert response.json() == {"task": ["Taken is already linked to another ticket."]}


def test_changing_the_sales_order_item_moves_unbilled_time(agent_api, team_ticket, line_a):
    line_b = confirmed_line(order=line_a.order, product=ProductFactory(name="Junior support", list_price=20))
    log(agent_api, team_ticket, "1:00")

    response = agent_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"sale_line": line_b.pk})

    assert response.status_code == 200
    line_a.refresh_from_db()
    line_b.refresh_from_db()
    assert (line_a.delivered, line_b.delivered) == (Decimal("0.00"), Decimal("1.00"))


def test_a_sales_order_item_of_another_customer_is_refused(agent_api, team_ticket):
    other = confirmed_line()

    response = agent_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"sale_line": other.pk})

    assert response.status_code == 400
    assert response.json() == {"sale_line": [
        f"{other.order.name} belongs to {other.order.customer}, not to {team_ticket.customer}: "
        "choose a line of this customer's order."]}


@pytest.mark.parametrize("query, expected", [
    ("status=solved", ["solved"]),
    ("status=new", ["first"]),
    ("ordering=id", ["first", "solved"]),
    ("ordering=-id", ["solved", "first"]),
])
def test_filters(manager_api, team_ticket, query, expected):
    team_ticket.title = "first"
    team_ticket.save()
    second_ticket(team_ticket, title="solved", status="solved")

    response = manager_api.get(f"{API}/tickets/?team={team_ticket.team_id}&customer={team_ticket.customer_id}&{query}")

    assert [t["title"] for t in response.json()["results"]] == expected


def test_tickets_are_not_deleted_through_the_api(manager_api, team_ticket):
    response = manager_api.delete(f"{API}/tickets/{team_ticket.pk}/")

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}


# --- Issue 17: who assigned and moved a ticket, and its History ----------------------------------------------

def history(client, ticket):
    return [(event["actor"], event["action"], event["sentence"], event["changes"])
            for event in client.get(f"{API}/tickets/{ticket.pk}/history/").json()]


def test_filing_records_who_filed_and_moved_the_ticket(agent, agent_api, team_ticket):
    response = agent_api.post(f"{API}/tickets/", {
        "team": team_ticket.team_id, "customer": team_ticket.customer_id, "title": "VPN down",
        "status": "in_progress", "assignee": agent.pk})
    ticket = Ticket.objects.get(pk=response.json()["id"])

    team, customer = team_ticket.team.name, team_ticket.customer.name
    assert history(agent_api, ticket) == [
        ("agent", "ticket.created", f"Ticket created in {team} for {customer}, assigned to agent",
         {"team": team, "customer": customer, "status": "new", "assignee": "agent"}),
        ("agent", "ticket.status_changed", "Status changed from New to In Progress",
         {"status": ["new", "in_progress"]})]


def test_an_assignee_outside_the_team_is_refused_and_never_named(agent_api, manager_api, other_agent, team_ticket):
    """To an agent, someone of no team of theirs is an unknown id (the refusal would tell them who it is);
    a manager, who sees every team, gets the rule's message."""
    before = Ticket.objects.count()
    unknown = {"assignee": [f'Invalid pk "{other_agent.pk}" - object does not exist.']}
    response = agent_api.post(f"{API}/tickets/", {
        "team": team_ticket.team_id, "customer": team_ticket.customer_id, "title": "VPN down",
        "assignee": other_agent.pk})
    assert (response.status_code, response.json()) == (400, unknown)
    assert Ticket.objects.count() == before

    response = agent_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"assignee": other_agent.pk})
    assert (response.status_code, response.json()) == (400, unknown)

    response = manager_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"assignee": other_agent.pk})
    assert response.status_code == 400
    assert response.json() == {"assignee": [
        f"other_agent is not in the team {team_ticket.team.name}: assign the ticket to one of its members."]}
    team_ticket.refresh_from_db()
    assert team_ticket.assignee is None


def test_patching_the_assignee_and_status_goes_through_their_services(agent, manager, manager_api, agent_api,
                                                                    team_ticket):
    response = manager_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"assignee": agent.pk, "status": "on_hold"})
    assert response.status_code == 200
    assert (response.json()["assignee"], response.json()["status"]) == (agent.pk, "on_hold")
    assert agent_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"assignee": None}).status_code == 200

    assert history(agent_api, team_ticket) == [
        ("manager", "ticket.assigned", "Assigned to agent", {"assignee": [None, "agent"]}),
        ("manager", "ticket.status_changed", "Status changed from New to On Hold", {"status": ["new", "on_hold"]}),
        ("agent", "ticket.assigned", "Unassigned (was agent)", {"assignee": ["agent", None]})]


def test_the_history_is_seen_as_the_ticket_is(agent_api, other_agent_api, accountant_api, anonymous_api,
                                              team_ticket):
    address = f"{API}/tickets/{team_ticket.pk}/history/"
    assert agent_api.get(address).json() == []
    assert accountant_api.get(address).status_code == 200
    assert other_agent_api.get(address).status_code == 404
    assert anonymous_api.get(address).status_code == 401
    assert agent_api.get(f"{API}/tickets/{2**63 - 1}/history/").status_code == 404
    assert agent_api.post(address).status_code == 405


def test_the_history_answers_when_at_and_who(agent, agent_api, team_ticket):
    agent_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"status": "solved"})

    [event] = agent_api.get(f"{API}/tickets/{team_ticket.pk}/history/").json()
    stored = AuditEvent.objects.get(object_type="tickets.ticket", object_id=team_ticket.pk)
    assert event == {"at": stored.at.isoformat().replace("+00:00", "Z"), "actor": "agent",
                     "action": "ticket.status_changed", "sentence": "Status changed from New to Solved",
                     "changes": {"status": ["new", "solved"]}}


def test_tickets_filter_by_sales_order(manager_api, team_ticket, line_a):
    other = confirmed_line()
    TicketFactory(customer=other.order.customer, sale_line=other)

    response = manager_api.get(f"{API}/tickets/?order={line_a.order_id}")
    assert [t["id"] for t in response.json()["results"]] == [team_ticket.pk]
    assert manager_api.get(f"{API}/tickets/?order=abc").status_code == 400
    assert manager_api.get(f"{API}/tickets/?order={2**63}").status_code == 400
