"""A small, known world for the reports: two teams, two customers, each kind of time, an invoice.

Everything is made through the services (time logged by `timesheet_log`, invoiced by Create Invoice,
posted, written off, rejected), so that Delivered, invoices and the billing invariant are real. The
dates are fixed, in the past: the week of Monday 3 March 2025 and the next one (2025-W10 and W11).
"""

import datetime
from dataclasses import dataclass

import pytest

from invoicing.services import invoice_create_from_order, invoice_post, invoice_write_off
from timesheets.approval import timesheets_reject
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, TeamFactory, TicketFactory, UserFactory, confirmed_line

MONDAY = datetime.date(2025, 3, 3)
START, END = MONDAY, MONDAY + datetime.timedelta(days=13)  # two whole weeks, Monday to Sunday


def day(n: int) -> datetime.date:
    return MONDAY + datetime.timedelta(days=n)


def as_query(filters: dict, **extra) -> dict:
    """A row's drill-down filters as a query string gives them (every value a string)."""
    return {key: str(value) for key, value in {**filters, **extra}.items()}


@dataclass
class World:
    agent: object  # "agent", in team North: customer A's time
    bob: object  # in team South: customer B's time
    north: object
    south: object
    customer_a: object
    customer_b: object
    line_a: object  # 90/h, 50 h ordered
    line_b: object  # 60/h, 50 h ordered
    ticket_a: object  # billed to line A
    ticket_free: object  # customer A's, billing no line
    ticket_b: object  # billed to line B
    invoice: object  # posted: a1 and a3
    entries: dict  # name: entry


@pytest.fixture
def world(agent, manager, accountant, kinds):
    """Entries (minutes, kind) of the period 2025-03-03..2025-03-16, and two just outside it:

    a0  agent  ticket A    03-02  25  billable, the day before the period
    a1  agent  ticket A    03-03  60  billable, invoiced (posted)
    a2  agent  ticket A    03-04  30  non-billable work type (Internal): no line
    a3  agent  ticket A    03-05  45  no-charge work type (Goodwill): on the invoice at 0.00
    a4  agent  ticket free 03-06  10  non-billable: the ticket bills no line
    a5  agent  ticket A    03-11  15  written off from the draft: no charge
    b1  bob    ticket B    03-10  90  billable, to invoice
    b2  bob    ticket B    03-16  20  rejected: non-billable (the period's last day)
    b3  bob    ticket B    03-17  40  billable, the day after the period
    """
    bob = UserFactory(username="bob", first_name="Bob", last_name="Builder", role="Agents")
    customer_a, customer_b = CustomerFactory(name="Acme"), CustomerFactory(name="Bolt")
    line_a = confirmed_line(order__customer=customer_a, quantity=50, price_unit=90)
    line_b = confirmed_line(order__customer=customer_b, quantity=50, price_unit=60)
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    north.members.add(agent)
    south.members.add(bob)
    ticket_a = TicketFactory(team=north, customer=customer_a, sale_line=line_a, title="Printer jams")
    ticket_free = TicketFactory(team=north, customer=customer_a, title="Question")
    ticket_b = TicketFactory(team=south, customer=customer_b, sale_line=line_b, title="Router down")

    def log(user, ticket, n, minutes, **kwargs):
        return timesheet_log(user=user, ticket=ticket, date=day(n), minutes=minutes, description=f"day {n}",
                             **kwargs)

    entries = {
        "a0": log(agent, ticket_a, -1, 25),
        "a1": log(agent, ticket_a, 0, 60),
        "a2": log(agent, ticket_a, 1, 30, work_type=kinds["Internal"]),
        "a3": log(agent, ticket_a, 2, 45, work_type=kinds["Goodwill"]),
        "a4": log(agent, ticket_free, 3, 10),
        "a5": log(agent, ticket_a, 8, 15),
        "b1": log(bob, ticket_b, 7, 90),
        "b2": log(bob, ticket_b, 13, 20),
        "b3": log(bob, ticket_b, 14, 40),
    }
    invoice = invoice_create_from_order(order=line_a.order, period_start=START, period_end=day(8), actor=accountant)
    invoice_write_off(invoice=invoice, entry_ids=[entries["a5"].pk], reason="Our mistake", actor=accountant)
    invoice_post(invoice=invoice, actor=accountant)
    timesheets_reject(ids=[entries["b2"].pk], reason="Not this customer's", actor=manager)
    for entry in entries.values():
        entry.refresh_from_db()
    return World(agent=agent, bob=bob, north=north, south=south, customer_a=customer_a, customer_b=customer_b,
                 line_a=line_a, line_b=line_b, ticket_a=ticket_a, ticket_free=ticket_free, ticket_b=ticket_b,
                 invoice=invoice, entries=entries)
