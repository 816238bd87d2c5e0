"""Issue 17: a ticket filed in the app, assigned to oneself or a teammate, its status changes with who and when."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from tickets.models import Ticket
from tickets.services import ticket_assign, ticket_create, ticket_set_status

from ..factories import CustomerFactory, TaskFactory, TeamFactory, UserFactory


def history(ticket):
    return [(event.action, event.actor_name, event.changes) for event in
            AuditEvent.objects.filter(object_type="tickets.ticket", object_id=ticket.pk).order_by("pk")]


@pytest.fixture
def team(agent):
    team = TeamFactory(name="Care")
    team.members.add(agent)
    return team


def test_filing_assigning_and_moving_a_ticket_is_its_history(team, agent, manager):
    customer = CustomerFactory(name="Acme")
    ticket = ticket_create(team=team, customer=customer, title="VPN down", assignee=agent, actor=agent)
    teammate = UserFactory(username="bob", role="Agents")
    team.members.add(teammate)
    ticket_assign(ticket=ticket, assignee=teammate, actor=agent)
    ticket_assign(ticket=ticket, assignee=teammate, actor=agent)  # no change, no event
    ticket_set_status(ticket=ticket, status=Ticket.Status.IN_PROGRESS, actor=teammate)
    ticket_set_status(ticket=ticket, status=Ticket.Status.IN_PROGRESS, actor=teammate)  # no change
    ticket_set_status(ticket=ticket, status=Ticket.Status.SOLVED, actor=manager)
    ticket_assign(ticket=ticket, assignee=None, actor=manager)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == ("solved", None)
    assert history(ticket) == [
        ("ticket.created", "agent", {"team": "Care", "customer": "Acme", "status": "new", "assignee": "agent"}),
        ("ticket.assigned", "agent", {"assignee": ["agent", "bob"]}),
        ("ticket.status_changed", "bob", {"status": ["new", "in_progress"]}),
        ("ticket.status_changed", "manager", {"status": ["in_progress", "solved"]}),
        ("ticket.assigned", "manager", {"assignee": ["bob", None]}),
    ]


def test_a_ticket_goes_to_its_team_or_a_manager_only(team, agent, manager, accountant):
    customer = CustomerFactory()
    outsider = UserFactory(username="outsider", role="Agents")
    gone = UserFactory(username="gone", role="Agents", is_active=False)
    team.members.add(gone)
    for person, message in ((outsider, "outsider is not in the team Care"), (accountant, "accountant is not in"),
                            (gone, "gone is deactivated")):
        with pytest.raises(ValidationError, match=message):
            ticket_create(team=team, customer=customer, title="Nope", assignee=person, actor=agent)
    assert not Ticket.objects.exists()
    ticket = ticket_create(team=team, customer=customer, title="Yes", assignee=manager, actor=agent)
    with pytest.raises(ValidationError, match="outsider is not in the team Care"):
        ticket_assign(ticket=ticket, assignee=outsider, actor=agent)
    ticket.refresh_from_db()
    assert ticket.assignee == manager
    assert [a for a, *_ in history(ticket)] == ["ticket.created"]


def test_a_task_links_one_ticket(team, agent):
    task = TaskFactory(project=team.project)
    customer = CustomerFactory()
    ticket_create(team=team, customer=customer, title="First", task=task, actor=agent)
    with pytest.raises(ValidationError) as e:
        ticket_create(team=team, customer=customer, title="Second", task=task, actor=agent)
    assert e.value.message_dict["task"] == [f"{task} is already linked to another ticket."]
    assert Ticket.objects.count() == 1


def test_an_unknown_status_is_refused(team, agent):
    ticket = ticket_create(team=team, customer=CustomerFactory(), title="T", actor=agent)
    with pytest.raises(ValidationError, match="Unknown status"):
        ticket_set_status(ticket=ticket, status="gone", actor=agent)
    ticket.refresh_from_db()
    assert ticket.status == "new"
