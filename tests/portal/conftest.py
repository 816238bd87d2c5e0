"""Two customers' worlds for the customer portal (issue 18), each with its contact.

Customer A and customer B each have: a confirmed order (a timesheet line at 90.00 for 10 h), a ticket on a
team that accepts portal tickets and holds disputed time, an agent's three entries on it (one invoiced on a
posted invoice, two not invoiced yet), and a contact who has set a password (`contact-a@example.com`,
`contact-b@example.com`, password PASSWORD). Everything a page could leak of a side is in `Side.markers`.
"""

from dataclasses import dataclass, field

import pytest
from django.core import mail

from invoicing.models import Invoice
from invoicing.services import invoice_create_from_order, invoice_post
from sales.contacts import contact_invite, contact_set_password, link_path
from sales.models import Contact, SaleOrderLine
from tickets.models import HelpdeskTeam, Ticket
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, TeamFactory, TicketFactory, UserFactory, confirmed_line, days_ago
from ..jobs import run_jobs

PASSWORD = "portal-pass-2026"


@dataclass
class Side:
    name: str
    contact: Contact
    team: HelpdeskTeam
    ticket: Ticket
    line: SaleOrderLine
    agent: object
    posted: Invoice
    invoiced_entry: TimeEntry
    open_entry: TimeEntry
    other_open_entry: TimeEntry
    markers: list[str] = field(default_factory=list)


def link_of(user) -> tuple[str, str]:
    """(uidb64, token) of a fresh link for `user`, as the email carries it."""
    _portal, _password, uid, token = link_path(user).strip("/").split("/")
    return uid, token


def invite_and_join(customer, email: str, name: str = "") -> Contact:
    """Invite a contact and set their password through the link, as they would."""
    contact = contact_invite(customer=customer, email=email, name=name, site="http://testserver")
    uid, token = link_of(contact.user)
    contact_set_password(uidb64=uid, token=token, password=PASSWORD)
    contact.refresh_from_db()
    return contact


def build_side(name: str, accountant) -> Side:
    customer = CustomerFactory(name=f"Portal customer {name}", email=f"billing-{name}@example.com")
    line = confirmed_line(order__customer=customer, order__name=f"S-PORTAL-{name.upper()}",
                          name=f"Support hours {name}", quantity=10)
    team = TeamFactory(name=f"Portal team {name}", portal_tickets=True, hold_disputed=True)
    agent = UserFactory(username=f"portal-agent-{name}", first_name="Agent", last_name=name.upper(), role="Agents")
    team.members.add(agent)
    ticket = TicketFactory(team=team, customer=customer, sale_line=line, title=f"Portal ticket of {name}")
    invoiced = timesheet_log(user=agent, date=days_ago(20), minutes=60, ticket=ticket,
                             description=f"Invoiced work {name}")
    invoice = invoice_create_from_order(order=line.order, actor=accountant)
    invoice_post(invoice=invoice, actor=accountant)
    open_entry = timesheet_log(user=agent, date=days_ago(3), minutes=90, ticket=ticket,
                               description=f"Open work {name}")
    other = timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket,
                          description=f"More work {name}")
    contact = invite_and_join(customer, f"contact-{name}@example.com", f"Contact {name.upper()}")
    invoice.refresh_from_db()
    return Side(name=name, contact=contact, team=team, ticket=ticket, line=line, agent=agent, posted=invoice,
                invoiced_entry=invoiced, open_entry=open_entry, other_open_entry=other,
                markers=[customer.name, ticket.title, line.order.name, invoice.number, f"Open work {name}",
                         team.name])


@pytest.fixture
def portal(db):
    """{"a": Side, "b": Side, "accountant": user, "manager": user}, the invitation emails sent and cleared."""
    accountant = UserFactory(username="portal-accountant", role="Accountants")
    manager = UserFactory(username="portal-manager", role="Managers")
    sides = {"a": build_side("a", accountant), "b": build_side("b", accountant)}
    run_jobs()
    mail.outbox.clear()
    return {**sides, "accountant": accountant, "manager": manager}


@pytest.fixture
def contact_client(client):
    """A function: the test client signed in as a side's contact."""
    def sign_in(side: Side):
        client.force_login(side.contact.user)
        return client
    return sign_in

