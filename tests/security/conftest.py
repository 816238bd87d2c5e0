"""Two teams' worlds side by side, and the personas of the permission matrix.

Team A and team B each have a customer, a confirmed order (a timesheet line and a manual
line, and a rate by work type: their work type's time bills the timesheet line), a quotation,
a ticket linked to a task, and three entries of their agent: one on a posted invoice, one on a
draft invoice, one not invoiced yet. Every name a page could leak
is unique to its side (`Side.markers`). Team A also has a lead: an agent who is staff, so
the admin is theirs too, with no entry of their own (team A's are a teammate's to them).

The customer portal (issue 18): each side's customer has a contact who has set their password
(`contact_a`, `contact_b`, with tokens), and both teams accept portal tickets. What a contact's page
could leak of the other side is in `Side.contact_markers` (not the team: every contact may open a ticket
for any team that accepts them).
"""

from dataclasses import dataclass, field

import pytest
from rest_framework.authtoken.models import Token

from invoicing.models import Invoice
from invoicing.services import invoice_create_from_order, invoice_post
from projects.models import Task
from sales.contacts import contact_invite, contact_set_password, link_path
from sales.models import Contact, SaleOrder, SaleOrderLine, ServicePolicy, WorkType
from tickets.models import HelpdeskTeam, Ticket
from tickets.services import ticket_link_task
from timesheets.models import TimeEntry
from timesheets.rates import order_rates_set
from timesheets.services import timesheet_log

from ..factories import (
    CustomerFactory,
    ProductFactory,
    SaleOrderLineFactory,
    TaskFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    confirmed_line,
    days_ago,
)


@dataclass
class Side:
    name: str
    agent: object
    team: HelpdeskTeam
    ticket: Ticket
    task: Task
    order: SaleOrder
    line: SaleOrderLine
    manual_line: SaleOrderLine
    quotation: SaleOrder
    posted: Invoice
    draft: Invoice
    invoiced_entry: TimeEntry
    drafted_entry: TimeEntry
    open_entry: TimeEntry
    work_type: WorkType
    markers: list[str] = field(default_factory=list)
    contact: Contact | None = None
    contact_markers: list[str] = field(default_factory=list)


def build_side(name: str, agent) -> Side:
    customer = CustomerFactory(name=f"Customer of team {name}", vat_number="BE0477472701")  # valid: PATCH checks it
    line = confirmed_line(order__customer=customer)
    manual_line = confirmed_line(order=line.order, name=f"Setup for {name}",
                                 product=ProductFactory(name="Setup", service_policy=ServicePolicy.DELIVERED_MANUAL))
    # Work types are configuration every role reads: its name is no marker of the side.
    work_type = WorkType.objects.create(name=f"On-site {name}")
    order_rates_set(order=line.order, work_type_rates=[{"work_type": work_type, "sale_line": line}])
    team = TeamFactory(name=f"Team {name}", project__name=f"Project of team {name}")
    team.members.add(agent)
    ticket = TicketFactory(team=team, customer=customer, sale_line=line, title=f"Printer of team {name} jams")
    task = TaskFactory(project=team.project, name=f"Task of team {name}")
    ticket = ticket_link_task(ticket=ticket, task=task)
    entries = [timesheet_log(user=agent, date=days_ago(3 - n), minutes=30 + 15 * n, ticket=ticket,
                             description=f"Work of team {name} #{n}") for n in range(3)]
    # The first entry (3 days ago) on a posted invoice, the second on a draft; the third stays open.
    posted = invoice_post(invoice=invoice_create_from_order(order=line.order, period_end=days_ago(3)))
    draft = invoice_create_from_order(order=line.order, period_end=days_ago(2))
    quotation = SaleOrderLineFactory(order__customer=customer).order
    side = Side(name=name, agent=agent, team=team, ticket=ticket, task=task, order=line.order, line=line,
                manual_line=manual_line, quotation=quotation, posted=posted, draft=draft,
                invoiced_entry=entries[0], drafted_entry=entries[1], open_entry=entries[2], work_type=work_type)
    side.markers = [ticket.title, task.name, *(e.description for e in entries), customer.name, line.order.name,
                    posted.number, team.name, team.project.name, agent.username]
    return side


@dataclass
class World:
    a: Side
    b: Side
    users: dict


@pytest.fixture
def world(db):
    users = {
        "agent_a": UserFactory(username="agent_a", role="Agents"),
        "agent_b": UserFactory(username="agent_b", role="Agents"),
        "manager": UserFactory(username="manager", role="Managers", is_staff=True),
        "accountant": UserFactory(username="accountant", role="Accountants", is_staff=True),
        "lead_a": UserFactory(username="lead_a", role="Agents", is_staff=True),
    }
    for user in users.values():
        Token.objects.get_or_create(user=user)
    world = World(a=build_side("A", users["agent_a"]), b=build_side("B", users["agent_b"]), users=users)
    world.a.team.members.add(users["lead_a"])
    for side in (world.a, world.b):
        add_contact(world, side)
    return world


CONTACT_PASSWORD = "portal-pass-2026"


def add_contact(world, side: Side) -> Contact:
    """Invite the side's customer's contact (`contact_a`...), who sets their password through the link; give them a
    token; let the side's team accept portal tickets."""
    name = f"contact_{side.name.lower()}"
    contact = contact_invite(customer=side.order.customer, email=f"{name}@customer-{side.name.lower()}.example",
                             name=f"Contact {side.name}", site="http://testserver", actor=world.users["manager"])
    _portal, _password, uid, token = link_path(contact.user).strip("/").split("/")
    contact_set_password(uidb64=uid, token=token, password=CONTACT_PASSWORD)
    contact.refresh_from_db()
    Token.objects.get_or_create(user=contact.user)
    side.team.portal_tickets = True
    side.team.save(update_fields=["portal_tickets"])
    world.users[name] = contact.user
    side.contact = contact
    side.markers.append(contact.user.email)
    side.contact_markers = [side.ticket.title, *(e.description for e in (side.invoiced_entry, side.drafted_entry,
                                                                         side.open_entry)),
                            side.order.customer.name, side.order.name, side.posted.number, side.agent.username,
                            contact.user.email]
    return contact
