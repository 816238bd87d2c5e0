"""Issue 15: each report's first page sends as many queries for 3 customers as for 30 (selector, screen, API).

The same figures `make bench` reports at a million time entries (target 13).
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoicing.services import invoice_create_from_order, invoice_post
from reports.alerts import alerts_scan
from reports.overview import overview
from reports.prepaid import prepaid_params, prepaid_report
from reports.revenue import revenue_params, revenue_report
from reports.time import time_params, time_report
from reports.unbilled import unbilled_params, unbilled_report
from sales.models import ServicePolicy
from timesheets.services import timesheet_log

from ..api.conftest import client_for
from ..factories import CustomerFactory, ProductFactory, TeamFactory, TicketFactory, UserFactory, confirmed_line

TODAY_MINUS = [1, 9, 40, 100]


def grow(customers: int, agents: list, teams: list) -> None:
    """`customers` customers, each with a timesheet line (half of it invoiced) and a prepaid line, time logged
    by every agent over four months, spread over the teams; one line alerting."""
    from ..factories import days_ago

    block = ProductFactory(name="Block", service_policy=ServicePolicy.ORDERED_PREPAID,
                           alert_remaining_hours=Decimal("40"))
    for n in range(customers):
        customer = CustomerFactory()
        line = confirmed_line(order__customer=customer, quantity=1)
        prepaid = confirmed_line(order=line.order, product=block, quantity=10)
        team = teams[n % len(teams)]
        for target in (line, prepaid):
            ticket = TicketFactory(team=team, customer=customer, sale_line=target, assignee=agents[n % len(agents)])
            for agent in agents:
                for days in TODAY_MINUS:
                    timesheet_log(user=agent, ticket=ticket, date=days_ago(days), minutes=15 + n)
        invoice_post(invoice=invoice_create_from_order(order=line.order, period_end=days_ago(30)))
    alerts_scan()


@pytest.fixture
def world(db, manager):
    agents = [UserFactory(role="Agents") for _ in range(3)]
    teams = [TeamFactory() for _ in range(3)]
    for team, agent in zip(teams, agents):
        team.members.add(agent)
    return agents, teams


def count(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def year_ago() -> str:
    from django.utils import timezone

    return (timezone.localdate() - datetime.timedelta(days=364)).isoformat()


# Each selector first reads the user's roles (a fresh user, as in a request), then:
SELECTORS = {
    # The period's sums per week (the chart, the totals), the page of rows, the names of its customers.
    "time": lambda user: time_report(user=user, params=time_params({})),
    # The same three, per agent and month over a year.
    "time by agent": lambda user: time_report(user=user, params=time_params({"group_by": "agent,month",
                                                                            "from": year_ago()})),
    # The company (its currency), one query of the customers' page with the grand totals beside it.
    "unbilled": lambda user: unbilled_report(user=user, params=unbilled_params({})),
    # The company (its currency, for the parameter), the sums per month (chart, totals), the page of rows.
    "revenue": lambda user: revenue_report(user=user, params=revenue_params({})),
    # The page of lines (order, customer, product), the page's rates over four weeks.
    "prepaid": lambda user: prepaid_report(user=user, params=prepaid_params({})),
    # The teams; open tickets, this week's time, unbilled time per team (three GROUP BYs);
    # the accountant's part: the company, Unbilled work's one query, the prepaid and manual lines to invoice,
    # the overdue invoices per currency; the open alerts (with their lines, orders, customers, products).
    "overview": lambda user: overview(user=user),
}
PAGES = {"time": "/reports/time/", "time by agent": "/reports/time/?group_by=agent,month&from={year}",
         "unbilled": "/reports/unbilled/", "revenue": "/reports/revenue/", "prepaid": "/reports/prepaid/",
         "overview": "/"}
ROUTES = {"time": "/api/v1/reports/time/", "time by agent": "/api/v1/reports/time/?group_by=agent,month&from={year}",
          "unbilled": "/api/v1/reports/unbilled/", "revenue": "/api/v1/reports/revenue/",
          "prepaid": "/api/v1/reports/prepaid/", "overview": "/api/v1/overview/"}


def measure(accountant, client, api) -> dict:
    found = {}
    for name, fn in SELECTORS.items():
        accountant = type(accountant).objects.get(pk=accountant.pk)  # roles read afresh, as in a request
        found[f"selector {name}"] = count(lambda: fn(accountant))
    for kind, urls, http in (("page", PAGES, client), ("API", ROUTES, api)):
        for name, url in urls.items():
            def get():
                response = http.get(url.format(year=year_ago()))
                assert response.status_code == 200, (url, response.status_code)
            found[f"{kind} {name}"] = count(get)
    return found


def test_every_reports_first_page_is_flat(world, accountant, client):
    agents, teams = world
    client.force_login(accountant)
    api = client_for(accountant)
    grow(3, agents, teams)
    few = measure(accountant, client, api)

    grow(27, agents, teams)
    many = measure(accountant, client, api)

    assert many == few
    # A page: the session, the user with its roles, then the selector's queries and the filter form's work
    # types (the customers, teams and agents are asked of /lookup/ as one types, none is chosen here):
    # Time: the sums per week, the page of rows, its customers' names; work types offered (6). Unbilled: the
    # company, its one query (4). Revenue: the company, sums per month, the page of rows (5). Prepaid: the page
    # of lines, their rates (4). Overview: the teams, open tickets, this week's time, unbilled time per team, the
    # company, the amount to invoice (the lines billed per entry summed in SQL, then the lines rounding per
    # ticket: none here, so no third query), the prepaid and manual lines to invoice, overdue per currency, the
    # open alerts, the customers' open disputes (issue 18) (13).
    # An API route: the token with its user and their roles (one query), then the selector's queries.
    assert few == {
        "selector time": 4, "selector time by agent": 4, "selector unbilled": 3, "selector revenue": 4,
        "selector prepaid": 3, "selector overview": 11,
        "page time": 6, "page time by agent": 6, "page unbilled": 4, "page revenue": 5, "page prepaid": 4,
        "page overview": 13,  # the customers' open disputes (issue 18)
        "API time": 4, "API time by agent": 4, "API unbilled": 3, "API revenue": 4, "API prepaid": 3,
        "API overview": 11,
    }
