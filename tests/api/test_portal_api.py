"""/api/v1/portal/ (issue 18): a customer's contact reads their customer's tickets, time, hours and invoices, opens
tickets, writes on them, and acknowledges or disputes time; staff are refused, and nothing of the other customer is
reachable (404).

The `portal` fixture (tests/portal/conftest.py): customers A and B, each with a contact, a ticket on a team that
accepts portal tickets and holds disputed time, and three entries of the agent on it: 1:00 invoiced on a posted
invoice (90.00), 1:30 and 0:30 not invoiced yet, on a line of 10 h at 90.00.
"""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from invoicing.models import Invoice
from invoicing.services import invoice_cancel, invoice_create_from_order, invoice_post
from sales.contacts import contact_deactivate
from sales.models import Company, Customer, SaleOrderLine, ServicePolicy, WorkType
from tickets.models import HelpdeskTeam, Ticket, TicketMessage
from tickets.services import ticket_message_add, ticket_set_status
from timesheets.approval import timesheets_reject
from timesheets.models import CustomerReview, TimeEntry
from timesheets.services import timesheet_log

from ..factories import ProductFactory, TeamFactory, TicketFactory, UserFactory, confirmed_line, days_ago
from ..jobs import stored_pdf
from ..portal import conftest as portal_world
from ..portal.conftest import invite_and_join
from .conftest import API, client_for

portal = portal_world.portal  # the two customers' fixture of tests/portal/, shared

PORTAL = f"{API}/portal"
STAFF_ONLY = {"detail": "The portal's API is for customers' contacts: staff use the rest of /api/v1/."}
READS = ["me/", "teams/", "tickets/", "tickets/{ticket}/", "tickets/{ticket}/messages/", "timesheets/",
         "timesheets/{entry}/", "lines/", "invoices/", "invoices/{invoice}/", "invoices/{invoice}/pdf/"]
WRITES = ["tickets/", "tickets/{ticket}/messages/", "timesheets/{entry}/acknowledge/", "timesheets/{entry}/dispute/"]


def paths(side, addresses):
    return [f"{PORTAL}/" + address.format(ticket=side.ticket.pk, entry=side.open_entry.pk, invoice=side.posted.pk)
            for address in addresses]


@pytest.fixture
def api_a(portal):
    return client_for(portal["a"].contact.user)


@pytest.fixture
def api_b(portal):
    return client_for(portal["b"].contact.user)


def state() -> tuple:
    """What the portal's writes could change: tickets, messages, reviews, entries' billing, the audit log."""
    return (list(Ticket.objects.order_by("pk").values_list()), list(TicketMessage.objects.values_list()),
            list(CustomerReview.objects.order_by("pk").values_list()),
            list(TimeEntry.objects.order_by("pk").values_list("pk", "minutes", "billable_minutes", "held")),
            AuditEvent.objects.count())


# --- Who gets in -------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["agent", "accountant", "manager", "superuser"])
def test_staff_are_refused_with_a_clear_message(portal, who):
    a = portal["a"]
    user = {"agent": a.agent, "accountant": portal["accountant"], "manager": portal["manager"],
            "superuser": UserFactory(username="root", is_superuser=True, is_staff=True)}[who]
    api = client_for(user)
    before = state()

    for path in paths(a, READS):
        response = api.get(path)
        assert (response.status_code, response.json()) == (403, STAFF_ONLY), path
    for path in paths(a, WRITES):
        response = api.post(path, {"reason": "x", "body": "x", "title": "x", "team": a.team.pk})
        assert (response.status_code, response.json()) == (403, STAFF_ONLY), path
    assert state() == before


def test_anonymous_is_asked_to_authenticate(portal, anonymous_api):
    for path in paths(portal["a"], READS):
        response = anonymous_api.get(path)
        assert (response.status_code, response.json()) == (
            401, {"detail": "Authentication credentials were not provided."}), path


def test_a_contact_reaches_the_portal_only(portal, api_a):
    response = api_a.get(f"{API}/tickets/")

    assert response.status_code == 403
    assert response.json() == {"detail": "This page is for the support company's staff. Your account opens the "
                                         "customer portal."}


def test_the_session_works_too(portal, client):
    client.force_login(portal["a"].contact.user)

    response = client.get(f"{PORTAL}/tickets/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert [row["title"] for row in response.json()["results"]] == ["Portal ticket of a"]


def test_a_deactivated_contact_is_refused(portal, api_a):
    contact_deactivate(contact=portal["a"].contact, actor=portal["manager"])

    response = api_a.get(f"{PORTAL}/me/")

    assert (response.status_code, response.json()) == (401, {"detail": "User inactive or deleted."})


def test_me(portal, api_a):
    response = api_a.get(f"{PORTAL}/me/")

    assert response.status_code == 200
    assert response.json() == {"name": "Contact A", "email": "contact-a@example.com",
                               "customer": "Portal customer a", "language": "en"}
    Customer.objects.filter(pk=portal["a"].contact.customer_id).update(language="fr")
    assert api_a.get(f"{PORTAL}/me/").json()["language"] == "fr"


# --- Teams and tickets -------------------------------------------------------------------------------

def test_teams_accepting_portal_tickets(portal, api_a):
    TeamFactory(name="Internal IT")  # not for the portal

    response = api_a.get(f"{PORTAL}/teams/")

    assert response.status_code == 200
    assert response.json() == {"count": 2, "next": None, "previous": None, "results": [
        {"id": portal["a"].team.pk, "name": "Portal team a"}, {"id": portal["b"].team.pk, "name": "Portal team b"}]}


def ticket_body(side, **fields):
    ticket = side.ticket
    return {"id": ticket.pk, "title": ticket.title, "status": "new", "team": side.team.pk,
            "team_name": side.team.name, "created_at": ticket.created_at.isoformat().replace("+00:00", "Z"),
            "description": "", "open": True, "minutes_billed": 60, "minutes_to_bill": 120, **fields}


def test_tickets_of_the_contacts_customer_with_time_billed_and_not(portal, api_a, api_b):
    a, b = portal["a"], portal["b"]
    ticket_set_status(ticket=a.ticket, status=Ticket.Status.IN_PROGRESS)
    a.ticket.refresh_from_db()
    # Time the customer never sees counts in neither figure: a non-billable work type's, and rejected time.
    internal = WorkType.objects.create(name="Internal", billing=WorkType.Billing.NON_BILLABLE)
    timesheet_log(user=a.agent, date=days_ago(2), minutes=45, ticket=a.ticket, work_type=internal)
    rejected = timesheet_log(user=a.agent, date=days_ago(2), minutes=15, ticket=a.ticket)
    timesheets_reject(ids=[rejected.pk], reason="Wrong ticket", actor=portal["manager"])

    response = api_a.get(f"{PORTAL}/tickets/")

    assert response.status_code == 200
    assert response.json() == {"count": 1, "next": None, "previous": None,
                               "results": [ticket_body(a, status="in_progress")]}
    assert api_a.get(f"{PORTAL}/tickets/{a.ticket.pk}/").json() == ticket_body(a, status="in_progress")
    assert api_a.get(f"{PORTAL}/tickets/?status=in_progress").json()["count"] == 1
    assert api_a.get(f"{PORTAL}/tickets/?status=new").json()["count"] == 0
    assert api_b.get(f"{PORTAL}/tickets/").json()["results"] == [ticket_body(b)]


def test_another_customers_ticket_is_not_found(portal, api_a):
    b = portal["b"]
    before = state()

    for path in [f"{PORTAL}/tickets/{b.ticket.pk}/", f"{PORTAL}/tickets/{b.ticket.pk}/messages/"]:
        response = api_a.get(path)
        assert (response.status_code, response.json()) == (404, {"detail": "No Ticket matches the given query."})
    response = api_a.post(f"{PORTAL}/tickets/{b.ticket.pk}/messages/", {"body": "Hello"})
    assert response.status_code == 404
    assert api_a.get(f"{PORTAL}/tickets/{10**30}/").status_code == 404
    assert api_a.get(f"{PORTAL}/tickets/abc/").status_code == 404
    assert api_a.get(f"{PORTAL}/tickets/?status=nonsense").status_code == 400
    assert state() == before


def test_a_contact_opens_a_ticket(portal, api_a):
    a = portal["a"]

    response = api_a.post(f"{PORTAL}/tickets/", {"team": a.team.pk, "title": "  VPN down ",
                                                 "description": "Since this morning."})

    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get(title="VPN down")
    assert (ticket.customer_id, ticket.team_id, ticket.status, ticket.assignee) == (
        a.contact.customer_id, a.team.pk, "new", None)
    assert response.json() == {"id": ticket.pk, "title": "VPN down", "status": "new", "team": a.team.pk,
                               "team_name": "Portal team a",
                               "created_at": ticket.created_at.isoformat().replace("+00:00", "Z"),
                               "description": "Since this morning.", "open": True, "minutes_billed": 0,
                               "minutes_to_bill": 0}
    event = AuditEvent.objects.get(action="ticket.created", object_id=ticket.pk)
    assert (event.actor, event.actor_name) == (a.contact.user, "contact-a@example.com")


@pytest.mark.parametrize("body, refusal", [
    ({"title": "VPN down"}, {"team": ["This field is required."]}),
    ({"team": "internal", "title": "VPN down"}, {"team": ["Incorrect type. Expected pk value, received str."]}),
    ({"team": [1], "title": "VPN down"}, {"team": ["Incorrect type. Expected pk value, received list."]}),
    ({"team": 10**30, "title": "VPN down"}, {"team": ["Choose a team that accepts tickets from the portal."]}),
    ({"team": "TEAM", "title": "   "}, {"title": ["This field may not be blank."]}),
    ({"team": "TEAM"}, {"title": ["This field is required."]}),
    ({"team": "TEAM", "title": "x" * 301}, {"title": ["Ensure this field has no more than 300 characters."]}),
    ({"team": "TEAM", "title": {"a": 1}}, {"title": ["Not a valid string."]}),
    ({"team": "TEAM", "title": "VPN", "description": "x" * 10_001},
     {"description": ["Ensure this field has no more than 10000 characters."]}),
    ({"team": "INTERNAL", "title": "VPN down"}, {"team": ["Choose a team that accepts tickets from the portal."]}),
])
def test_a_ticket_refused_changes_nothing(portal, api_a, body, refusal):
    internal = TeamFactory(name="Internal IT")
    body = {key: {"TEAM": portal["a"].team.pk, "INTERNAL": internal.pk}.get(value, value) if isinstance(value, str)
            else value for key, value in body.items()}
    before = state()

    response = api_a.post(f"{PORTAL}/tickets/", body)

    assert (response.status_code, response.json()) == (400, refusal)
    assert state() == before


# --- Messages --------------------------------------------------------------------------------------

def test_messages_on_a_ticket(portal, api_a):
    a = portal["a"]
    ticket_message_add(ticket=a.ticket, author=a.agent, body="We are on it.")

    response = api_a.post(f"{PORTAL}/tickets/{a.ticket.pk}/messages/", {"body": " Thanks! "})

    assert response.status_code == 201, response.json()
    mine = TicketMessage.objects.get(body="Thanks!")
    assert response.json() == {"id": mine.pk, "created_at": mine.created_at.isoformat().replace("+00:00", "Z"),
                               "from_customer": True, "author": "Contact A", "body": "Thanks!"}
    event = AuditEvent.objects.filter(action="ticket.message", object_id=a.ticket.pk).first()
    assert (event.actor, event.changes) == (a.contact.user, {"message": mine.pk, "from_customer": True})
    listed = api_a.get(f"{PORTAL}/tickets/{a.ticket.pk}/messages/").json()
    assert [(m["author"], m["from_customer"], m["body"]) for m in listed] == [
        ("Agent A", False, "We are on it."), ("Contact A", True, "Thanks!")]

    Company.objects.filter(pk=Company.current().pk).update(portal_shows_agents=False)
    listed = api_a.get(f"{PORTAL}/tickets/{a.ticket.pk}/messages/").json()
    assert [m["author"] for m in listed] == ["Support team", "Contact A"]
    french = api_a.get(f"{PORTAL}/tickets/{a.ticket.pk}/messages/", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert [m["author"] for m in french] == ["Équipe de support", "Contact A"]


@pytest.mark.parametrize("body, refusal", [
    ({}, {"body": ["This field is required."]}),
    ({"body": "  "}, {"body": ["This field may not be blank."]}),
    ({"body": None}, {"body": ["This field may not be null."]}),
    ({"body": ["a"]}, {"body": ["Not a valid string."]}),
    ({"body": "x" * 10_001}, {"body": ["Ensure this field has no more than 10000 characters."]}),
])
def test_a_message_refused_changes_nothing(portal, api_a, body, refusal):
    before = state()

    response = api_a.post(f"{PORTAL}/tickets/{portal['a'].ticket.pk}/messages/", body)

    assert (response.status_code, response.json()) == (400, refusal)
    assert state() == before


def test_a_closed_tickets_message_is_a_conflict(portal, api_a):
    a = portal["a"]
    ticket_set_status(ticket=a.ticket, status=Ticket.Status.SOLVED)
    before = state()

    response = api_a.post(f"{PORTAL}/tickets/{a.ticket.pk}/messages/", {"body": "Still broken"})

    assert response.status_code == 409
    assert response.json() == {"detail": f"Ticket #{a.ticket.pk} is solved: messages go on open tickets. Open a new "
                                         "ticket."}
    assert state() == before
    assert api_a.get(f"{PORTAL}/tickets/{a.ticket.pk}/").json()["open"] is False


# --- Timesheets ------------------------------------------------------------------------------------

def entry_body(side, entry, **fields):
    invoiced = entry == side.invoiced_entry
    return {"id": entry.pk, "date": entry.date.isoformat(), "ticket": side.ticket.pk, "description": entry.description,
            "minutes": entry.minutes, "duration": f"{entry.minutes // 60}:{entry.minutes % 60:02d}",
            "agent": "Agent " + side.name.upper(), "invoiced": invoiced,
            "invoice": side.posted.pk if invoiced else None, "invoice_number": side.posted.number if invoiced else None,
            "held": False, "review": None, **fields}


def test_timesheets_of_the_contacts_tickets(portal, api_a):
    a = portal["a"]
    internal = WorkType.objects.create(name="Internal", billing=WorkType.Billing.NON_BILLABLE)
    timesheet_log(user=a.agent, date=days_ago(2), minutes=45, ticket=a.ticket, work_type=internal)
    rejected = timesheet_log(user=a.agent, date=days_ago(2), minutes=15, ticket=a.ticket)
    timesheets_reject(ids=[rejected.pk], reason="Wrong ticket", actor=portal["manager"])

    response = api_a.get(f"{PORTAL}/timesheets/")

    assert response.status_code == 200
    assert response.json() == {"count": 3, "next": None, "previous": None, "results": [
        entry_body(a, a.other_open_entry), entry_body(a, a.open_entry), entry_body(a, a.invoiced_entry)]}
    assert response.json()["results"][2]["invoice_number"].startswith("INV/")
    assert api_a.get(f"{PORTAL}/timesheets/{a.open_entry.pk}/").json() == entry_body(a, a.open_entry)
    assert api_a.get(f"{PORTAL}/timesheets/?ticket={a.ticket.pk}").json()["count"] == 3
    assert api_a.get(f"{PORTAL}/timesheets/?ticket={portal['b'].ticket.pk}").json()["count"] == 0
    assert api_a.get(f"{PORTAL}/timesheets/?ticket=abc").status_code == 400
    assert api_a.get(f"{PORTAL}/timesheets/{rejected.pk}/").status_code == 404

    Company.objects.filter(pk=Company.current().pk).update(portal_shows_agents=False)
    assert {row["agent"] for row in api_a.get(f"{PORTAL}/timesheets/").json()["results"]} == {"Support team"}


def test_another_customers_timesheet_is_not_found(portal, api_a):
    b = portal["b"]
    before = state()

    for action in ("", "acknowledge/", "dispute/"):
        method = api_a.get if not action else api_a.post
        response = method(f"{PORTAL}/timesheets/{b.open_entry.pk}/{action}", {"reason": "Not ours"})
        assert (response.status_code, response.json()) == (404, {"detail": "No TimeEntry matches the given query."})
    assert state() == before


def test_acknowledge(portal, api_a):
    a = portal["a"]

    response = api_a.post(f"{PORTAL}/timesheets/{a.open_entry.pk}/acknowledge/")

    assert response.status_code == 200, response.json()
    review = CustomerReview.objects.get(entry=a.open_entry)
    assert response.json() == entry_body(a, a.open_entry, review={
        "state": "acknowledged", "reason": "", "resolution": "", "answer": "", "minutes_before": None,
        "at": review.at.isoformat().replace("+00:00", "Z"), "resolved_at": None})
    event = AuditEvent.objects.get(action="entry.acknowledged")
    assert (event.actor, event.object_id, event.changes) == (
        a.contact.user, a.open_entry.pk, {"ticket": a.ticket.pk, "minutes": 90})
    # Again: nothing more.
    assert api_a.post(f"{PORTAL}/timesheets/{a.open_entry.pk}/acknowledge/").status_code == 200
    assert AuditEvent.objects.filter(action="entry.acknowledged").count() == 1


def test_dispute_holds_the_time_until_resolved(portal, api_a):
    a = portal["a"]

    response = api_a.post(f"{PORTAL}/timesheets/{a.open_entry.pk}/dispute/", {"reason": "We never called that day."})

    assert response.status_code == 200, response.json()
    review = CustomerReview.objects.get(entry=a.open_entry)
    assert response.json() == entry_body(a, a.open_entry, held=True, review={
        "state": "disputed", "reason": "We never called that day.", "resolution": "", "answer": "",
        "minutes_before": None, "at": review.at.isoformat().replace("+00:00", "Z"), "resolved_at": None})
    event = AuditEvent.objects.get(action="entry.disputed")
    assert (event.actor, event.changes) == (a.contact.user, {
        "ticket": a.ticket.pk, "minutes": 90, "reason": "We never called that day.", "held": True,
        "billable_minutes": [90, 0]})
    # Held: out of Delivered and of the time to bill.
    line = api_a.get(f"{PORTAL}/lines/").json()["results"][0]
    assert (line["delivered"], line["to_invoice"]) == ("1.50", "0.50")
    assert api_a.get(f"{PORTAL}/tickets/{a.ticket.pk}/").json()["minutes_to_bill"] == 30

    # The accountant keeps it, with an answer: the contact reads it, and the time bills again.
    accountant = client_for(portal["accountant"])
    resolved = accountant.post(f"{API}/timesheets/{a.open_entry.pk}/resolve/", {
        "resolution": "corrected", "answer": "Right: it was one hour.", "duration": "1:00"})
    assert resolved.status_code == 200, resolved.json()
    shown = api_a.get(f"{PORTAL}/timesheets/{a.open_entry.pk}/").json()
    review.refresh_from_db()
    assert (shown["minutes"], shown["duration"], shown["held"]) == (60, "1:00", False)
    assert shown["review"] == {"state": "resolved", "reason": "We never called that day.", "resolution": "corrected",
                               "answer": "Right: it was one hour.", "minutes_before": 90,
                               "at": review.at.isoformat().replace("+00:00", "Z"),
                               "resolved_at": review.resolved_at.isoformat().replace("+00:00", "Z")}
    assert api_a.get(f"{PORTAL}/tickets/{a.ticket.pk}/").json()["minutes_to_bill"] == 90


@pytest.mark.parametrize("body, refusal", [
    ({}, {"reason": ["Say why you dispute this time."]}),
    ({"reason": "   "}, {"reason": ["Say why you dispute this time."]}),
    ({"reason": None}, {"reason": ["Say why you dispute this time."]}),
    ({"reason": {"why": "no"}}, {"reason": ["Not a valid string."]}),
    ({"reason": "x" * 501}, {"reason": ["Ensure this field has no more than 500 characters."]}),
])
def test_a_dispute_refused_changes_nothing(portal, api_a, body, refusal):
    before = state()

    response = api_a.post(f"{PORTAL}/timesheets/{portal['a'].open_entry.pk}/dispute/", body)

    assert (response.status_code, response.json()) == (400, refusal)
    assert state() == before


def test_invoiced_disputed_and_resolved_time_are_conflicts(portal, api_a):
    a = portal["a"]
    invoiced = f"{PORTAL}/timesheets/{a.invoiced_entry.pk}"
    before = state()

    for action, body in (("acknowledge/", {}), ("dispute/", {"reason": "Too much"})):
        response = api_a.post(f"{invoiced}/{action}", body)
        assert (response.status_code, response.json()) == (
            409, {"detail": "You cannot modify timesheets that are already invoiced."})
    assert state() == before

    entry = f"{PORTAL}/timesheets/{a.open_entry.pk}"
    assert api_a.post(f"{entry}/dispute/", {"reason": "Too much"}).status_code == 200
    disputed = state()
    response = api_a.post(f"{entry}/dispute/", {"reason": "Really too much"})
    assert (response.status_code, response.json()) == (
        409, {"detail": f"Timesheet {a.open_entry.pk} is already disputed."})
    response = api_a.post(f"{entry}/acknowledge/")
    assert (response.status_code, response.json()) == (
        409, {"detail": f"Timesheet {a.open_entry.pk} is disputed: wait for the answer."})
    assert state() == disputed


# --- Hours and invoices -------------------------------------------------------------------------------

def test_lines_with_their_quantities(portal, api_a):
    a = portal["a"]
    block = confirmed_line(order=a.line.order, product=ProductFactory(
        name="Prepaid block", service_policy=ServicePolicy.ORDERED_PREPAID), name="", quantity=Decimal("20.00"))
    ticket = TicketFactory(team=a.team, customer=a.contact.customer, sale_line=block)
    timesheet_log(user=a.agent, date=days_ago(1), minutes=135, ticket=ticket)

    response = api_a.get(f"{PORTAL}/lines/")

    assert response.status_code == 200
    order = a.line.order
    assert response.json() == {"count": 2, "next": None, "previous": None, "results": [
        {"id": a.line.pk, "order": order.pk, "order_name": "S-PORTAL-A", "name": "Support hours a",
         "product": "Service on Timesheet", "unit": "hour", "ordered": "10.00", "delivered": "3.00",
         "invoiced": "1.00", "to_invoice": "2.00", "prepaid": False, "remaining": None},
        {"id": block.pk, "order": order.pk, "order_name": "S-PORTAL-A", "name": "Prepaid block",
         "product": "Prepaid block", "unit": "hour", "ordered": "20.00", "delivered": "2.25",
         "invoiced": "0.00", "to_invoice": "20.00", "prepaid": True, "remaining": "17.75"}]}


def test_invoices_of_the_contacts_customer(portal, api_a):
    a = portal["a"]
    invoice = a.posted
    line = invoice.lines.get()

    response = api_a.get(f"{PORTAL}/invoices/")

    assert response.status_code == 200
    body = {"id": invoice.pk, "number": invoice.number, "kind": "invoice", "state": "posted",
            "invoice_date": invoice.invoice_date.isoformat(), "due_date": invoice.due_date.isoformat(),
            "refers": None, "currency": "EUR", "amount_untaxed": "90.00", "amount_tax": "0.00",
            "amount_total": "90.00", "payment_state": "not_paid", "amount_paid": "0.00", "amount_residual": "90.00",
            "is_overdue": False, "payment_reference": invoice.payment_reference,
            "lines": [{"id": line.pk, "name": line.name, "quantity": "1.00", "uom": "hour", "price_unit": "90.00",
                       "tax_rate": "0.00", "amount_untaxed": "90.00", "amount_tax": "0.00", "minutes": 60,
                       "explanation": line.explanation}]}
    assert response.json() == {"count": 1, "next": None, "previous": None, "results": [body]}
    assert api_a.get(f"{PORTAL}/invoices/{invoice.pk}/").json() == body
    # A draft is internal.
    timesheet_log(user=a.agent, date=days_ago(0), minutes=15, ticket=a.ticket)
    draft = invoice_create_from_order(order=a.line.order, actor=portal["accountant"])
    for state in ("draft", "cancelled"):  # a cancelled draft never reached the customer either
        if state == "cancelled":
            invoice_cancel(invoice=draft, actor=portal["accountant"])
        assert api_a.get(f"{PORTAL}/invoices/").json()["count"] == 1
        assert api_a.get(f"{PORTAL}/invoices/{draft.pk}/").status_code == 404
        assert api_a.get(f"{PORTAL}/invoices/{draft.pk}/pdf/").status_code == 404


def test_the_invoice_pdf_is_the_stored_file(portal, api_a):
    a = portal["a"]

    response = api_a.get(f"{PORTAL}/invoices/{a.posted.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == stored_pdf(a.posted)
    assert response["Content-Disposition"].startswith("attachment; filename=")


def test_another_customers_invoice_is_not_found(portal, api_a):
    b = portal["b"]
    for path in (f"{PORTAL}/invoices/{b.posted.pk}/", f"{PORTAL}/invoices/{b.posted.pk}/pdf/"):
        response = api_a.get(path)
        assert (response.status_code, response.json()) == (404, {"detail": "No Invoice matches the given query."})


# --- Queries --------------------------------------------------------------------------------------------

def more_rows(side, n: int) -> None:
    """n more tickets for the side's customer, each with an entry, a message; and n more portal teams."""
    customer = side.contact.customer
    for i in range(n):
        ticket = TicketFactory(team=side.team, customer=customer, sale_line=side.line)
        timesheet_log(user=side.agent, date=days_ago(i % 5), minutes=15, ticket=ticket)
        ticket_message_add(ticket=side.ticket, author=side.agent if i % 2 else side.contact.user, body=f"Message {i}")
        TeamFactory(portal_tickets=True)


def query_count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


def more_invoices(side, accountant, n: int) -> None:
    for i in range(n):
        timesheet_log(user=side.agent, date=days_ago(i % 5), minutes=15, ticket=side.ticket)
        invoice_post(invoice=invoice_create_from_order(order=side.line.order, actor=accountant), actor=accountant)


def more_lines(side, n: int) -> None:
    for _ in range(n):
        confirmed_line(order=side.line.order, product=side.line.product, quantity=Decimal("5.00"))


# The token with its user and roles, the contact, COUNT(*), the page; the timesheets and messages add the company's
# setting (agents' names or "Support team"), the invoices their lines (prefetched).
@pytest.mark.parametrize("path, expected", [
    ("tickets/", 4), ("timesheets/", 5), ("teams/", 4), ("lines/", 4), ("invoices/", 5),
    ("tickets/{ticket}/messages/", 5)])
def test_lists_do_not_grow_with_rows(portal, api_a, path, expected):
    a = portal["a"]
    address = f"{PORTAL}/" + path.format(ticket=a.ticket.pk)

    def grow(n):
        more_rows(a, n)
        more_invoices(a, portal["accountant"], n // 3)
        more_lines(a, n)

    grow(3)
    few = query_count(api_a, address)
    grow(27)
    many = query_count(api_a, address)

    assert few == many == expected


def test_a_contact_who_joined_later_sees_the_same(portal):
    """A second contact of customer A: the same tickets, none of B's."""
    colleague = invite_and_join(portal["a"].contact.customer, "second-a@example.com", "Second A")
    mail.outbox.clear()
    api = client_for(colleague.user)

    assert [row["id"] for row in api.get(f"{PORTAL}/tickets/").json()["results"]] == [portal["a"].ticket.pk]
    assert api.get(f"{PORTAL}/invoices/").json()["count"] == 1
    assert SaleOrderLine.objects.count() == 2 and Invoice.objects.count() == 2
    assert HelpdeskTeam.objects.filter(portal_tickets=True).count() == 2


# --- The support team's side of the messages (/api/v1/tickets/{id}/messages/) ----------------------------------

def test_the_support_team_answers_on_the_ticket(portal, api_a):
    a = portal["a"]
    api_a.post(f"{PORTAL}/tickets/{a.ticket.pk}/messages/", {"body": "Any news?"})
    agent = client_for(a.agent)

    response = agent.post(f"{API}/tickets/{a.ticket.pk}/messages/", {"body": "Fixed this morning."})

    assert response.status_code == 201, response.json()
    message = TicketMessage.objects.get(body="Fixed this morning.")
    assert response.json() == {"id": message.pk, "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
                               "author": a.agent.pk, "author_name": "Agent A", "from_customer": False,
                               "body": "Fixed this morning."}
    event = AuditEvent.objects.filter(action="ticket.message").first()
    assert (event.actor, event.changes) == (a.agent, {"message": message.pk, "from_customer": False})
    listed = agent.get(f"{API}/tickets/{a.ticket.pk}/messages/").json()
    assert [(m["author_name"], m["from_customer"], m["body"]) for m in listed] == [
        ("Contact A", True, "Any news?"), ("Agent A", False, "Fixed this morning.")]
    assert [m["author"] for m in api_a.get(f"{PORTAL}/tickets/{a.ticket.pk}/messages/").json()] == [
        "Contact A", "Agent A"]
    manager = client_for(portal["manager"])
    assert manager.post(f"{API}/tickets/{a.ticket.pk}/messages/", {"body": "Closing it."}).status_code == 201


def test_accountants_read_the_messages_and_other_teams_see_nothing(portal):
    a, b = portal["a"], portal["b"]
    ticket_message_add(ticket=a.ticket, author=a.contact.user, body="Any news?")
    accountant = client_for(portal["accountant"])
    before = state()

    assert [m["body"] for m in accountant.get(f"{API}/tickets/{a.ticket.pk}/messages/").json()] == ["Any news?"]
    response = accountant.post(f"{API}/tickets/{a.ticket.pk}/messages/", {"body": "Pay up."})
    assert (response.status_code, response.json()) == (
        403, {"detail": "Only agents of the ticket's team and managers write to the customer."})
    other_team = client_for(b.agent)
    for response in (other_team.get(f"{API}/tickets/{a.ticket.pk}/messages/"),
                     other_team.post(f"{API}/tickets/{a.ticket.pk}/messages/", {"body": "Hello"})):
        assert (response.status_code, response.json()) == (404, {"detail": "No Ticket matches the given query."})
    assert state() == before


def test_the_support_teams_message_refused_changes_nothing(portal):
    a = portal["a"]
    agent = client_for(a.agent)
    before = state()

    response = agent.post(f"{API}/tickets/{a.ticket.pk}/messages/", {"body": ""})
    assert (response.status_code, response.json()) == (400, {"body": ["This field may not be blank."]})
    response = agent.post(f"{API}/tickets/{a.ticket.pk}/messages/", {"text": "Hello"})
    assert (response.status_code, response.json()) == (400, {"body": ["This field is required."]})
    ticket_set_status(ticket=a.ticket, status=Ticket.Status.CLOSED)
    closed = state()
    response = agent.post(f"{API}/tickets/{a.ticket.pk}/messages/", {"body": "Reopening?"})
    assert (response.status_code, response.json()) == (409, {
        "detail": f"Ticket #{a.ticket.pk} is closed: messages go on open tickets. Open a new ticket."})
    assert state() == closed
    assert TicketMessage.objects.count() == 0 and len(before[1]) == 0
