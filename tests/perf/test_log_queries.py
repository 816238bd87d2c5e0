"""Issue 16: logging time, the hot path, sends only the queries the rules need, each named here.

Counted as production runs it: no transaction around the request (the test's own would turn the
service's transaction into a savepoint pair), so these tests are transactional. Django logs the
transaction's BEGIN and COMMIT with the queries: both are round trips to the database, named here
too, and counted apart from the SQL statements. The figures are the ones `make bench` reports at a
million time entries (targets 1 and 4).
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.roles import sync_groups
from sales.models import AgentRate, WorkType
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log

from ..api.conftest import API, client_for
from ..factories import SaleOrderLineFactory, TicketFactory, UserFactory, confirmed_line, days_ago

pytestmark = pytest.mark.django_db(transaction=True)

POSTGRES = connection.vendor == "postgresql"

# What each query is, by a fragment of its SQL (the first that matches).
NAMES = [
    ("BEGIN", "BEGIN"),
    ("COMMIT", "COMMIT"),
    ('FROM "authtoken_token"', "the token, its user and their roles"),
    ('FROM "django_session"', "the session"),
    ('FROM "auth_user"', "the user and their roles"),
    ("pg_advisory_xact_lock_shared", "share the links lock"),
    ('FROM "tickets_ticket"', "the ticket with its team, project, task, customer and the lock date"),
    ('FROM "sales_saleorderline"', "the lines it may bill, locked"),
    ('INSERT INTO "timesheets_timeentry"', "INSERT the entry"),
    ("WITH stored AS", "Delivered from the line's checkpoint, stored on the line"),
    ('SUM("timesheets_timeentry"."billable_minutes")', "SUM the line's entries"),
    ('UPDATE "sales_saleorderline"', "UPDATE the line's Delivered"),
    ('INSERT INTO "audit_auditevent"', "INSERT the audit event"),
    ('FROM "sales_agentrate"', "the order's rates"),
    ('FROM "sales_worktype"', "the work type chosen"),
]

# Logging on a ticket, past the request's own reads (the links lock is PostgreSQL's: SQLite has one writer;
# SQLite sums the whole line, PostgreSQL only the entries after its checkpoint, in one statement).
LOGGING = [
    "BEGIN",
    *(["share the links lock"] if POSTGRES else []),
    "the ticket with its team, project, task, customer and the lock date",
    "the lines it may bill, locked",
    "INSERT the entry",
    *(["Delivered from the line's checkpoint, stored on the line"] if POSTGRES
      else ["SUM the line's entries", "UPDATE the line's Delivered"]),
    "INSERT the audit event",
    "COMMIT",
]
TRANSACTION = {"BEGIN", "COMMIT"}


def statements(names: list[str]) -> int:
    """How many SQL statements, BEGIN and COMMIT apart."""
    return len([name for name in names if name not in TRANSACTION])


def named(captured) -> list[str]:
    names = []
    for query in captured:
        sql = query["sql"]
        if sql.startswith("BEGIN"):  # SQLite's is BEGIN IMMEDIATE (settings: one writer at a time)
            sql = "BEGIN"
        names.append(next((name for fragment, name in NAMES if fragment in sql), sql[:120]))
    return names


@pytest.fixture
def world():
    sync_groups()  # a transactional test starts from empty tables, the migrations' groups gone
    agent = UserFactory(username="agent", role="Agents")
    line = confirmed_line(quantity=50, price_unit=90)
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    ticket.team.members.add(agent)
    return agent, ticket


def api_post(agent, ticket) -> list[str]:
    client = client_for(agent)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"{API}/timesheets/", {"ticket": ticket.pk, "duration": "0:30", "description": "Call"},
                               format="json")
    assert response.status_code == 201, response.json()
    return named(captured)


def form_post(agent, ticket, work_type="") -> list[str]:
    client = Client()
    client.force_login(agent)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/tickets/{ticket.pk}/", {
            "action": "log", "log-date": days_ago(0).isoformat(), "log-duration": "0:30",
            "log-description": "Call", "log-work_type": work_type})
    assert response.status_code == 302, response.content.decode()[-2000:]
    return named(captured)


def test_logging_through_the_api_sends_seven_queries(world):
    agent, ticket = world
    # The token with its user and roles (one query), the ticket read once, by the service, among the agent's
    # tickets and under the links lock (the serializer only checks its id is one), no savepoint around the
    # line's recomputation (a failure there rolls the whole request back anyway). Before issue 16: 15
    # statements (the roles, the serializer's ticket, the lock date, the line read then locked twice, a
    # savepoint pair, a separate UPDATE of the line). Seven, on PostgreSQL as on SQLite, nine round trips.
    names = api_post(agent, ticket)
    assert names == ["the token, its user and their roles", *LOGGING]
    assert statements(names) == 7 and len(names) == 9
    for _ in range(3):  # the same on a line with more entries, and from its checkpoint
        assert len(api_post(agent, ticket)) == 9
    assert TimeEntry.objects.filter(ticket=ticket).count() == 4
    ticket.sale_line.refresh_from_db()
    assert ticket.sale_line.delivered_minutes == 120


@pytest.mark.parametrize("chosen", ["team default", "another", "none"])
def test_logging_with_the_form_sends_eight_queries(world, chosen):
    agent, ticket = world
    remote, onsite = (WorkType.objects.create(name=name, billing="billable") for name in ("Remote", "On-site"))
    ticket.team.default_work_type = remote
    ticket.team.save()
    # The page reads nothing of its own before logging: the session, the user, then the service, then the
    # redirect. The Work type list is read only to show a refusal; the one chosen is the service's to read,
    # with the ticket when it is the team's default (the form offers it first), else in one more query.
    # Before issue 16: 17 statements. Eight, ten round trips.
    work_type = {"team default": str(remote.pk), "another": str(onsite.pk), "none": ""}[chosen]
    names = form_post(agent, ticket, work_type)
    extra = ["the work type chosen"] if chosen == "another" else []
    logging = [*LOGGING[:LOGGING.index("the lines it may bill, locked")], *extra,
               *LOGGING[LOGGING.index("the lines it may bill, locked"):]]
    assert names == ["the session", "the user and their roles", *logging]
    assert statements(names) == 8 + len(extra)
    entry = TimeEntry.objects.get()
    assert entry.work_type == {"team default": remote, "another": onsite, "none": remote}[chosen]
    ticket.sale_line.refresh_from_db()
    assert ticket.sale_line.delivered_minutes == 30


def test_an_unknown_work_type_is_refused_on_its_field(world):
    agent, ticket = world
    client = Client()
    client.force_login(agent)
    response = client.post(f"/tickets/{ticket.pk}/", {
        "action": "log", "log-date": days_ago(0).isoformat(), "log-duration": "0:30", "log-work_type": "999"})
    assert response.status_code == 200
    # The service refused it; the page shows the form again with every work type, which names the refusal.
    assert response.context["tab"]["log_form"].errors == {
        "work_type": ["Select a valid choice. 999 is not one of the available choices."]}
    assert not TimeEntry.objects.exists()


def test_an_order_with_rates_costs_one_more_query(world):
    agent, ticket = world
    other = SaleOrderLineFactory(order=ticket.sale_line.order, product=ticket.sale_line.product, price_unit=120)
    AgentRate.objects.create(order=ticket.sale_line.order, user=agent, sale_line=other)
    names = api_post(agent, ticket)
    # The rates line is locked with the ticket's, in the same read: whichever the rates choose is locked in order.
    assert names.count("the order's rates") == 1 and statements(names) == 8, names
    assert TimeEntry.objects.get().sale_line == other


def test_a_ticket_out_of_sight_is_refused_in_the_same_read(world):
    agent, ticket = world
    hidden = TicketFactory(customer=ticket.customer, sale_line=ticket.sale_line)  # another team's
    client = client_for(agent)
    response = client.post(f"{API}/timesheets/", {"ticket": hidden.pk, "duration": "0:30"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"ticket": [f'Invalid pk "{hidden.pk}" - object does not exist.']}
    web = Client()
    web.force_login(agent)
    response = web.post(f"/tickets/{hidden.pk}/", {"action": "log", "log-date": days_ago(0).isoformat(),
                                                    "log-duration": "0:30", "log-work_type": ""})
    assert response.status_code == 404
    assert not TimeEntry.objects.exists()


def test_only_the_logging_save_skips_locking_the_line_again(world):
    agent, ticket = world
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    assert not hasattr(entry, "lines_locked")  # the receiver took it: it held for that save only
    entry.minutes = entry.billable_minutes = 45
    with CaptureQueriesContext(connection) as captured:
        entry.save()  # a transaction of its own: the line must be locked before it is summed
    locks = [q["sql"] for q in captured if 'FROM "sales_saleorderline"' in q["sql"]]
    assert len(locks) == 1 and ("FOR UPDATE" in locks[0] or not POSTGRES)
    ticket.sale_line.refresh_from_db()
    assert ticket.sale_line.delivered_minutes == 45
