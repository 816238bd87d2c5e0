"""The customer portal's screens (issue 18): who may open them, signing in and the one-time links, the home,
tickets with their timesheets (acknowledge, dispute), messages and history, hours, invoices and their PDF.

Side "a"'s contact reads their own customer's objects; side "b"'s are not found (404); staff get the 403 page;
strangers are sent to the portal's sign-in page. Figures are exact: durations H:MM, quantities in the line's
unit, money in the invoice's currency.
"""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent, LoginFailure
from invoicing.models import Invoice
from invoicing.payments import payment_register
from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from sales.contacts import contact_invite
from sales.models import Company, ServicePolicy
from tickets.models import HelpdeskTeam, Ticket, TicketMessage
from tickets.services import ticket_message_add, ticket_set_status
from timesheets.disputes import dispute_resolve, entry_dispute
from timesheets.models import CustomerReview, TimeEntry
from timesheets.services import timesheet_log

from ..factories import ProductFactory, TeamFactory, TicketFactory, UserFactory, confirmed_line, days_ago
from ..jobs import run_jobs
from .conftest import PASSWORD, link_of

pytestmark = pytest.mark.django_db

SCREENS = [("portal_home", 0), ("portal_tickets", 0), ("portal_ticket_new", 0), ("portal_ticket", 1),
           ("portal_hours", 0), ("portal_invoices", 0), ("portal_invoice", 1), ("portal_invoice_pdf", 1)]
ACTIONS = ["portal_ticket_message", "portal_entry_acknowledge", "portal_entry_dispute"]
STAFF_REFUSED = "The customer portal is for our customers&#x27; contacts."
WRONG = "Please enter a correct email address and password."


def address(name: str, side, *, pk=None) -> str:
    """The screen's address for side's object (its ticket, posted invoice, or open entry)."""
    if name in ("portal_ticket", "portal_ticket_message"):
        return reverse(name, args=[pk or side.ticket.pk])
    if name in ("portal_invoice", "portal_invoice_pdf"):
        return reverse(name, args=[pk or side.posted.pk])
    if name in ("portal_entry_acknowledge", "portal_entry_dispute"):
        return reverse(name, args=[pk or side.open_entry.pk])
    return reverse(name)


def text(response) -> str:
    """The page's text, tags and spaces squeezed: what a reader reads."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip()


def flashes(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Who may open what ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, ids", SCREENS)
def test_a_stranger_is_sent_to_the_portal_login(client, portal, name, ids):
    path = address(name, portal["a"])
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/portal/login/?next={path}"


@pytest.mark.parametrize("persona", ["agent", "accountant", "manager"])
def test_staff_get_the_403_page_on_every_portal_screen(client, portal, persona):
    users = {"agent": portal["a"].agent, "accountant": portal["accountant"], "manager": portal["manager"]}
    client.force_login(users[persona])
    for name, _ids in SCREENS:
        response = client.get(address(name, portal["a"]))
        assert response.status_code == 403, name
        assert STAFF_REFUSED in response.content.decode()
    for name in ACTIONS:
        assert client.post(address(name, portal["a"]), {"body": "x", "reason": "x"}).status_code == 403
    assert not TicketMessage.objects.exists() and not CustomerReview.objects.exists()


def test_another_customers_objects_are_not_found(portal, contact_client):
    a, b = portal["a"], portal["b"]
    client = contact_client(a)
    for name in ("portal_ticket", "portal_invoice", "portal_invoice_pdf"):
        response = client.get(address(name, b))
        assert response.status_code == 404, name
        assert "Nothing here" in text(response) and "Portal customer b" not in text(response)
    assert client.post(address("portal_ticket_message", b), {"body": "Hello"}).status_code == 404
    assert client.post(address("portal_entry_acknowledge", b)).status_code == 404
    assert client.post(address("portal_entry_dispute", b), {"reason": "Not ours"}).status_code == 404
    assert not TicketMessage.objects.exists() and not CustomerReview.objects.exists()
    b.open_entry.refresh_from_db()
    assert not b.open_entry.held


@pytest.mark.parametrize("pk", [999_999, 99_999_999_999_999_999_999, 9_223_372_036_854_775_808])
def test_wrong_ids_are_not_found(portal, contact_client, pk):
    client = contact_client(portal["a"])
    for name in ("portal_ticket", "portal_invoice", "portal_invoice_pdf"):
        assert client.get(address(name, portal["a"], pk=pk)).status_code == 404
    for name in ACTIONS:
        assert client.post(address(name, portal["a"], pk=pk), {"body": "x", "reason": "x"}).status_code == 404


def test_a_draft_and_a_cancelled_draft_are_not_found(portal, contact_client):
    a = portal["a"]
    draft = invoice_create_from_order(order=a.line.order, actor=portal["accountant"])
    client = contact_client(a)
    assert client.get(reverse("portal_invoice", args=[draft.pk])).status_code == 404
    from invoicing.services import invoice_cancel

    invoice_cancel(invoice=draft, actor=portal["accountant"])
    assert client.get(reverse("portal_invoice", args=[draft.pk])).status_code == 404
    assert f"Draft invoice #{draft.pk}" not in text(client.get(reverse("portal_invoices")))


def test_an_unknown_portal_address_is_the_portals_not_found_page(portal, contact_client):
    client = contact_client(portal["a"])
    response = client.get("/portal/nothing/here/")
    assert response.status_code == 404
    assert "Back to your portal" in text(response) and "Contact A" in text(response)
    response = client.get("/portal/tickets")
    assert response.status_code == 301 and response["Location"] == "/portal/tickets/"


def test_the_post_only_addresses_send_a_get_back_to_the_ticket(portal, contact_client):
    a = portal["a"]
    client = contact_client(a)
    assert client.get(address("portal_ticket_message", a))["Location"] == f"/portal/tickets/{a.ticket.pk}/"
    for name in ("portal_entry_acknowledge", "portal_entry_dispute"):
        response = client.get(address(name, a))
        assert response["Location"] == f"/portal/tickets/{a.ticket.pk}/#entry-{a.open_entry.pk}"
    assert not CustomerReview.objects.exists()


# --- Signing in ---------------------------------------------------------------------------------------

def login(client, username, password, *, next_page=None):
    data = {"username": username, "password": password}
    if next_page is not None:
        data["next"] = next_page
    return client.post(reverse("portal_login"), data, REMOTE_ADDR="203.0.113.9")


def test_a_contact_logs_in_with_their_email_as_they_type_it(client, portal):
    page = client.get(reverse("portal_login"))
    assert page.status_code == 200 and "Email address" in text(page) and "Forgot your password?" in text(page)
    response = login(client, " Contact-A@Example.com ", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert int(client.session["_auth_user_id"]) == portal["a"].contact.user.pk
    # Signed in, the sign-in page goes on to the portal.
    assert client.get(reverse("portal_login"))["Location"] == "/portal/"


def test_the_login_honours_a_safe_next_only(client, portal):
    assert login(client, "contact-a@example.com", PASSWORD, next_page="/portal/hours/")["Location"] == "/portal/hours/"
    client.logout()
    assert login(client, "contact-a@example.com", PASSWORD,
                 next_page="https://evil.example/portal/")["Location"] == "/portal/"


def test_staff_are_refused_as_a_wrong_password_is(client, portal):
    staff = UserFactory(username="staff@example.com", email="staff@example.com", role="Managers", is_staff=True)
    refused = login(client, "staff@example.com", "secret-pass-123")
    wrong = login(client, "contact-a@example.com", "wrong-pass-123")
    unknown = login(client, "nobody@example.com", "wrong-pass-123")
    for response in (refused, wrong, unknown):
        assert response.status_code == 200
        assert list(response.context["form"].non_field_errors()) == [
            "Please enter a correct email address and password. Note that the password is case-sensitive."]
    assert "_auth_user_id" not in client.session
    assert staff.pk  # the staff account exists, and the page said nothing of it


def test_the_portal_login_is_throttled_as_login_is(client, portal):
    for attempt in range(5):
        response = login(client, "contact-a@example.com", f"guess-{attempt}")
    errors = " ".join(response.context["form"].non_field_errors())
    assert errors == ("Too many failed logins for this address. Try again in 15 minutes, or choose a new password "
                      "with \"Forgot your password?\".")
    right = login(client, "contact-a@example.com", PASSWORD)
    assert right.status_code == 200 and "_auth_user_id" not in client.session
    assert LoginFailure.objects.filter(username="contact-a@example.com").count() == 5


def test_log_out_goes_back_to_the_portal_login(portal, contact_client):
    client = contact_client(portal["a"])
    page = client.get(reverse("portal_home"))
    assert '<input type="hidden" name="next" value="/portal/login/">' in page.content.decode()
    response = client.post("/logout/", {"next": "/portal/login/"})
    assert response["Location"] == "/portal/login/" and "_auth_user_id" not in client.session


# --- The one-time links -------------------------------------------------------------------------------

def test_an_invited_contact_chooses_a_password_and_is_in(client, portal):
    contact = contact_invite(customer=portal["a"].ticket.customer, email="new@example.com", name="Nora New",
                             actor=portal["manager"])
    uid, token = link_of(contact.user)
    link = reverse("portal_password_set", args=[uid, token])
    page = client.get(link)
    assert page.status_code == 200 and "Choose your password" in text(page) and "new@example.com" in text(page)

    differ = client.post(link, {"password1": "a-long-pass-2026", "password2": "another-pass-2026"})
    assert differ.status_code == 400
    assert differ.context["form"].errors == {"password2": ["The two passwords differ: type the same one twice."]}
    weak = client.post(link, {"password1": "12345", "password2": "12345"})
    assert weak.status_code == 400
    assert weak.context["form"].errors["password1"] == [
        "This password is too short. It must contain at least 8 characters.", "This password is too common.",
        "This password is entirely numeric."]
    contact.user.refresh_from_db()
    assert not contact.user.has_usable_password()

    done = client.post(link, {"password1": "nora-pass-2026", "password2": "nora-pass-2026"}, follow=True)
    assert done.redirect_chain == [("/portal/", 302)]
    assert flashes(done) == ["Your password is set. Welcome, Nora New."]
    assert int(client.session["_auth_user_id"]) == contact.user.pk
    assert AuditEvent.objects.filter(action="contact.joined", object_id=contact.pk).count() == 1

    # The link is spent: a clear page, and the way to a new one.
    client.logout()
    for used in (client.get(link), client.post(link, {"password1": "x-pass-2026-y", "password2": "x-pass-2026-y"})):
        assert used.status_code == 400
        assert "This link no longer works" in text(used)
        assert reverse("portal_password_forgot") in used.content.decode()
    contact.user.refresh_from_db()
    assert contact.user.check_password("nora-pass-2026")


def test_a_broken_link_is_refused_the_same(client, portal):
    for uid, token in (("MTIzNDU2", "abc-def"), ("%%%", "x"), ("MQ", "1-1")):
        response = client.get(f"/portal/password/{uid}/{token}/")
        assert response.status_code in (400, 404)
        if response.status_code == 400:
            assert "This link no longer works" in text(response)


def test_forgot_password_answers_the_same_for_any_address(client, portal):
    page = client.get(reverse("portal_password_forgot"))
    assert page.status_code == 200 and "Forgot your password?" in text(page)
    answers = {}
    for email in ("contact-a@example.com", "nobody-here@example.com", portal["a"].agent.email or "agent@x.example"):
        response = client.post(reverse("portal_password_forgot"), {"email": email})
        assert response.status_code == 200
        answers[email] = text(response).replace(email, "EMAIL")
    assert len(set(answers.values())) == 1
    assert "a link to choose a new password is on its way to it" in next(iter(answers.values()))
    assert run_jobs() == 1
    assert [message.to for message in mail.outbox] == [["contact-a@example.com"]]
    assert "/portal/password/" in mail.outbox[0].body


def test_forgot_password_asks_for_an_email_address(client, portal):
    response = client.post(reverse("portal_password_forgot"), {"email": "not an address"})
    assert response.status_code == 400
    assert response.context["form"].errors == {"email": ["Enter a valid email address."]}
    assert run_jobs() == 0


# --- Home ---------------------------------------------------------------------------------------------

@pytest.fixture
def prepaid(portal):
    return prepaid_block(portal["a"])


def prepaid_block(a):
    """Side a's prepaid block of 20 h on a second order, 5:30 used on a ticket of its own."""
    block = ProductFactory(name="Support block", service_policy=ServicePolicy.ORDERED_PREPAID)
    line = confirmed_line(order__customer=a.ticket.customer, product=block, quantity=20, name="Prepaid block a")
    ticket = TicketFactory(team=a.team, customer=a.ticket.customer, sale_line=line, title="Prepaid work a")
    timesheet_log(user=a.agent, date=days_ago(10), minutes=180, ticket=ticket, description="Block work 1")
    timesheet_log(user=a.agent, date=days_ago(2), minutes=150, ticket=ticket, description="Block work 2")
    line.refresh_from_db()
    return line


def test_the_home_says_where_the_customer_stands(portal, contact_client, prepaid):
    a = portal["a"]
    entry_dispute(entry=a.other_open_entry, contact=a.contact, reason="Too long for a reboot")
    response = contact_client(a).get(reverse("portal_home"))
    assert response.status_code == 200
    page = text(response)
    assert "Portal customer a" in page and "Hello Contact: here is where your support stands today." in page
    context = response.context
    assert context["open_count"] == 2
    assert [(t.title, t.minutes_spent) for t in context["latest"]] == [("Prepaid work a", 330),
                                                                         ("Portal ticket of a", 180)]
    assert context["not_billed"] == 90  # the open 1:30; the disputed 0:30 is held, the block's time is prepaid
    assert "1:30" in page
    assert [invoice.number for invoice in context["unpaid"]] == [a.posted.number]
    assert f"{a.posted.number} {a.posted.due_date:%Y-%m-%d} €90.00" in page
    assert [entry.pk for entry in context["disputes"]] == [a.other_open_entry.pk]
    assert "Your reason: Too long for a reboot" in page
    assert "Prepaid block a 14.50 h left of 20.00 h" in page
    for marker in portal["b"].markers:
        assert marker not in page


# --- Tickets ------------------------------------------------------------------------------------------

def test_the_tickets_list_open_and_all_with_a_search(portal, contact_client, prepaid):
    a = portal["a"]
    client = contact_client(a)
    ticket_set_status(ticket=a.ticket, status=Ticket.Status.SOLVED, actor=portal["manager"])
    response = client.get(reverse("portal_tickets"))
    assert [(t.title, t.minutes_spent) for t in response.context["page_obj"]] == [("Prepaid work a", 330)]
    everything = client.get(reverse("portal_tickets"), {"status": "all"})
    assert [(t.title, t.get_status_display(), t.minutes_spent) for t in everything.context["page_obj"]] == [
        ("Prepaid work a", "New", 330), ("Portal ticket of a", "Solved", 180)]
    assert "Portal ticket of a Portal team a Solved" in text(everything) and "3:00" in text(everything)
    by_title = client.get(reverse("portal_tickets"), {"status": "all", "q": "PORTAL TICKET"})
    assert [t.pk for t in by_title.context["page_obj"]] == [a.ticket.pk]
    by_number = client.get(reverse("portal_tickets"), {"status": "all", "q": f"#{a.ticket.pk}"})
    assert [t.pk for t in by_number.context["page_obj"]] == [a.ticket.pk]
    other = client.get(reverse("portal_tickets"), {"status": "all", "q": str(portal["b"].ticket.pk)})
    assert list(other.context["page_obj"]) == []
    odd = client.get(reverse("portal_tickets"), {"status": "nonsense", "q": "\x00" * 3, "page": "x"})
    assert odd.status_code == 200


def test_a_contact_opens_a_ticket_for_a_portal_team(portal, contact_client):
    a = portal["a"]
    TeamFactory(name="Internal only team", portal_tickets=False)
    client = contact_client(a)
    page = client.get(reverse("portal_ticket_new"))
    assert [team.name for team in page.context["form"].fields["team"].queryset] == ["Portal team a", "Portal team b"]
    assert "Internal only team" not in text(page)
    response = client.post(reverse("portal_ticket_new"), {"team": a.team.pk, "title": " The VPN drops ",
                                                          "description": "Every hour."}, follow=True)
    ticket = Ticket.objects.get(title="The VPN drops")
    assert response.redirect_chain == [(f"/portal/tickets/{ticket.pk}/", 302)]
    assert flashes(response) == [f"Ticket #{ticket.pk} created: the support team has been told."]
    assert (ticket.customer, ticket.team, ticket.status, ticket.assignee, ticket.description) == (
        a.ticket.customer, a.team, "new", None, "Every hour.")
    event = AuditEvent.objects.get(action="ticket.created", object_id=ticket.pk)
    assert event.actor == a.contact.user
    assert "Ticket created for Portal team a" in text(response)


def test_a_new_ticket_refused_comes_back_with_its_messages(portal, contact_client):
    a = portal["a"]
    client = contact_client(a)
    closed = TeamFactory(name="Closed team", portal_tickets=False)
    before = Ticket.objects.count()
    for data, errors in [
        ({"team": closed.pk, "title": "Help"}, {"team": ["Choose one of the teams in the list."]}),
        ({"team": "abc", "title": "Help"}, {"team": ["Choose one of the teams in the list."]}),
        ({"team": a.team.pk, "title": "   "}, {"title": ["This field is required."]}),
        ({"team": a.team.pk, "title": "x" * 301}, {"title": ["Ensure this value has at most 300 characters "
                                                             "(it has 301)."]}),
    ]:
        response = client.post(reverse("portal_ticket_new"), data)
        assert response.status_code == 400
        assert response.context["form"].errors == errors
    assert Ticket.objects.count() == before


def test_no_portal_team_says_so(portal, contact_client):
    HelpdeskTeam.objects.update(portal_tickets=False)
    Company.objects.update_or_create(pk=1, defaults={"email": "help@support.example"})
    response = contact_client(portal["a"]).get(reverse("portal_ticket_new"))
    assert "No team takes tickets from the portal at the moment. Write to us at help@support.example" in text(
        response)


def rows(response) -> dict[int, tuple]:
    """{entry id: (duration, agent, state)} of the ticket page's Timesheets."""
    return {row.entry.pk: (row.entry.duration, row.agent, row.state) for row in response.context["rows"]}


def test_the_ticket_page_shows_its_timesheets_and_their_totals(portal, contact_client):
    a = portal["a"]
    response = contact_client(a).get(reverse("portal_ticket", args=[a.ticket.pk]))
    assert response.status_code == 200
    assert rows(response) == {a.other_open_entry.pk: ("0:30", "Agent A", "to_invoice"),
                              a.open_entry.pk: ("1:30", "Agent A", "to_invoice"),
                              a.invoiced_entry.pk: ("1:00", "Agent A", "invoiced")}
    totals = response.context["totals"]
    assert (totals["billed"], totals["not_billed"], totals["held"], totals["all"]) == (60, 120, 0, 180)
    page = text(response)
    assert f"Invoiced on {a.posted.number}" in page
    assert "Billed 1:00 Not yet billed 2:00 Total 3:00" in page
    assert "Portal team a" in page
    html = response.content.decode()
    # Acknowledge and Dispute on the entries not invoiced only.
    assert html.count('action="/portal/timesheets/') == 4
    assert f'action="/portal/timesheets/{a.invoiced_entry.pk}/' not in html
    for marker in portal["b"].markers:
        assert marker not in page


def test_agents_names_or_the_support_team_as_the_company_says(portal, contact_client):
    a = portal["a"]
    ticket_message_add(ticket=a.ticket, author=a.agent, body="We are on it.")
    Company.objects.update_or_create(pk=1, defaults={"portal_shows_agents": False})
    response = contact_client(a).get(reverse("portal_ticket", args=[a.ticket.pk]))
    assert {agent for _duration, agent, _state in rows(response).values()} == {"Support team"}
    assert [item["author"] for item in response.context["thread"]] == ["Support team"]
    assert "Agent A" not in text(response) and a.agent.username not in text(response)


def test_acknowledge_then_dispute_an_entry(portal, contact_client):
    a = portal["a"]
    client = contact_client(a)
    response = client.post(reverse("portal_entry_acknowledge", args=[a.open_entry.pk]), follow=True)
    assert response.redirect_chain == [(f"/portal/tickets/{a.ticket.pk}/#entry-{a.open_entry.pk}", 302)]
    date = a.open_entry.date.isoformat()
    assert flashes(response) == [f"Acknowledged: 1:30 of {date}."]
    review = CustomerReview.objects.get(entry=a.open_entry)
    assert (review.state, review.contact) == ("acknowledged", a.contact.user)
    row = next(row for row in response.context["rows"] if row.entry.pk == a.open_entry.pk)
    assert (row.can_acknowledge, row.can_dispute) == (False, True)
    assert "Acknowledged" in text(response)

    response = client.post(reverse("portal_entry_dispute", args=[a.open_entry.pk]),
                           {"reason": "The call took ten minutes."}, follow=True)
    assert flashes(response) == [f"Disputed: 1:30 of {date}. We will look into it and answer you here."]
    review.refresh_from_db()
    a.open_entry.refresh_from_db()
    assert (review.state, review.reason, a.open_entry.held, a.open_entry.billable_minutes) == (
        "disputed", "The call took ten minutes.", True, 0)
    assert rows(response)[a.open_entry.pk] == ("1:30", "Agent A", "held")
    totals = response.context["totals"]
    assert (totals["billed"], totals["not_billed"], totals["held"], totals["all"]) == (60, 30, 90, 180)
    page = text(response)
    assert "Held: disputed Disputed: The call took ten minutes." in page
    assert ("Disputed 1:30: “The call took ten minutes.”; held out of invoices until resolved Timesheet of "
            f"{date}: Open work a") in page
    events = AuditEvent.objects.filter(object_type="timesheets.timeentry", object_id=a.open_entry.pk,
                                       action__in=["entry.acknowledged", "entry.disputed"]).order_by("pk")
    assert [(event.action, event.actor) for event in events] == [("entry.acknowledged", a.contact.user),
                                                                  ("entry.disputed", a.contact.user)]
    assert [event["what"] for event in response.context["history"]] == [
        "Acknowledged 1:30 as logged", "Disputed 1:30: “The call took ten minutes.”; held out of invoices until "
                                       "resolved"]

    # Twice: refused with the reason, nothing changed.
    again = client.post(reverse("portal_entry_dispute", args=[a.open_entry.pk]), {"reason": "Again"}, follow=True)
    assert flashes(again) == [f"Timesheet {a.open_entry.pk} is already disputed."]
    assert AuditEvent.objects.filter(action="entry.disputed").count() == 1


def test_a_dispute_without_a_reason_is_refused_on_its_form(portal, contact_client):
    a = portal["a"]
    for reason in ("", "   ", "x" * 501):
        response = contact_client(a).post(reverse("portal_entry_dispute", args=[a.open_entry.pk]), {"reason": reason})
        assert response.status_code == 400
        row = next(row for row in response.context["rows"] if row.entry.pk == a.open_entry.pk)
        expected = ["Say why you dispute this time."] if len(reason) < 500 else [
            "Ensure this value has at most 500 characters (it has 501)."]
        assert row.dispute_form.errors["reason"] == expected
        assert f'class="sub dispute-row open" id="dispute-{a.open_entry.pk}"' in response.content.decode()
    assert not CustomerReview.objects.exists()


def test_invoiced_time_is_neither_acknowledged_nor_disputed(portal, contact_client):
    a = portal["a"]
    client = contact_client(a)
    for name, data in (("portal_entry_acknowledge", {}), ("portal_entry_dispute", {"reason": "Too much"})):
        response = client.post(reverse(name, args=[a.invoiced_entry.pk]), data, follow=True)
        assert flashes(response) == ["You cannot modify timesheets that are already invoiced."]
    assert not CustomerReview.objects.exists()


def test_a_resolved_dispute_shows_the_answer(portal, contact_client):
    a = portal["a"]
    entry_dispute(entry=a.open_entry, contact=a.contact, reason="It was an hour")
    dispute_resolve(entry=a.open_entry, resolution="corrected", answer="You are right: an hour.", minutes=60,
                    actor=portal["accountant"])
    response = contact_client(a).get(reverse("portal_ticket", args=[a.ticket.pk]))
    assert rows(response)[a.open_entry.pk] == ("1:00", "Agent A", "to_invoice")
    page = text(response)
    assert ("To invoice Resolved: You are right: an hour. Corrected from 1:30 to 1:00 · you said: It was an hour"
            in page)
    assert ("Dispute resolved: corrected from 1:30 to 1:00: “You are right: an hour.” Timesheet of "
            f"{a.open_entry.date.isoformat()}: Open work a") in page
    assert [event["who"] for event in response.context["history"]] == ["Contact A", "portal-accountant"]
    row = next(row for row in response.context["rows"] if row.entry.pk == a.open_entry.pk)
    assert (row.can_acknowledge, row.can_dispute) == (False, False)


def test_a_message_on_the_ticket(portal, contact_client):
    a = portal["a"]
    client = contact_client(a)
    response = client.post(reverse("portal_ticket_message", args=[a.ticket.pk]),
                           {"body": "  The printer is back.  "}, follow=True)
    assert response.redirect_chain == [(f"/portal/tickets/{a.ticket.pk}/#messages", 302)]
    assert flashes(response) == ["Message sent."]
    message = TicketMessage.objects.get()
    assert (message.ticket, message.author, message.from_customer, message.body) == (
        a.ticket, a.contact.user, True, "The printer is back.")
    ticket_message_add(ticket=a.ticket, author=a.agent, body="Good news.")
    page = client.get(reverse("portal_ticket", args=[a.ticket.pk]))
    assert [(item["author"], item["message"].body) for item in page.context["thread"]] == [
        ("Contact A", "The printer is back."), ("Agent A", "Good news.")]
    assert [(event["who"], event["what"]) for event in page.context["history"]] == [
        ("Contact A", "Message from the customer"), ("Agent A", "Message from the support team")]
    assert AuditEvent.objects.filter(action="ticket.message", actor=a.contact.user).count() == 1


def test_a_message_refused(portal, contact_client):
    a = portal["a"]
    client = contact_client(a)
    empty = client.post(reverse("portal_ticket_message", args=[a.ticket.pk]), {"body": "  "})
    assert empty.status_code == 400
    assert empty.context["message_form"].errors == {"body": ["This field is required."]}
    ticket_set_status(ticket=a.ticket, status=Ticket.Status.CLOSED, actor=portal["manager"])
    closed = client.post(reverse("portal_ticket_message", args=[a.ticket.pk]), {"body": "Hello?"}, follow=True)
    assert flashes(closed) == [f"Ticket #{a.ticket.pk} is closed: messages go on open tickets. Open a new ticket."]
    assert "This ticket is closed: to take it further, open a new ticket" in text(closed)
    assert 'id="message-form"' not in closed.content.decode()
    assert not TicketMessage.objects.exists()
    assert [event["what"] for event in closed.context["history"]] == ["Status changed from New to Closed"]


# --- Hours --------------------------------------------------------------------------------------------

def test_hours_per_line_with_the_prepaid_burn_down(portal, contact_client, prepaid):
    a = portal["a"]
    response = contact_client(a).get(reverse("portal_hours"))
    assert response.status_code == 200
    page = text(response)
    assert (f"{a.line.order.name} Support hours a Based on Timesheets 10.00 h 3.00 h 1.00 h 2.00 h —") in page
    assert (f"{prepaid.order.name} Prepaid block a Prepaid/Fixed Price 20.00 h 5.50 h 0.00 h 20.00 h 14.50 h"
            in page)
    html = response.content.decode()
    assert html.count("<svg") == 1 and f'id="burndown-{prepaid.pk}"' in html
    assert f"Burn-down of {prepaid.order.name} – Prepaid block a" in html
    assert "14.50 h left of 20.00 h" in page
    for marker in portal["b"].markers:
        assert marker not in page


def test_hours_in_french(portal, contact_client, prepaid):
    response = contact_client(portal["a"]).get(reverse("portal_hours"), HTTP_ACCEPT_LANGUAGE="fr")
    assert "20,00\u00a0h 5,50\u00a0h 0,00\u00a0h 20,00\u00a0h 14,50\u00a0h" in text(response)


# --- Invoices -----------------------------------------------------------------------------------------

def test_the_invoices_their_payment_and_credit_notes(portal, contact_client):
    a = portal["a"]
    payment_register(invoice=a.posted, amount=Decimal("40.00"), actor=portal["accountant"])
    note = invoice_post(invoice=invoice_credit_note(invoice=a.posted, entry_ids=[a.invoiced_entry.pk],
                                                    actor=portal["accountant"]), actor=portal["accountant"])
    invoice_create_from_order(order=a.line.order, actor=portal["accountant"])  # a draft: not shown
    client = contact_client(a)
    response = client.get(reverse("portal_invoices"))
    assert [invoice.number for invoice in response.context["page_obj"]] == [note.number, a.posted.number]
    page = text(response)
    assert f"{note.number} Credit Note credit note of {a.posted.number}" in page
    assert "−€90.00" in page
    a.posted.refresh_from_db()
    assert (a.posted.payment_state, a.posted.amount_residual) == ("paid", Decimal("0.00"))
    assert f"{a.posted.number} {a.posted.invoice_date:%Y-%m-%d} {a.posted.due_date:%Y-%m-%d} Paid €90.00 €0.00" in page

    detail = client.get(reverse("portal_invoice", args=[a.posted.pk]))
    page = text(detail)
    assert f"Invoice {a.posted.number} Paid" in page
    assert "Support hours a 1 entry, 1:00 worked → 1:00 billed 1.00 hours €90.00 0% €90.00" in page
    assert f"{a.invoiced_entry.date:%Y-%m-%d} #{a.ticket.pk} Portal ticket of a Invoiced work a Agent A 1:00" in page
    assert ("Untaxed amount €90.00 Tax 0% on €90.00 €0.00 Total €90.00 Credited −€50.00 Paid −€40.00 "
            "Amount due €0.00") in page
    assert f"Credit notes {note.number}" in page
    credit = text(client.get(reverse("portal_invoice", args=[note.pk])))
    assert f"Credit Note {note.number}" in credit and f"Corrects {a.posted.number}" in credit
    assert "Total credited €90.00" in credit


def test_an_unpaid_invoice_says_how_to_pay(portal, contact_client):
    a = portal["a"]
    Company.objects.update_or_create(pk=1, defaults={"iban": "BE68539007547034", "bic": "GEBABEBB"})
    posted = invoice_post(invoice=invoice_create_from_order(order=a.line.order, actor=portal["accountant"]),
                          actor=portal["accountant"])
    page = text(contact_client(a).get(reverse("portal_invoice", args=[posted.pk])))
    assert f"Due date {posted.due_date:%Y-%m-%d}" in page
    assert "Pay to BE68 5390 0754 7034 · BIC GEBABEBB" in page
    assert f"Payment reference {posted.payment_reference}" in page
    assert "Total €180.00 Amount due €180.00" in page


def test_the_pdf_is_the_stored_one(portal, contact_client):
    a = portal["a"]
    response = contact_client(a).get(reverse("portal_invoice_pdf", args=[a.posted.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{a.posted.number.replace("/", "-")}.pdf"'
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_pdf_being_prepared(portal, contact_client):
    a = portal["a"]
    posted = invoice_post(invoice=invoice_create_from_order(order=a.line.order, actor=portal["accountant"]),
                          actor=portal["accountant"])  # its job has not run
    response = contact_client(a).get(reverse("portal_invoice_pdf", args=[posted.pk]))
    assert response.status_code == 202
    assert "PDF being prepared" in text(response)
    assert '<meta http-equiv="refresh" content="3">' in response.content.decode()


# --- Queries ------------------------------------------------------------------------------------------

def queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_a_ticket_page_costs_the_same_for_3_or_30_timesheets(portal, contact_client):
    a = portal["a"]
    client = contact_client(a)
    path = reverse("portal_ticket", args=[a.ticket.pk])
    few = queries(client, path)
    for n in range(27):
        entry = timesheet_log(user=a.agent, date=days_ago(n % 10), minutes=15 + n, ticket=a.ticket,
                              description=f"Call {n}")
        if n % 3 == 0:
            entry_dispute(entry=entry, contact=a.contact, reason=f"Why {n}")
        if n % 9 == 0:
            ticket_message_add(ticket=a.ticket, author=a.agent, body=f"Note {n}")
    assert TimeEntry.objects.filter(ticket=a.ticket).count() == 30
    # session, user; the contact; the ticket with its team; the company; the entries (with agent, invoice, line,
    # product, work type, review); the messages with their authors; the History (with who did what)
    assert queries(client, path) == few == 8


def test_the_tickets_list_costs_the_same_for_3_or_30_tickets(portal, contact_client):
    a = portal["a"]
    client = contact_client(a)
    path = reverse("portal_tickets") + "?status=all"
    for n in range(2):
        TicketFactory(team=a.team, customer=a.ticket.customer, sale_line=a.line)
    few = queries(client, path)
    for n in range(27):
        ticket = TicketFactory(team=a.team, customer=a.ticket.customer, sale_line=a.line)
        timesheet_log(user=a.agent, date=days_ago(1), minutes=30, ticket=ticket)
    # session, user; the contact; the company; any portal team; the count; the page with each one's time
    assert queries(client, path) == few == 7


def test_the_home_costs_the_same_whatever_the_history(portal, contact_client, prepaid):
    a = portal["a"]
    client = contact_client(a)
    few = queries(client, reverse("portal_home"))
    for n in range(10):
        ticket = TicketFactory(team=a.team, customer=a.ticket.customer, sale_line=a.line)
        entry = timesheet_log(user=a.agent, date=days_ago(1), minutes=30, ticket=ticket)
        entry_dispute(entry=entry, contact=a.contact, reason="Why")
    posted = invoice_post(invoice=invoice_create_from_order(order=a.line.order, actor=portal["accountant"]),
                          actor=portal["accountant"])
    assert posted.state == Invoice.State.POSTED
    assert queries(client, reverse("portal_home")) == few


def test_a_bad_due_date_does_not_break_the_home(portal, contact_client):
    # An invoice without a due date (posted before terms existed) lists with a dash.
    a = portal["a"]
    Invoice.objects.filter(pk=a.posted.pk).update(due_date=None)
    assert "— €90.00" in text(contact_client(a).get(reverse("portal_home")))


# --- Languages and hostile input ----------------------------------------------------------------------

def test_the_fr_button_keeps_the_contact_in_the_portal_in_french(portal, contact_client):
    client = contact_client(portal["a"])
    page = client.get(reverse("portal_tickets"))
    assert '<input type="hidden" name="next" value="/portal/tickets/">' in page.content.decode()
    response = client.post("/language/", {"language": "fr", "next": "/portal/tickets/"})
    assert response["Location"] == "/portal/tickets/"
    french = text(client.get(reverse("portal_tickets")))
    assert "Se déconnecter" in french and "Temps passé" in french and "Nouveau ticket" in french


@pytest.mark.parametrize("value", ["99999999999999999999", "9223372036854775808", "-1", "1e3", "\x00", "x" * 5000])
def test_hostile_input_is_refused_with_a_message(portal, contact_client, value):
    a = portal["a"]
    client = contact_client(a)
    assert client.post(reverse("portal_ticket_new"), {"team": value, "title": "Help"}).status_code == 400
    assert client.get(reverse("portal_tickets"), {"q": value, "status": value, "page": value}).status_code == 200
    assert client.get(reverse("portal_invoice", args=[a.posted.pk]), {"page": value}).status_code == 200
    body = client.post(reverse("portal_ticket_message", args=[a.ticket.pk]), {"body": f"a{value}\x00"})
    assert body.status_code == 400 and body.context["message_form"].errors["body"] == ["Null characters are not "
                                                                                       "allowed."]
    reason = client.post(reverse("portal_entry_dispute", args=[a.open_entry.pk]), {"reason": f"a{value}\x00"})
    assert reason.status_code == 400
    assert client.get(f"/portal/password/{value[:50] or 'x'}/{value[:50] or 'x'}/").status_code in (400, 404)
    assert not TicketMessage.objects.exists() and not CustomerReview.objects.exists()


def test_a_team_that_bills_disputed_time_says_so(portal, contact_client):
    a = portal["a"]
    HelpdeskTeam.objects.filter(pk=a.team.pk).update(hold_disputed=False)
    response = contact_client(a).post(reverse("portal_entry_dispute", args=[a.open_entry.pk]),
                                      {"reason": "Too long"}, follow=True)
    assert rows(response)[a.open_entry.pk] == ("1:30", "Agent A", "to_invoice")
    page = text(response)
    assert "To invoice Disputed: Too long" in page
    assert "saying why: we answer you here." in page and "waits for our answer" not in page
    totals = response.context["totals"]
    assert (totals["not_billed"], totals["held"]) == (120, 0)
