"""Schema-driven fuzzing with schemathesis: whatever it sends, no 5xx, and every answer matches the schema.

The requests run through the Django WSGI application on the test database, as a
manager (who may call every operation), against a small set of real records so
that generated ids sometimes hit something. Bounded so `make test` stays within minutes.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.limits import MAX_ID
from invoicing.models import BillingRun, Invoice
from invoicing.payments import payment_register
from invoicing.services import invoice_create_from_order, invoice_post, invoice_write_off
from projects.models import Project, Task
from projects.services import task_create
from reports.models import Alert
from sales.models import Company, Contact, Customer, Product, SaleOrder, SaleOrderLine, ServicePolicy, Tax, WorkType
from tickets.models import HelpdeskTeam, Ticket
from tickets.services import ticket_message_add
from timesheets.disputes import entry_acknowledge, entry_dispute
from timesheets.models import TimeEntry
from timesheets.rates import order_rates_set
from timesheets.services import timesheet_log

from ..factories import ProductFactory, SaleOrderFactory, SaleOrderLineFactory, TicketFactory, confirmed_line, days_ago
from ..portal.conftest import invite_and_join
from .conftest import REQUESTS

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def records(agent, line_a, ticket):
    """A few of everything: a confirmed order with a manual line and rates, a ticket with a task, work types,
    time (one entry written off, one of a non-billable work type), two invoices; the customer's contact, whom
    it returns, with a message and time acknowledged and disputed."""
    ticket.team.members.add(agent)
    onsite = WorkType.objects.create(name="On-site")
    internal = WorkType.objects.create(name="Internal", billing=WorkType.Billing.NON_BILLABLE)
    order_rates_set(order=line_a.order, agent_rates=[{"user": agent, "sale_line": line_a}],
                    work_type_rates=[{"work_type": onsite, "sale_line": line_a}])
    timesheet_log(user=agent, date=days_ago(3), minutes=20, ticket=ticket, work_type=internal)
    confirmed_line(order=line_a.order, product=ProductFactory(name="Setup",
                                                              service_policy=ServicePolicy.DELIVERED_MANUAL))
    task_create(project=ticket.team.project, name="Fuser")
    timesheet_log(user=agent, date=days_ago(2), minutes=90, ticket=ticket)
    posted = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    posted.refresh_from_db()
    payment_register(invoice=posted, amount=posted.amount_residual / 2)  # partly paid: payments to list, reverse
    timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    free = timesheet_log(user=agent, date=days_ago(0), minutes=15, ticket=ticket)
    draft = invoice_create_from_order(order=line_a.order)
    # One entry "No charge", so reinstate and ?written_off= meet one.
    invoice_write_off(invoice=draft, entry_ids=[free.pk], reason="Goodwill")
    TicketFactory(team=ticket.team, customer=ticket.customer)
    SaleOrderLineFactory(order=SaleOrderFactory(customer=ticket.customer))  # a quotation
    # The customer portal (issue 18): the customer's contact, a team taking portal tickets, a message, time
    # acknowledged and disputed, another customer's ticket (404 to the contact).
    ticket.team.portal_tickets = True
    ticket.team.save()
    contact = invite_and_join(ticket.customer, "contact@example.com", "Hank Scorpio")
    ticket_message_add(ticket=ticket, author=contact.user, body="Still jamming")
    entry_acknowledge(entry=timesheet_log(user=agent, date=days_ago(1), minutes=10, ticket=ticket), contact=contact)
    entry_dispute(entry=timesheet_log(user=agent, date=days_ago(1), minutes=25, ticket=ticket), contact=contact,
                  reason="Not that long")
    TicketFactory(team=ticket.team)
    return contact


@pytest.fixture
def wsgi_requests(records):
    """Let requests through the WSGI application keep the test's database connection (as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def live_schema():
    """The schema as a client reads it, from the WSGI application."""
    from helpdesk_billing.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


schema = live_schema()


MODELS = {"customers": Customer, "taxes": Tax, "products": Product, "work-types": WorkType, "projects": Project,
          "tasks": Task,
          "teams": HelpdeskTeam, "tickets": Ticket, "sale-orders": SaleOrder, "timesheets": TimeEntry,
          "invoices": Invoice, "billing-runs": BillingRun, "company": Company,
          "reports": SaleOrderLine, "alerts": Alert, "overview": Alert,  # a report's ids are lines (burn-down)
          "contacts": Contact, "disputes": TimeEntry, "portal/me": Contact, "portal/teams": HelpdeskTeam,
          "portal/tickets": Ticket, "portal/timesheets": TimeEntry, "portal/lines": SaleOrderLine,
          "portal/invoices": Invoice}


def resource_of(path: str) -> str:
    """The resource an operation's ids name: "tickets", or the portal's "portal/tickets"."""
    parts = path.split("/")
    return "/".join(parts[3:5]) if parts[3] == "portal" else parts[3]


def aim_at_records(case) -> None:
    """Point most generated integer ids at real records, so operations do more than answer 404.

    Hypothesis still picks: the generated number chooses the record, and one number in four keeps its
    own (most likely missing) id.
    """
    params = case.path_parameters or {}
    rows = MODELS[resource_of(case.operation.path)].objects.order_by("pk")
    for name in ("id", "line_id"):
        value = params.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value % 4 == 0:
            continue
        if name == "line_id":
            if not isinstance(params.get("id"), int) or not 0 < params["id"] <= MAX_ID:
                continue  # no order has it, and SQLite could not even bind it
            rows = SaleOrderLine.objects.filter(order_id=params["id"]).order_by("pk")
        ids = list(rows.values_list("pk", flat=True))
        if ids:
            params[name] = ids[value % len(ids)]


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, database=None, print_blob=True,
          suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
def test_any_request_gets_a_documented_answer(case, manager, wsgi_requests, request):
    token, _ = Token.objects.get_or_create(user=manager)

    aim_at_records(case)
    response = case.call(headers={"Authorization": f"Token {token.key}"})
    request.config.stash[REQUESTS] = request.config.stash.get(REQUESTS, 0) + 1

    case.validate_response(response, checks=CHECKS)


PORTAL = schema.include(path_regex="^/api/v1/portal/")


@PORTAL.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, database=None, print_blob=True,
          suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
def test_any_portal_request_gets_a_documented_answer(case, records, wsgi_requests, request):
    """The portal's API as a customer's contact: whatever they send, no 5xx, and every answer as documented."""
    token, _ = Token.objects.get_or_create(user=records.user)

    aim_at_records(case)
    response = case.call(headers={"Authorization": f"Token {token.key}"})
    request.config.stash[REQUESTS] = request.config.stash.get(REQUESTS, 0) + 1

    case.validate_response(response, checks=CHECKS)
