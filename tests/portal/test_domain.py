"""The portal's domain (issue 18): invitations and their links, disputes and their resolution, messages."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from core.errors import Conflict
from invoicing.selectors import billing_drift
from invoicing.services import invoice_create_from_order
from sales.contacts import contact_deactivate, contact_invite, contact_set_password, password_reset_request
from tickets.services import ticket_message_add, ticket_open_from_portal
from timesheets.disputes import dispute_resolve, entry_acknowledge, entry_dispute
from timesheets.models import CustomerReview

from ..factories import CustomerFactory, UserFactory, confirmed_line
from ..jobs import run_jobs
from .conftest import PASSWORD, link_of

pytestmark = pytest.mark.django_db


def _delivered(line):
    line.refresh_from_db()
    return line.delivered


def test_an_invitation_emails_a_link_that_works_once(portal):
    customer = CustomerFactory(name="Globex", language="fr")
    contact = contact_invite(customer=customer, email=" Hank@Globex.example ", name="Hank Scorpio",
                             site="https://support.example", actor=portal["manager"])
    assert contact.user.username == "hank@globex.example" and not contact.joined
    assert contact.user.groups.get().name == "Customer contacts" and not contact.user.is_staff
    assert run_jobs() == 1
    message = mail.outbox[-1]
    assert message.to == ["hank@globex.example"]
    assert "https://support.example/portal/password/" in message.body
    assert "Hank" in message.body and "Globex" in message.body
    assert "portail client" in message.subject  # the customer's language
    uid, token = link_of(contact.user)
    contact_set_password(uidb64=uid, token=token, password=PASSWORD)
    contact.user.refresh_from_db()
    assert contact.user.check_password(PASSWORD)
    with pytest.raises(ValidationError) as refused:
        contact_set_password(uidb64=uid, token=token, password="another-pass-2026")
    assert "expired or was already used" in str(refused.value)
    actions = list(AuditEvent.objects.filter(object_type="sales.contact", object_id=contact.pk)
                   .order_by("pk").values_list("action", "actor_name"))
    assert actions == [("contact.invited", "portal-manager"), ("contact.joined", "hank@globex.example")]


def test_a_link_expires(portal):
    contact = contact_invite(customer=CustomerFactory(), email="late@example.com")
    uid, token = link_of(contact.user)
    with time_machine.travel(datetime.datetime.now() + datetime.timedelta(days=3, hours=1)):
        with pytest.raises(ValidationError):
            contact_set_password(uidb64=uid, token=token, password=PASSWORD)


def test_an_address_with_an_account_is_refused(portal):
    UserFactory(username="taken@example.com", email="taken@example.com")
    with pytest.raises(Conflict):
        contact_invite(customer=CustomerFactory(), email="TAKEN@example.com")
    with pytest.raises(ValidationError) as refused:
        contact_invite(customer=CustomerFactory(), email="not an address")
    assert "is not an email address" in str(refused.value)


def test_forgot_password_sends_only_to_active_contacts(portal):
    password_reset_request(email="contact-a@example.com", site="http://testserver")
    password_reset_request(email="nobody@example.com", site="http://testserver")
    password_reset_request(email=portal["a"].agent.email or "agent@example.com", site="http://testserver")
    assert run_jobs() == 1
    assert [m.to for m in mail.outbox] == [["contact-a@example.com"]]
    contact_deactivate(contact=portal["b"].contact, actor=portal["manager"])
    password_reset_request(email="contact-b@example.com")
    assert run_jobs() == 0


def test_a_held_dispute_leaves_delivered_and_the_invoice_until_kept(portal):
    a = portal["a"]
    assert _delivered(a.line) == Decimal("3.00")  # 1:00 invoiced, 1:30 and 0:30 open
    review = entry_dispute(entry=a.open_entry, contact=a.contact, reason="We were closed that day")
    assert review.state == "disputed"
    a.open_entry.refresh_from_db()
    assert a.open_entry.held and a.open_entry.billable_minutes == 0
    assert _delivered(a.line) == Decimal("1.50")
    invoice = invoice_create_from_order(order=a.line.order, actor=portal["accountant"])
    assert [e.pk for e in invoice.lines.get().timesheets.all()] == [a.other_open_entry.pk]
    assert billing_drift() == []
    dispute_resolve(entry=a.open_entry, resolution="kept", answer="Our logs show the call", actor=portal["accountant"])
    a.open_entry.refresh_from_db()
    assert not a.open_entry.held and a.open_entry.billable_minutes == 90
    assert _delivered(a.line) == Decimal("3.00")
    assert billing_drift() == []
    review.refresh_from_db()
    assert (review.state, review.resolution, review.answer) == ("resolved", "kept", "Our logs show the call")


def test_a_dispute_written_off_or_corrected(portal):
    a = portal["a"]
    entry_dispute(entry=a.open_entry, contact=a.contact, reason="Too long")
    entry_dispute(entry=a.other_open_entry, contact=a.contact, reason="Not us")
    dispute_resolve(entry=a.open_entry, resolution="corrected", minutes=45, answer="Fair: 0:45",
                    actor=portal["accountant"])
    dispute_resolve(entry=a.other_open_entry, resolution="written_off", answer="Our mistake",
                    actor=portal["manager"])
    a.open_entry.refresh_from_db()
    a.other_open_entry.refresh_from_db()
    assert (a.open_entry.minutes, a.open_entry.billable_minutes, a.open_entry.review.minutes_before) == (45, 45, 90)
    assert a.other_open_entry.written_off and a.other_open_entry.billable_minutes == 0
    assert _delivered(a.line) == Decimal("1.75")
    assert billing_drift() == []
    events = list(AuditEvent.objects.filter(action="entry.dispute_resolved").order_by("pk")
                  .values_list("object_id", "changes__resolution"))
    assert events == [(a.open_entry.pk, "corrected"), (a.other_open_entry.pk, "written_off")]


def test_a_team_that_does_not_hold_bills_the_disputed_time(portal):
    a = portal["a"]
    a.team.hold_disputed = False
    a.team.save()
    entry_dispute(entry=a.open_entry, contact=a.contact, reason="Hmm")
    a.open_entry.refresh_from_db()
    assert not a.open_entry.held and a.open_entry.billable_minutes == 90
    assert _delivered(a.line) == Decimal("3.00")


def test_what_a_contact_may_not_dispute(portal):
    a, b = portal["a"], portal["b"]
    with pytest.raises(Conflict):
        entry_dispute(entry=a.invoiced_entry, contact=a.contact, reason="Too late")
    with pytest.raises(ValidationError) as other:
        entry_dispute(entry=b.open_entry, contact=a.contact, reason="Not ours")
    assert "No such timesheet" in str(other.value)
    with pytest.raises(ValidationError) as no_reason:
        entry_dispute(entry=a.open_entry, contact=a.contact, reason="   ")
    assert "Say why" in str(no_reason.value)
    entry_acknowledge(entry=a.open_entry, contact=a.contact)
    entry_dispute(entry=a.open_entry, contact=a.contact, reason="On second thought")  # may change their mind
    with pytest.raises(Conflict):
        entry_dispute(entry=a.open_entry, contact=a.contact, reason="Again")
    with pytest.raises(Conflict):
        entry_acknowledge(entry=a.open_entry, contact=a.contact)
    with pytest.raises(ValidationError):
        dispute_resolve(entry=a.open_entry, resolution="ignore", answer="x", actor=portal["accountant"])
    with pytest.raises(ValidationError):
        dispute_resolve(entry=a.open_entry, resolution="corrected", minutes=0, answer="x", actor=portal["accountant"])
    with pytest.raises(Conflict):
        dispute_resolve(entry=a.other_open_entry, resolution="kept", answer="x", actor=portal["accountant"])
    assert CustomerReview.objects.filter(state="disputed").count() == 1


def test_portal_tickets_and_messages(portal):
    a, b = portal["a"], portal["b"]
    ticket = ticket_open_from_portal(contact=a.contact, team=a.team, title="  VPN down ", description="Since 9:00")
    assert (ticket.customer, ticket.title, ticket.status, ticket.assignee) == (a.line.order.customer, "VPN down",
                                                                              "new", None)
    assert ticket.sale_line == a.line  # the customer's one line: it bills there, as an agent would set it
    confirmed_line(order__customer=a.line.order.customer)
    assert ticket_open_from_portal(contact=a.contact, team=a.team, title="Two lines").sale_line is None
    b.team.portal_tickets = False
    b.team.save()
    with pytest.raises(ValidationError):
        ticket_open_from_portal(contact=a.contact, team=b.team, title="x")
    message = ticket_message_add(ticket=ticket, author=a.contact.user, body="Still down")
    assert message.from_customer
    reply = ticket_message_add(ticket=ticket, author=a.agent, body="Looking")
    assert not reply.from_customer
    ticket.status = "closed"
    ticket.save()
    with pytest.raises(Conflict):
        ticket_message_add(ticket=ticket, author=a.contact.user, body="Hello?")


def test_held_time_stays_held_when_it_moves_or_is_approved(portal):
    """A held entry bills 0 whatever recounts it: its ticket moved to another line, a manager's approval, an edit
    by its agent; resolved, it bills on the line it is on then."""
    from tickets.services import ticket_set_sale_line
    from timesheets.approval import timesheets_approve
    from timesheets.services import timesheet_update

    a = portal["a"]
    entry_dispute(entry=a.open_entry, contact=a.contact, reason="Not that long")
    other = confirmed_line(order__customer=a.line.order.customer)
    ticket_set_sale_line(ticket=a.ticket, sale_line=other)
    timesheet_update(entry=a.open_entry, minutes=80, actor=a.agent)
    timesheets_approve(ids=[a.open_entry.pk], actor=portal["manager"])
    a.open_entry.refresh_from_db()
    assert (a.open_entry.sale_line, a.open_entry.held, a.open_entry.billable_minutes) == (other, True, 0)
    assert (_delivered(other), _delivered(a.line)) == (Decimal("0.50"), Decimal("1.00"))
    assert billing_drift() == []
    dispute_resolve(entry=a.open_entry, resolution="kept", answer="As logged", actor=portal["accountant"])
    assert _delivered(other) == Decimal("1.83")  # 0:30 + 1:20 on the new line
    assert billing_drift() == []


def test_forgot_password_sends_one_link_a_while(portal, settings):
    """Asking again and again floods no mailbox: one link per contact in PORTAL_LINK_INTERVAL_SECONDS."""
    for _ in range(3):
        password_reset_request(email="contact-a@example.com")
    assert run_jobs() == 1
    with time_machine.travel(datetime.datetime.now() + datetime.timedelta(seconds=settings.PORTAL_LINK_INTERVAL_SECONDS
                                                                          + 1)):
        password_reset_request(email="contact-a@example.com")
        assert run_jobs() == 1
    assert [m.to for m in mail.outbox] == [["contact-a@example.com"]] * 2


def test_a_contact_sees_posted_invoices_only(portal):
    from invoicing.selectors import contact_invoices
    from invoicing.services import invoice_cancel

    a = portal["a"]
    draft = invoice_create_from_order(order=a.line.order, actor=portal["accountant"])
    assert list(contact_invoices(contact=a.contact)) == [a.posted]
    invoice_cancel(invoice=draft, actor=portal["accountant"])
    assert list(contact_invoices(contact=a.contact)) == [a.posted]


def test_the_portal_settings_are_audited(portal):
    from audit.sentences import sentence
    from sales.models import Company
    from sales.services import company_save
    from tickets.services import team_save

    a = portal["a"]
    a.team.portal_tickets, a.team.hold_disputed = False, False
    team_save(team=a.team, actor=portal["manager"])
    company = Company.current()
    company.portal_shows_agents = False
    company_save(company=company, actor=portal["manager"])
    team_event = AuditEvent.objects.get(action="team.portal_changed")
    assert team_event.changes == {"portal_tickets": [True, False], "hold_disputed": [True, False]}
    # PostgreSQL's jsonb keeps the changes in an order of its own: the sentence has both parts.
    assert set(sentence(team_event).split("; ")) == {"Accepts portal tickets turned off",
                                                     "Hold disputed time turned off"}
    company_event = AuditEvent.objects.get(action="company.changed")
    assert company_event.changes == {"portal_shows_agents": [True, False]}
    assert sentence(company_event) == "Portal shows agents' names turned off"
