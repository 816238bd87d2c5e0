"""Every list endpoint takes the same number of queries for 1 row as for 50 (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from projects.services import task_create
from tickets.services import ticket_link_task
from timesheets.services import timesheet_log

from ..factories import (
    CustomerFactory,
    ProductFactory,
    ProjectFactory,
    SaleOrderLineFactory,
    TaxFactory,
    TeamFactory,
    TicketFactory,
    confirmed_line,
    days_ago,
)
from .conftest import API, client_for


def customer(ctx):
    CustomerFactory()


def tax(ctx):
    TaxFactory()


def product(ctx):
    ProductFactory(tax=TaxFactory())


def project(ctx):
    TeamFactory(project=ProjectFactory(customer=CustomerFactory())).members.add(ctx["agent"])


def task(ctx):
    ticket = TicketFactory(team=ctx["team"], customer=ctx["line"].order.customer)
    ticket_link_task(ticket=ticket, task=task_create(project=ctx["team"].project, name="Fuser",
                                                     sale_line=ctx["line"]))


def team(ctx):
    TeamFactory().members.add(ctx["agent"])


def ticket(ctx):
    ticket = TicketFactory(team=ctx["team"], customer=ctx["line"].order.customer, sale_line=ctx["line"],
                           assignee=ctx["agent"])
    timesheet_log(user=ctx["agent"], date=days_ago(0), minutes=30, ticket=ticket)


def sale_order(ctx):
    line = confirmed_line(tax=TaxFactory())
    SaleOrderLineFactory(order=line.order, product=line.product)
    ticket = TicketFactory(team=ctx["team"], customer=line.order.customer, sale_line=line)
    timesheet_log(user=ctx["agent"], date=days_ago(0), minutes=30, ticket=ticket)


def timesheet(ctx):
    timesheet_log(user=ctx["agent"], date=days_ago(1), minutes=45, ticket=ctx["ticket"], description="Call")
    invoice_create_from_order(order=ctx["line"].order)


def invoice(ctx):
    """A posted invoice of two entries and a posted credit note giving one back: two rows."""
    line = confirmed_line(tax=TaxFactory())
    ticket = TicketFactory(team=ctx["team"], customer=line.order.customer, sale_line=line)
    first = timesheet_log(user=ctx["agent"], date=days_ago(0), minutes=30, ticket=ticket)
    timesheet_log(user=ctx["agent"], date=days_ago(1), minutes=60, ticket=ticket)
    billed = invoice_post(invoice=invoice_create_from_order(order=line.order))
    invoice_post(invoice=invoice_credit_note(invoice=billed, entry_ids=[first.pk]))


@pytest.fixture
def ctx(agent, line_a):
    team = TeamFactory(project=ProjectFactory(customer=line_a.order.customer))
    team.members.add(agent)
    ticket = TicketFactory(team=team, customer=line_a.order.customer, sale_line=line_a)
    return {"agent": agent, "team": team, "line": line_a, "ticket": ticket}


def queries(client, path) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{API}/{path}/")
    assert response.status_code == 200, response.json()
    return len(captured), response.json()["count"]


# Every list: the token with its user and the user's groups (roles, one query: api.authentication), COUNT(*), the page.
# Sales orders add their lines (prefetched with product and tax), their rates by agent and by work type
# (prefetched) and the minutes awaiting approval of the page's lines (awaiting_minutes: one GROUP BY for the
# page, after the lines) and the company's currency (once per page); invoices add their lines, the lines'
# charges per ticket, their payment reminders, and the three queries of `invoice_line_entry_ids` (billed,
# credited, given back).
@pytest.mark.parametrize("path, make, role, expected", [
    ("customers", customer, "manager", 3),
    ("taxes", tax, "manager", 3),
    ("products", product, "manager", 3),
    ("projects", project, "manager", 3),
    ("projects", project, "agent", 3),
    ("tasks", task, "manager", 3),
    ("tasks", task, "agent", 3),
    ("teams", team, "agent", 3),
    ("tickets", ticket, "manager", 3),
    ("tickets", ticket, "agent", 3),
    ("sale-orders", sale_order, "accountant", 8),
    ("sale-orders", sale_order, "agent", 8),
    ("timesheets", timesheet, "manager", 3),
    ("timesheets", timesheet, "agent", 3),
    ("invoices", invoice, "accountant", 9),
])
def test_list_queries_do_not_grow_with_rows(request, ctx, path, make, role, expected):
    client = client_for(request.getfixturevalue(role))
    _, before = queries(client, path)

    make(ctx)
    one, count = queries(client, path)
    assert count > before
    for _ in range(49):
        make(ctx)
    fifty, count = queries(client, path)
    assert count >= before + 50

    assert one == fifty == expected
