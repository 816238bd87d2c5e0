"""The customer portal (issue 18) against what a contact could send on purpose: fields that are not theirs to set,
methods the portal does not offer, addresses to be sent away to, hostile text; and what never reached the
customer (a cancelled draft) staying out of their sight on the screens and in the API alike."""

from django.test import Client
from django.urls import reverse

from invoicing.services import invoice_cancel
from sales.models import WorkType
from tickets.models import Ticket, TicketMessage
from timesheets.approval import timesheets_reject
from timesheets.models import CustomerReview, TimeEntry
from timesheets.services import timesheet_log

from ..factories import TeamFactory, days_ago
from .conftest import CONTACT_PASSWORD
from .test_permission_matrix import api_client_of, browser_of

API = "/api/v1"


def test_a_new_ticket_is_the_contacts_customers_whatever_the_body_says(world):
    """Customer, line, assignee, status in the body: none of them is a contact's to choose."""
    a, b = world.a, world.b
    body = {"team": a.team.pk, "title": "Printer on fire", "description": "Smoke.", "customer": b.order.customer_id,
            "sale_line": b.line.pk, "assignee": world.users["agent_b"].pk, "status": "solved", "task": b.task.pk}
    created = api_client_of(world, "contact_a").post(f"{API}/portal/tickets/", body, format="json")
    assert created.status_code == 201
    screen = browser_of(world, "contact_a").post(reverse("portal_ticket_new"), {**body, "title": "Printer again"})
    assert screen.status_code == 302
    for ticket in Ticket.objects.filter(title__startswith="Printer ").exclude(pk__in=[a.ticket.pk, b.ticket.pk]):
        assert (ticket.customer_id, ticket.team_id, ticket.assignee_id, ticket.status, ticket.task_id) == (
            a.order.customer_id, a.team.pk, None, "new", None), ticket.title
        assert ticket.sale_line_id in (None, a.line.pk)


def test_a_team_that_takes_no_portal_tickets_is_no_choice(world):
    closed = TeamFactory(name="Back office", portal_tickets=False)
    api = api_client_of(world, "contact_a").post(f"{API}/portal/tickets/", {"team": closed.pk, "title": "Hello"},
                                                 format="json")
    assert api.status_code == 400 and "team" in api.json()
    screen = browser_of(world, "contact_a").post(reverse("portal_ticket_new"), {"team": closed.pk, "title": "Hello"})
    assert screen.status_code == 400
    assert "Back office" not in browser_of(world, "contact_a").get(reverse("portal_ticket_new")).content.decode()
    assert "Back office" not in api_client_of(world, "contact_a").get(f"{API}/portal/teams/").content.decode()
    assert not Ticket.objects.filter(title="Hello").exists()


def test_the_portal_api_changes_nothing_but_through_its_actions(world):
    a = world.a
    client = api_client_of(world, "contact_a")
    for method in ("PUT", "PATCH", "DELETE"):
        for address in (f"/portal/tickets/{a.ticket.pk}/", f"/portal/timesheets/{a.open_entry.pk}/",
                        f"/portal/invoices/{a.posted.pk}/", "/portal/me/", "/portal/teams/"):
            response = client.generic(method, API + address, '{"title": "x", "minutes": 1, "status": "solved"}',
                                      content_type="application/json")
            assert response.status_code == 405, (method, address, response.status_code)
    entry = TimeEntry.objects.get(pk=a.open_entry.pk)
    assert (entry.minutes, Ticket.objects.get(pk=a.ticket.pk).status) == (a.open_entry.minutes, a.ticket.status)


def test_a_dispute_says_only_its_reason(world):
    """A dispute's body with another entry, another contact, a state: the review is the contact's, of that entry."""
    a, b = world.a, world.b
    response = api_client_of(world, "contact_a").post(
        f"{API}/portal/timesheets/{a.open_entry.pk}/dispute/",
        {"reason": "Too long.", "entry": b.open_entry.pk, "contact": world.users["contact_b"].pk, "state": "resolved",
         "answer": "Accepted", "resolution": "written_off"}, format="json")
    assert response.status_code == 200
    review = CustomerReview.objects.get(entry=a.open_entry)
    assert (review.state, review.reason, review.contact, review.answer, review.resolution) == (
        "disputed", "Too long.", world.users["contact_a"], "", "")
    assert not CustomerReview.objects.filter(entry=b.open_entry).exists()


HOSTILE_TEXT = ["\x00", "x" * 100_000, "", "   "]


def test_hostile_dispute_reasons_are_refused_not_500(world):
    a = world.a
    api, screen = api_client_of(world, "contact_a"), browser_of(world, "contact_a")
    for value in [*HOSTILE_TEXT, ["a", "b"], {"a": 1}, None]:
        response = api.post(f"{API}/portal/timesheets/{a.open_entry.pk}/dispute/", {"reason": value}, format="json")
        assert response.status_code == 400, (repr(value)[:20], response.content[:200])
        if isinstance(value, str):
            answer = screen.post(reverse("portal_entry_dispute", args=[a.open_entry.pk]), {"reason": value})
            assert answer.status_code == 400, repr(value)[:20]
    assert not CustomerReview.objects.filter(entry=a.open_entry).exists()


def test_hostile_messages_and_tickets_are_refused_not_500(world):
    a = world.a
    api, screen = api_client_of(world, "contact_a"), browser_of(world, "contact_a")
    for value in HOSTILE_TEXT:
        assert api.post(f"{API}/portal/tickets/{a.ticket.pk}/messages/", {"body": value}, format="json"
                        ).status_code == 400
        assert api.post(f"{API}/portal/tickets/", {"team": a.team.pk, "title": value}, format="json"
                        ).status_code == 400
        assert screen.post(reverse("portal_ticket_message", args=[a.ticket.pk]), {"body": value}).status_code == 400
        assert screen.post(reverse("portal_ticket_new"), {"team": a.team.pk, "title": value}).status_code == 400
    assert not TicketMessage.objects.exists()
    assert Ticket.objects.count() == 2


HOSTILE_QUERIES = ["?page=-1", "?page=abc", "?page=99999999999999999999", "?status=%00", "?q=%00", "?q=" + "x" * 5000,
                   "?status=all&q=%25", "?ticket=abc", "?ticket=99999999999999999999", "?ordering=user__password",
                   "?kind=%00", "?payment_state=x"]


def test_hostile_queries_never_500(world):
    screen, api = browser_of(world, "contact_a"), api_client_of(world, "contact_a")
    for query in HOSTILE_QUERIES:
        for name in ("portal_tickets", "portal_invoices", "portal_hours", "portal_home"):
            assert screen.get(reverse(name) + query).status_code in (200, 400, 404), (name, query)
        for address in ("tickets/", "timesheets/", "invoices/", "lines/", "teams/"):
            response = api.get(f"{API}/portal/{address}{query}")
            assert response.status_code in (200, 400, 404), (address, query, response.status_code)
            assert b"pbkdf2" not in response.content and b"md5$" not in response.content


def test_the_portal_login_never_sends_away(world):
    """`next` to another site is ignored: the contact lands in their portal."""
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "https:evil.example"):
        client = Client()
        response = client.post(f"{reverse('portal_login')}?next={target}", {
            "username": world.users["contact_a"].email, "password": CONTACT_PASSWORD, "next": target})
        assert (response.status_code, response["Location"]) == (302, reverse("portal_home")), target


def test_a_cancelled_draft_never_reaches_the_customer(world):
    """A draft never reached the customer; cancelled, it still did not: not on the screens, nor in the API."""
    a = world.a
    cancelled = invoice_cancel(invoice=a.draft)
    screen, api = browser_of(world, "contact_a"), api_client_of(world, "contact_a")
    seen = []
    for client, address in ((screen, reverse("portal_invoice", args=[cancelled.pk])),
                            (screen, reverse("portal_invoice_pdf", args=[cancelled.pk])),
                            (api, f"{API}/portal/invoices/{cancelled.pk}/"),
                            (api, f"{API}/portal/invoices/{cancelled.pk}/pdf/")):
        if (status := client.get(address).status_code) != 404:
            seen.append(f"{address}: {status}")
    if f"invoice-{cancelled.pk}" in screen.get(reverse("portal_invoices")).content.decode():
        seen.append("listed on the Invoices screen")
    if cancelled.pk in [row["id"] for row in api.get(f"{API}/portal/invoices/").json()["results"]]:
        seen.append(f"listed by {API}/portal/invoices/")
    assert "\n".join(seen) == ""


def test_internal_and_rejected_time_never_reaches_the_customer(world):
    """An entry of a non-billable work type (internal notes) and one a manager rejected, on the customer's own
    ticket: not on the portal's pages nor in its API, not theirs to acknowledge or dispute (404)."""
    a = world.a
    internal = timesheet_log(user=a.agent, date=days_ago(0), minutes=50, ticket=a.ticket,
                             work_type=WorkType.objects.create(name="Internal", billing="non_billable"),
                             description="Internal: the customer's admin is hopeless")
    rejected = timesheet_log(user=a.agent, date=days_ago(0), minutes=35, ticket=a.ticket,
                             description="Rejected: logged twice")
    timesheets_reject(ids=[rejected.pk], reason="Twice", actor=world.users["manager"])
    screen, api = browser_of(world, "contact_a"), api_client_of(world, "contact_a")
    pages = [screen.get(reverse(name, args=args)).content.decode() for name, args in (
        ("portal_home", []), ("portal_ticket", [a.ticket.pk]), ("portal_hours", []))]
    pages += [api.get(f"{API}/portal/timesheets/").content.decode(),
              api.get(f"{API}/portal/tickets/{a.ticket.pk}/").content.decode()]
    assert [text for text in pages if "Internal:" in text or "Rejected:" in text or "hopeless" in text] == []
    for entry in (internal, rejected):
        assert api.get(f"{API}/portal/timesheets/{entry.pk}/").status_code == 404
        assert api.post(f"{API}/portal/timesheets/{entry.pk}/dispute/", {"reason": "x"}).status_code == 404
        assert api.post(f"{API}/portal/timesheets/{entry.pk}/acknowledge/").status_code == 404
        assert screen.post(reverse("portal_entry_dispute", args=[entry.pk]), {"reason": "x"}).status_code == 404
        assert screen.post(reverse("portal_entry_acknowledge", args=[entry.pk])).status_code == 404
    assert not CustomerReview.objects.filter(entry__in=[internal, rejected]).exists()
    # The ticket's time billed and to bill in the API counts neither.
    ticket = api.get(f"{API}/portal/tickets/{a.ticket.pk}/").json()
    assert ticket["minutes_to_bill"] + ticket["minutes_billed"] == sum(
        entry.minutes for entry in (a.invoiced_entry, a.drafted_entry, a.open_entry))


def test_asking_for_an_action_with_get_does_nothing(world):
    """A link or an image pointing at an action's address (GET) changes nothing: only the form's POST acts."""
    a = world.a
    screen, api = browser_of(world, "contact_a"), api_client_of(world, "contact_a")
    for name in ("portal_entry_acknowledge", "portal_entry_dispute"):
        response = screen.get(reverse(name, args=[a.open_entry.pk]) + "?reason=Not+ours")
        assert response.status_code == 302
    assert screen.get(reverse("portal_ticket_message", args=[a.ticket.pk]) + "?body=Hi").status_code == 302
    for action in ("acknowledge", "dispute"):
        assert api.get(f"{API}/portal/timesheets/{a.open_entry.pk}/{action}/?reason=x").status_code == 405
    assert not CustomerReview.objects.exists() and not TicketMessage.objects.exists()
