"""Issue 5, target 2: the pages people use all day send as many queries for a little data as for a lot.

Each test counts one page's queries, adds data on the page and around it, and counts again:
the same figure, which is also the one `make bench` reports at a million time entries.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from timesheets.delivered import sale_lines_recompute
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, SaleOrderLineFactory, TicketFactory, UserFactory, confirmed_line, days_ago


def queries(client, address: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    return len(captured)


def log_many(ticket, user, count: int, *, days: int = 0) -> None:
    """Add `count` entries on the ticket at once (as an import would), then recompute its line."""
    TimeEntry.objects.bulk_create(
        TimeEntry(date=days_ago(days + n % 30), user=user, minutes=15,
                  billable_minutes=15 if ticket.sale_line_id else 0, description=f"Call {n}",
                  project=ticket.team.project, ticket=ticket, sale_line=ticket.sale_line) for n in range(count))
    sale_lines_recompute(line_ids=[ticket.sale_line_id])


def elsewhere(count: int) -> None:
    """Tickets, lines and entries of other customers: data the page does not show."""
    for _ in range(count):
        line = confirmed_line()
        other = TicketFactory(customer=line.order.customer, sale_line=line, assignee=UserFactory())
        log_many(other, UserFactory(), 5)


@pytest.fixture
def member(agent, ticket):
    ticket.team.members.add(agent)
    return agent


def test_the_ticket_page(client, member, ticket):
    timesheet_log(user=member, date=days_ago(0), minutes=30, ticket=ticket)
    client.force_login(member)
    address = reverse("ticket_detail", args=[ticket.pk])
    few = queries(client, address)

    log_many(ticket, member, 40, days=1)
    invoice_post(invoice=invoice_create_from_order(order=ticket.sale_line.order, period_end=days_ago(10)))
    elsewhere(5)
    # session, user with its roles; the ticket; its entries (with their agent, line, invoice);
    # the invoices they are on; the agent's timer; the Sales Order Items offered; the work types offered;
    # the History's events (issue 17: the Assign select's chosen one is the assignee read with the ticket);
    # its Messages with their authors (issue 18)
    assert queries(client, address) == few == 10


def test_the_sales_order_page(client, accountant, line_a, ticket, agent):
    timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    client.force_login(accountant)
    address = reverse("order_detail", args=[line_a.order.pk])
    few = queries(client, address)

    for _ in range(19):
        line = SaleOrderLineFactory(order=line_a.order, product=line_a.product)
        log_many(TicketFactory(customer=line_a.order.customer, sale_line=line, team=ticket.team), agent, 10)
    invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    log_many(ticket, agent, 10)
    invoice_create_from_order(order=line_a.order)
    elsewhere(5)
    # session, user with its roles; the order; its lines (product, tax); the tickets and tasks billing it
    # with their hours; its invoices; the time awaiting approval of its lines (one GROUP BY);
    # its rates (one UNION of both kinds); the company (its currency, once); its open disputes (issue 18)
    assert queries(client, address) == few == 11


def test_the_invoice_page_shows_a_page_of_entries(client, accountant, line_a, ticket, agent):
    timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    small = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    client.force_login(accountant)
    few = queries(client, reverse("invoice_detail", args=[small.pk]))

    line = confirmed_line(order__customer=line_a.order.customer)
    big_ticket = TicketFactory(customer=line.order.customer, sale_line=line, team=ticket.team)
    log_many(big_ticket, agent, 250)
    big = invoice_post(invoice=invoice_create_from_order(order=line.order))
    given_back = TimeEntry.objects.filter(sale_line=line).order_by("pk").values_list("pk", flat=True)[:3]
    invoice_post(invoice=invoice_credit_note(invoice=big, entry_ids=list(given_back)))
    elsewhere(5)
    address = reverse("invoice_detail", args=[big.pk])
    response = client.get(address, {"page": 3})
    assert len([entry for _, entries in response.context["lines"] for entry in entries]) == 50  # 250 by 100
    # session, user; the invoice; its lines; the page's entries: COUNT, their (date, id), the
    # entries themselves and the lines of those given back; the ones on a draft credit note;
    # taxes; its credit notes; its history, and the dates of the timesheets it names (issue 17: its sentences);
    # the Payment panel's payments and reminders
    assert queries(client, address) == queries(client, f"{address}?page=3") == few == 15


def test_the_ticket_list(client, manager, ticket, agent):
    timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    client.force_login(manager)
    address = reverse("ticket_list")
    few = queries(client, address)

    for n in range(30):
        other = TicketFactory(team=ticket.team, customer=CustomerFactory(), assignee=UserFactory())
        log_many(other, agent, 3)
    elsewhere(5)
    # session, user with its roles; the count of tickets; the page of tickets with their hours. The filters'
    # teams, customers and assignees are not on the page: they are asked of /lookup/ as one types.
    assert queries(client, address) == few == 4


def test_to_invoice_and_the_billing_run_page(client, accountant, ticket):
    """To Invoice and a run's page: the same queries for 1 order as for 12, and for a run of either."""
    from invoicing.models import BillingRun
    from invoicing.runs import run_post, run_start

    from ..jobs import run_jobs

    client.force_login(accountant)
    log_many(ticket, UserFactory(), 3)
    few = queries(client, reverse("to_invoice"))
    small = run_start(actor=accountant)
    run_jobs()
    run_post(run=small)
    run_jobs()
    small_run = queries(client, reverse("billing_run_detail", args=[small.pk]))

    for _ in range(11):
        line = confirmed_line()
        log_many(TicketFactory(customer=line.order.customer, sale_line=line, team=ticket.team), UserFactory(), 3)
    log_many(ticket, UserFactory(), 3)
    # session, user with its roles; the entries to invoice per line; the quantity lines; the lines; the orders;
    # the recent runs (and their starters); the savepoint's pair (the filters' customers and teams are asked of
    # /lookup/ as one types); the page's orders' open disputes (issue 18: one GROUP BY)
    assert queries(client, reverse("to_invoice")) == few
    big = run_start(actor=accountant)
    run_jobs()
    run_post(run=big)
    run_jobs()
    assert BillingRun.objects.count() == 2
    # session, user with its roles; the run; its steps; their progress (one query); the page's count and
    # items (with order, customer, invoice); their later steps' outcomes; their orders' open disputes (issue 18:
    # one GROUP BY); the invoiced total
    assert queries(client, reverse("billing_run_detail", args=[big.pk])) == small_run == 10


def test_new_ticket(client, member, ticket):
    """Issue 17: New ticket lists no team, customer, task, line or person: its selects ask /lookup/ as one types."""
    from ..factories import TaskFactory

    client.force_login(member)
    address = reverse("ticket_new")
    few = queries(client, address)

    for n in range(30):
        ticket.team.members.add(UserFactory(role="Agents"))
        TaskFactory(project=ticket.team.project)
    elsewhere(5)
    # session, user with its roles; the agent's first team (the form's team), whether they have any; the chosen
    # team's and assignee's options
    assert queries(client, address) == few == 6


def test_the_ticket_list_of_a_sales_order(client, manager, ticket, agent):
    """Issue 17: the sales order's "Tickets" button lists them with one more query: the order, for its chip."""
    timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    client.force_login(manager)
    address = f"{reverse('ticket_list')}?order={ticket.sale_line.order_id}"
    few = queries(client, address)

    for n in range(30):
        log_many(TicketFactory(team=ticket.team, customer=ticket.customer, sale_line=ticket.sale_line), agent, 3)
    elsewhere(5)
    # session, user with its roles; the order; the count of tickets; the page of tickets with their hours
    assert queries(client, address) == few == 5


def test_my_timesheets_week_grid(client, member, ticket):
    """Issue 17: My Timesheets sends as many queries for 40 rows as for three: the agent's tickets and tasks of the
    week and a ticket added by search."""
    from datetime import timedelta

    from timesheets.week import week_start

    from ..factories import TaskFactory

    monday = week_start(days_ago(7))
    added = TicketFactory(team=ticket.team, customer=ticket.customer)
    timesheet_log(user=member, date=monday, minutes=30, ticket=ticket)
    timesheet_log(user=member, date=monday, minutes=20, task=TaskFactory(project=ticket.team.project))
    client.force_login(member)
    address = f"{reverse('my_timesheets')}?week={monday}&add={added.pk}"
    few = queries(client, address)

    for n in range(34):
        other = TicketFactory(team=ticket.team, customer=CustomerFactory())
        timesheet_log(user=member, date=monday + timedelta(days=n % 7), minutes=15 + n, ticket=other)
    for n in range(3):
        timesheet_log(user=member, date=monday + timedelta(days=n), minutes=20,
                      task=TaskFactory(project=ticket.team.project))
    log_many(ticket, UserFactory(), 20, days=7)  # a teammate's time on the same ticket: not in the agent's week
    elsewhere(3)
    assert len(client.get(address).context["rows"]) == 40
    # session, user with its roles; the agent's entries of the week (with their ticket, task, invoice); the tickets
    # among them they may log on; the ticket added; the lock date; the lock dates of the teams of the tasks'
    # project (once per project); the tickets' customers
    assert queries(client, address) == few == 8
