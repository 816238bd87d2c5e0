"""A ticket's Messages on the staff's side (issue 18): the thread with the customer's contact, the reply form for
the team's agents and managers (accountants read), refused on a solved or closed ticket with why."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tickets.models import Ticket, TicketMessage
from tickets.services import ticket_message_add, ticket_set_status

from ..portal.conftest import portal  # noqa: F401  (two customers' worlds, each with its contact)

pytestmark = pytest.mark.django_db

QUESTION = "Is the 2nd floor affected too?\nIt had the same update."
ANSWER = "No: its printers use the older driver."


def signed_in(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def card(html: str) -> str:
    start = html.index('id="messages"')
    return html[start:html.index('id="history"', start)]


@pytest.fixture
def side(portal):  # noqa: F811
    """Side A's ticket with a question from its contact."""
    a = portal["a"]
    ticket_message_add(ticket=a.ticket, author=a.contact.user, body=QUESTION)
    return a


def post(client, ticket, body):
    return client.post(reverse("ticket_message", args=[ticket.pk]), {"body": body}, follow=True)


def test_the_thread_marks_the_customers_messages_and_the_teams_answers(client, portal, side):  # noqa: F811
    client = signed_in(client, side.agent)
    response = post(client, side.ticket, f"  {ANSWER}  ")
    assert response.redirect_chain == [(f"/tickets/{side.ticket.pk}/#messages", 302)]
    assert messages_of(response) == [
        f"Message added to ticket #{side.ticket.pk}: the customer reads it on the portal."]
    question, answer = TicketMessage.objects.order_by("pk")
    assert (answer.author, answer.from_customer, answer.body) == (side.agent, False, ANSWER)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TICKET_MESSAGE, actor=side.agent).count() == 1
    thread = card(response.content.decode())
    assert "Messages <span class=\"muted count\">2</span>" in thread
    asked = thread[thread.index(f'id="message-{question.pk}"'):thread.index(f'id="message-{answer.pk}"')]
    assert 'class="message from-customer"' in thread and "<strong>Contact A</strong>" in asked
    assert '<span class="badge customer">Customer</span>' in asked
    assert f'<div class="message-body pre">{QUESTION}</div>' in asked
    answered = thread[thread.index(f'id="message-{answer.pk}"'):]
    assert "<strong>Agent A</strong>" in answered and '<span class="badge team">Support team</span>' in answered
    assert 'id="message-form"' in thread


def test_managers_write_accountants_read(client, portal, side):  # noqa: F811
    response = post(signed_in(client, portal["manager"]), side.ticket, "A manager's word.")
    assert messages_of(response)[0].startswith("Message added")
    client = signed_in(client, portal["accountant"])
    thread = card(client.get(reverse("ticket_detail", args=[side.ticket.pk])).content.decode())
    assert QUESTION.split("\n")[0] in thread and "A manager&#x27;s word." in thread
    assert 'id="message-form"' not in thread and 'id="messages-closed"' not in thread
    refused = client.post(reverse("ticket_message", args=[side.ticket.pk]), {"body": "An accountant's word."})
    assert refused.status_code == 403
    assert "Only the team&#x27;s agents and managers write to the customer." in refused.content.decode()
    # Another team's agent does not see the ticket at all.
    assert signed_in(client, portal["b"].agent).post(
        reverse("ticket_message", args=[side.ticket.pk]), {"body": "Hello"}).status_code == 404
    assert TicketMessage.objects.count() == 2


@pytest.mark.parametrize("status", [Ticket.Status.SOLVED, Ticket.Status.CLOSED])
def test_a_solved_or_closed_ticket_takes_no_message(client, portal, side, status):  # noqa: F811
    ticket_set_status(ticket=side.ticket, status=status)
    client = signed_in(client, side.agent)
    thread = card(client.get(reverse("ticket_detail", args=[side.ticket.pk])).content.decode())
    assert 'id="message-form"' not in thread
    label = Ticket.Status(status).label.lower()
    assert f"The ticket is {label}: messages go on open tickets." in thread
    response = post(client, side.ticket, ANSWER)  # a form left open in another tab
    assert messages_of(response) == [
        f"Ticket #{side.ticket.pk} is {label}: messages go on open tickets. Open a new ticket."]
    assert TicketMessage.objects.count() == 1


@pytest.mark.parametrize("body, message", [
    ("", "Write the message first."),
    ("   \n ", "Write the message first."),
    ("x" * 10_001, "Keep it under 10000 characters."),
    ("nul\x00", "Null characters are not allowed."),
])
def test_a_refused_message_says_why_and_adds_nothing(client, portal, side, body, message):  # noqa: F811
    response = post(signed_in(client, side.agent), side.ticket, body)
    assert response.status_code == 200
    assert messages_of(response) == [message]
    assert TicketMessage.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TICKET_MESSAGE, actor=side.agent).exists()


def test_messages_need_a_post_and_a_login(client, portal, side):  # noqa: F811
    address = reverse("ticket_message", args=[side.ticket.pk])
    assert client.post(address, {"body": "anonymous"})["Location"] == f"/login/?next={address}"
    assert signed_in(client, side.agent).get(address).status_code == 405
    assert signed_in(client, side.agent).post(reverse("ticket_message", args=[999999]),
                                              {"body": "x"}).status_code == 404
    assert TicketMessage.objects.count() == 1


def test_the_thread_in_french(client, portal, side):  # noqa: F811
    client = signed_in(client, side.agent)
    html = client.get(reverse("ticket_detail", args=[side.ticket.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    thread = card(html)
    assert '<span class="badge customer">Client</span>' in thread
    assert "Répondre au client" in thread and ">Envoyer</button>" in thread
