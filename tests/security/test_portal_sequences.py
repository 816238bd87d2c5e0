"""The customer portal (issue 18) step by step: what holds across requests, not in one.

An invitation's link sets a password once and never again, and not after it expired; "Forgot your
password?" answers the same page whether or not the address has an account, and emails only a contact; a
contact deactivated between two requests is out, by session and by token; a ticket moved to another
customer leaves the first customer's portal with its timesheets, and brings nothing of them to the
second; a dispute racing Create Invoice leaves every figure matching the entries; /portal/login/ is
throttled as /login/ is and refuses staff with a wrong password's words.
"""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import LoginFailure
from core.errors import Conflict
from core.roles import sync_groups
from invoicing.models import Invoice
from invoicing.selectors import billing_drift
from invoicing.services import invoice_create_from_order
from sales.contacts import LinkTokens, contact_invite, link_path
from tickets.services import ticket_message_add, ticket_set_customer
from timesheets.disputes import entry_acknowledge, entry_dispute
from timesheets.models import CustomerReview, TimeEntry
from timesheets.services import timesheet_log

from ..conftest import requires_postgres
from ..factories import CustomerFactory, TeamFactory, TicketFactory, UserFactory, confirmed_line, days_ago
from ..jobs import run_jobs
from ..placement import misplaced
from ..threads import run_together
from .conftest import CONTACT_PASSWORD
from .test_permission_matrix import api_client_of, browser_of

API = "/api/v1"
LINK = re.compile(r"http://testserver(/portal/password/[^/\s]+/[^/\s]+/)")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
USED = "This link no longer works"
WRONG = "Please enter a correct email address and password. Note that the password is case-sensitive."
LOCKED = ('Too many failed logins for this address. Try again in 15 minutes, or choose a new password with '
          '"Forgot your password?".')
STAFF_LOCKED = "Too many failed logins for this username from your address."


def emailed_link(to: str) -> str:
    """Run the queued jobs; the path of the link in the one email to `to`."""
    run_jobs()
    sent = [message for message in mail.outbox if message.to == [to]]
    assert len(sent) == 1
    return LINK.search(sent[0].body).group(1)


def sent_so_far():
    """Send what is queued (the world's invitations, the invoices' PDFs) and forget it: the test's emails follow."""
    run_jobs()
    mail.outbox.clear()


def choose(client, link, password, again=None):
    return client.post(link, {"password1": password, "password2": again or password})


def invite_by_api(world, email, name="New Contact"):
    response = api_client_of(world, "manager").post(f"{API}/customers/{world.a.order.customer_id}/contacts/",
                                                    {"email": email, "name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --- The links: once, for a while, for one contact ---------------------------------------------

def test_an_invitations_link_sets_a_password_once(world):
    invited = invite_by_api(world, "new.contact@customer-a.example")
    link = emailed_link("new.contact@customer-a.example")

    browser = Client()
    assert browser.get(link).status_code == 200
    weak = choose(browser, link, "123")
    assert weak.status_code == 400 and "This password is too short" in weak.content.decode()
    differ = choose(browser, link, "choose-well-2026", "choose-well-2027")
    assert "The two passwords differ: type the same one twice." in differ.content.decode()
    chosen = choose(browser, link, "choose-well-2026")
    assert (chosen.status_code, chosen["Location"]) == (302, reverse("portal_home"))
    assert browser.get(reverse("portal_tickets")).status_code == 200  # signed in, into their portal

    # The link is spent: its page says so, and a second password through it changes nothing.
    for client in (browser, Client()):
        assert USED in client.get(link).content.decode()
        again = choose(client, link, "another-pass-2026")
        assert (again.status_code, USED in again.content.decode()) == (400, True)
    stranger = Client()
    assert stranger.login(username="new.contact@customer-a.example", password="choose-well-2026")
    assert not stranger.login(username="new.contact@customer-a.example", password="another-pass-2026")
    assert api_client_of(world, "manager").get(f"{API}/contacts/?customer={world.a.order.customer_id}").json()[
        "results"][-1] == {**invited, "joined": True}


def test_an_expired_link_is_refused(world):
    invite_by_api(world, "late@customer-a.example")
    link = emailed_link("late@customer-a.example")
    start = timezone.now()
    with time_machine.travel(start + datetime.timedelta(days=2, hours=23), tick=False):
        assert Client().get(link).status_code == 200  # still good within the three days
    with time_machine.travel(start + datetime.timedelta(days=3, hours=1), tick=False):
        client = Client()
        assert USED in client.get(link).content.decode()
        refused = choose(client, link, "too-late-2026")
        assert (refused.status_code, USED in refused.content.decode()) == (400, True)
    user = world.a.order.customer.contacts.get(user__email="late@customer-a.example").user
    assert not user.has_usable_password()


def test_a_link_opens_only_its_own_contacts_account_and_never_a_staff_one(world):
    a, b = world.a, world.b
    uid_a, token_a = link_path(a.contact.user).strip("/").split("/")[2:]
    uid_b, _token_b = link_path(b.contact.user).strip("/").split("/")[2:]
    # Contact A's token with contact B's id.
    assert Client().get(f"/portal/password/{uid_b}/{token_a}/").status_code == 400
    # A staff member's id with a token the portal's own generator made for them: not a contact, no link.
    manager = world.users["manager"]
    _p, _w, uid_staff, _t = link_path(manager).strip("/").split("/")
    forged = f"/portal/password/{uid_staff}/{LinkTokens().make_token(manager)}/"
    assert choose(Client(), forged, "taken-over-2026").status_code == 400
    manager.refresh_from_db()
    assert not manager.check_password("taken-over-2026")
    # Django's own password reset token is not one of the portal's.
    from django.contrib.auth.tokens import default_token_generator
    assert Client().get(f"/portal/password/{uid_a}/{default_token_generator.make_token(a.contact.user)}/"
                        ).status_code == 400
    for garbage in ("/portal/password/x/y/", "/portal/password/MTIzNDU2Nzg5MDEyMzQ1Njc4OTA/abc-def/",
                    f"/portal/password/{uid_a}/{'9' * 300}/"):
        assert Client().get(garbage).status_code == 400


def test_forgot_password_answers_the_same_page_for_any_address(world):
    """An active contact's address, an unknown one, a staff member's, a deactivated contact's: the same page (but
    the address it repeats, and the CSRF token); one email only, to the contact."""
    manager = world.users["manager"]
    manager.email = "boss@support.example"
    manager.save()
    gone = contact_invite(customer=world.b.order.customer, email="gone@customer-b.example")
    api_client_of(world, "manager").post(f"{API}/contacts/{gone.pk}/deactivate/")
    sent_so_far()
    known = world.a.contact.user.email
    pages = {}
    for address in (known, "nobody@nowhere.example", "boss@support.example", "gone@customer-b.example"):
        client = Client()
        client.get(reverse("portal_password_forgot"))
        response = client.post(reverse("portal_password_forgot"), {"email": address})
        assert response.status_code == 200
        # The length differs with the address it repeats, nothing else.
        pages[address] = (sorted((k, v) for k, v in response.headers.items() if k != "Content-Length"),
                          CSRF.sub("", response.content.decode()).replace(address, "ADDRESS"))
    assert len({repr(page) for page in pages.values()}) == 1, "the answers differ"
    assert run_jobs() == 1
    assert [message.to for message in mail.outbox] == [[known]]
    assert LINK.search(mail.outbox[0].body)


def test_forgot_password_floods_no_mailbox_and_a_used_link_spends_the_others(world):
    """Ten "Forgot your password?" in a minute email one link; another, five minutes on, a second; the first link
    used spends the second too (the token signs the password)."""
    contact = world.a.contact.user.email
    sent_so_far()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(10):
            Client().post(reverse("portal_password_forgot"), {"email": contact})
        assert run_jobs() == 1
    with time_machine.travel(start + datetime.timedelta(minutes=5, seconds=1), tick=False):
        Client().post(reverse("portal_password_forgot"), {"email": contact})
        assert run_jobs() == 1
        first, second = (LINK.search(message.body).group(1) for message in mail.outbox if message.to == [contact])
        assert choose(Client(), first, "brand-new-2026").status_code == 302
        assert choose(Client(), second, "brand-new-2027").status_code == 400
        assert Client().login(username=contact, password="brand-new-2026")


def test_a_new_password_signs_out_the_other_sessions(world):
    """Someone else's browser signed in as the contact: once the contact chooses a new password through a reset link,
    that session is over (Django's session hash); the browser that set it stays in."""
    contact = world.users["contact_a"]
    other = Client()
    assert other.post(reverse("portal_login"), {"username": contact.email, "password": CONTACT_PASSWORD}
                      ).status_code == 302
    assert other.get(reverse("portal_tickets")).status_code == 200
    contact.refresh_from_db()  # signing in changed its last login, which links sign: a fresh one
    mine = Client()
    assert choose(mine, link_path(contact), "rotated-pass-2026").status_code == 302
    assert mine.get(reverse("portal_tickets")).status_code == 200
    assert other.get(reverse("portal_tickets"))["Location"].startswith(reverse("portal_login"))


# --- Access closed, a ticket moved -----------------------------------------------------------------

def test_a_contact_deactivated_between_two_requests_is_out(world):
    a = world.a
    session, token = browser_of(world, "contact_a"), api_client_of(world, "contact_a")
    ticket_page = reverse("portal_ticket", args=[a.ticket.pk])
    assert session.get(ticket_page).status_code == 200
    assert token.get(f"{API}/portal/tickets/{a.ticket.pk}/").status_code == 200
    sent_so_far()
    Client().post(reverse("portal_password_forgot"), {"email": a.contact.user.email})  # a link on its way

    closed = api_client_of(world, "manager").post(f"{API}/contacts/{a.contact.pk}/deactivate/")
    assert (closed.status_code, closed.json()["active"]) == (200, False)

    assert session.get(ticket_page)["Location"] == f"{reverse('portal_login')}?next={ticket_page}"
    assert session.post(reverse("portal_entry_dispute", args=[a.open_entry.pk]), {"reason": "x"}
                        ).status_code == 302
    assert not CustomerReview.objects.filter(entry=a.open_entry).exists()
    for method, address in (("get", f"{API}/portal/tickets/{a.ticket.pk}/"),
                            ("post", f"{API}/portal/timesheets/{a.open_entry.pk}/acknowledge/")):
        response = getattr(token, method)(address)
        assert (response.status_code, response.json()) == (401, {"detail": "User inactive or deleted."})
        assert getattr(session, method)(address).status_code == 401
    # Nor back in by the password, nor by the link emailed before.
    login = Client().post(reverse("portal_login"), {"username": a.contact.user.email, "password": CONTACT_PASSWORD})
    assert WRONG in login.content.decode()
    assert run_jobs() == 1 and mail.outbox == []  # the queued email is not sent to a closed account
    _p, _w, uid, link_token = link_path(a.contact.user).strip("/").split("/")
    assert choose(Client(), f"/portal/password/{uid}/{link_token}/", "back-again-2026").status_code == 400


def test_a_ticket_moved_to_another_customer_leaves_the_first_portal_with_its_time(world):
    """Ticket filed for customer A by mistake, time logged; contact A acknowledges it, A's second contact (no name
    given) writes; a manager moves it to customer B: contact A no longer finds it nor its time; contact B does,
    and nothing of customer A's people: neither name nor address."""
    a, b = world.a, world.b
    ticket = TicketFactory(team=a.team, customer=a.order.customer, sale_line=a.line, title="Filed for A by mistake")
    entry = timesheet_log(user=a.agent, date=days_ago(0), minutes=40, ticket=ticket, description="Moved work")
    nameless = contact_invite(customer=a.order.customer, email="nameless@customer-a.example")
    contact_a, contact_b = browser_of(world, "contact_a"), browser_of(world, "contact_b")
    token_a = api_client_of(world, "contact_a")
    assert contact_a.get(reverse("portal_ticket", args=[ticket.pk])).status_code == 200
    assert contact_a.post(reverse("portal_entry_acknowledge", args=[entry.pk])).status_code == 302
    ticket_message_add(ticket=ticket, author=nameless.user, body="Thanks!")
    assert entry.pk in [row["id"] for row in token_a.get(f"{API}/portal/timesheets/").json()["results"]]

    ticket_set_customer(ticket=ticket, customer=b.order.customer, sale_line=b.line, actor=world.users["manager"])

    assert contact_a.get(reverse("portal_ticket", args=[ticket.pk])).status_code == 404
    assert "Filed for A by mistake" not in contact_a.get(f"{reverse('portal_tickets')}?status=all").content.decode()
    assert "Moved work" not in contact_a.get(reverse("portal_home")).content.decode()
    assert token_a.get(f"{API}/portal/tickets/{ticket.pk}/").status_code == 404
    assert token_a.get(f"{API}/portal/timesheets/{entry.pk}/").status_code == 404
    assert entry.pk not in [row["id"] for row in token_a.get(f"{API}/portal/timesheets/").json()["results"]]
    assert contact_a.post(reverse("portal_entry_dispute", args=[entry.pk]), {"reason": "No"}).status_code == 404
    assert token_a.post(f"{API}/portal/timesheets/{entry.pk}/dispute/", {"reason": "No"}).status_code == 404

    page = contact_b.get(reverse("portal_ticket", args=[ticket.pk]))
    assert page.status_code == 200 and "Moved work" in page.content.decode()
    # Customer A's people are customer A's business: none of their names or addresses shows to customer B.
    token_b = api_client_of(world, "contact_b")
    seen = {"the ticket's page": page.content.decode(),
            "the API's messages": token_b.get(f"{API}/portal/tickets/{ticket.pk}/messages/").content.decode(),
            "the API's timesheet": token_b.get(f"{API}/portal/timesheets/{entry.pk}/").content.decode()}
    markers = (a.contact.user.email, "Contact A", "nameless@customer-a.example", "nameless")
    found = [f"{marker!r} on {name}" for name, text in seen.items() for marker in markers if marker in text]
    assert "\n".join(found) == ""


# --- A dispute racing Create Invoice ----------------------------------------------------------------

def disputed_or_invoiced(entry, dispute, invoice) -> str:
    """Which of the two won on `entry`; each leaves the other's refusal, or nothing at all of it."""
    entry.refresh_from_db()
    review = CustomerReview.objects.filter(entry=entry).first()
    if entry.invoice_line_id is not None:
        assert entry.invoice_line.invoice_id == invoice.pk
        assert review is None and not entry.held
        assert isinstance(dispute, Conflict)
        return "invoiced"
    assert review is not None and review.state == CustomerReview.State.DISPUTED and entry.held
    assert dispute == review
    return "disputed"


def test_a_dispute_then_create_invoice_leaves_the_held_time_out(world):
    """In a row, on either database: disputed first, the invoice leaves it out; invoiced first, the dispute is
    refused."""
    a = world.a
    later = timesheet_log(user=a.agent, date=days_ago(0), minutes=25, ticket=a.ticket, description="Later")
    entry_dispute(entry=a.open_entry, contact=a.contact, reason="Not ours.")
    draft = invoice_create_from_order(order=a.order)
    assert list(TimeEntry.objects.filter(invoice_line__invoice=draft).values_list("pk", flat=True)) == [later.pk]
    assert TimeEntry.objects.get(pk=a.open_entry.pk).invoice_line_id is None
    with pytest.raises(Conflict):
        entry_dispute(entry=later, contact=a.contact, reason="Too late.")
    assert not CustomerReview.objects.filter(entry=later).exists()
    assert billing_drift() == [] and misplaced() == []


TRIALS = 6


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_dispute_racing_create_invoice_never_bills_held_time():
    """The contact disputes the order's one open entry while the accountant clicks Create Invoice, in fresh
    trials with real threads: either the entry is held and on no invoice, or invoiced and the dispute refused;
    Delivered, the invoice and the entries always agree."""
    sync_groups()
    accountant = UserFactory(username="racing-accountant", role="Accountants")
    agent = UserFactory(username="racing-agent", role="Agents")
    team = TeamFactory(portal_tickets=True, hold_disputed=True)
    winners = []
    for trial in range(TRIALS):
        customer = CustomerFactory(name=f"Racing customer {trial}")
        line = confirmed_line(order__customer=customer, quantity=10)
        ticket = TicketFactory(team=team, customer=customer, sale_line=line)
        timesheet_log(user=agent, date=days_ago(2), minutes=30, ticket=ticket, description="Other work")
        entry = timesheet_log(user=agent, date=days_ago(1), minutes=45, ticket=ticket, description="Raced")
        contact = contact_invite(customer=customer, email=f"racer-{trial}@example.com")

        dispute, invoice = run_together(
            lambda: entry_dispute(entry=entry, contact=contact, reason="Not ours."),
            lambda: invoice_create_from_order(order=line.order, actor=accountant))

        assert not isinstance(invoice, Exception), invoice
        winners.append(disputed_or_invoiced(entry, dispute, invoice))
        line.refresh_from_db()
        billed = Decimal("0.50") if winners[-1] == "disputed" else Decimal("1.25")
        assert (line.delivered, Invoice.objects.get(pk=invoice.pk).lines.get().quantity) == (billed, billed)
        assert billing_drift() == [] and misplaced() == []
    assert set(winners) <= {"invoiced", "disputed"}


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_contacts_reviewing_one_entry_at_once():
    """Two contacts of one customer, the same entry, at the same instant: both dispute (one wins, the other is told
    it is already disputed), or one acknowledges while the other disputes (disputed either way, or the
    acknowledgement refused); never two reviews, never a 500, the held time counted once."""
    sync_groups()
    agent = UserFactory(username="racing-agent", role="Agents")
    team = TeamFactory(portal_tickets=True, hold_disputed=True)
    for trial in range(TRIALS):
        customer = CustomerFactory(name=f"Two contacts {trial}")
        line = confirmed_line(order__customer=customer, quantity=10)
        ticket = TicketFactory(team=team, customer=customer, sale_line=line)
        entry = timesheet_log(user=agent, date=days_ago(1), minutes=45, ticket=ticket, description="Raced")
        first, second = (contact_invite(customer=customer, email=f"c{n}-{trial}@example.com") for n in (1, 2))
        other = (lambda: entry_dispute(entry=entry, contact=second, reason="Me too.")) if trial % 2 else (
            lambda: entry_acknowledge(entry=entry, contact=second))

        results = run_together(lambda: entry_dispute(entry=entry, contact=first, reason="Not ours."), other)

        assert [type(r) for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)] == []
        review = CustomerReview.objects.get(entry=entry)
        assert review.state == "disputed" and TimeEntry.objects.get(pk=entry.pk).held
        if trial % 2:
            assert sum(isinstance(r, Conflict) for r in results) == 1
        line.refresh_from_db()
        assert line.delivered_minutes == 0
        assert billing_drift() == [] and misplaced() == []


# --- Signing in -------------------------------------------------------------------------------------

def sign_in(client, username, password, *, address="203.0.113.7", page="portal_login"):
    return client.post(reverse(page), {"username": username, "password": password}, REMOTE_ADDR=address)


def errors(response) -> str:
    return " ".join(response.context["form"].non_field_errors())


def test_the_portal_login_is_throttled_as_the_staff_login_is(world):
    email = world.a.contact.user.email
    client = Client()
    for attempt in range(4):
        assert errors(sign_in(client, email, f"guess-{attempt}")) == WRONG
    assert errors(sign_in(client, email, "guess-4")) == LOCKED
    # Locked: the right password is not even checked, and nobody is signed in.
    right = sign_in(client, email, CONTACT_PASSWORD)
    assert errors(right) == LOCKED and "_auth_user_id" not in client.session
    assert LoginFailure.objects.filter(username=email).count() == 5
    # The lock is the pair's, on either page; from another address they come in.
    assert STAFF_LOCKED in errors(sign_in(Client(), email, CONTACT_PASSWORD, page="login"))
    elsewhere = sign_in(Client(), email, CONTACT_PASSWORD, address="198.51.100.2")
    assert (elsewhere.status_code, elsewhere["Location"]) == (302, reverse("portal_home"))


def test_the_portal_login_lock_lifts_and_a_success_forgets_the_failures(world):
    email = world.a.contact.user.email
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for attempt in range(5):
            sign_in(Client(), email, f"guess-{attempt}")
    with time_machine.travel(start + datetime.timedelta(minutes=15, seconds=1), tick=False):
        assert sign_in(Client(), email, CONTACT_PASSWORD).status_code == 302
    assert not LoginFailure.objects.filter(username=email).exists()
    # Typed as they like: the address is the username in lower case.
    assert sign_in(Client(), f"  {email.upper()} ", CONTACT_PASSWORD).status_code == 302


def test_the_portal_login_refuses_staff_with_a_wrong_passwords_words(world):
    """A staff member's right password, an agent's, an unknown address, a wrong password, a deactivated contact:
    one message, word for word, and nobody signed in."""
    gone = contact_invite(customer=world.b.order.customer, email="gone@customer-b.example")
    api_client_of(world, "manager").post(f"{API}/contacts/{gone.pk}/deactivate/")
    attempts = [("manager", "secret-pass-123"), ("agent_a", "secret-pass-123"), ("nobody@example.com", "x-y-z-123"),
                (world.a.contact.user.email, "wrong-pass-123"), ("gone@customer-b.example", "wrong-pass-123")]
    pages = set()
    for username, password in attempts:
        client = Client()
        response = sign_in(client, username, password)
        assert (response.status_code, errors(response)) == (200, WRONG), username
        assert "_auth_user_id" not in client.session
        pages.add(CSRF.sub("", response.content.decode()).replace(f'value="{username}"', 'value="NAME"'))
    assert len(pages) == 1
    # The staff member's right password was not a failure (their /login/ is not locked by it); still refused.
    assert not LoginFailure.objects.filter(username="manager").exists()


def test_a_message_then_the_ticket_solved(world):
    """A ticket solved between the page and the message: the contact's message is refused with the reason, on the
    screen and in the API, and nothing is added."""
    a = world.a
    page = browser_of(world, "contact_a")
    assert page.get(reverse("portal_ticket", args=[a.ticket.pk])).status_code == 200
    ticket_message_add(ticket=a.ticket, author=a.agent, body="Fixed, closing.")
    api_client_of(world, "manager").patch(f"{API}/tickets/{a.ticket.pk}/", {"status": "solved"}, format="json")
    refused = page.post(reverse("portal_ticket_message", args=[a.ticket.pk]), {"body": "Wait!"}, follow=True)
    assert f"Ticket #{a.ticket.pk} is solved: messages go on open tickets." in refused.content.decode()
    assert api_client_of(world, "contact_a").post(f"{API}/portal/tickets/{a.ticket.pk}/messages/", {"body": "Wait!"},
                      format="json").status_code == 409
    assert list(a.ticket.messages.values_list("body", flat=True)) == ["Fixed, closing."]
