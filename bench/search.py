"""Issue 16: search stays flat (target 14).

The ticket list searched for "toner", the word the generator puts in one ticket title in ten, as a page and
as `GET /api/v1/tickets/?search=`, by the probe manager, who sees every ticket; and the customers' and the
timesheets' `?search=` for "probe", which finds the same rows at both sizes (the probe customer; the probe
tickets' entries), so that only what is around them grows.

The issue compares 1,000 tickets with 50,000: small holds 50, whose 5 matches fill a fifth of a page, so
that the ratio would compare five rows rendered with a full page. In a transaction rolled back after the
figures (as target 13 adds its rows), small gets 950 more tickets as the generator makes them (ticket k
copies ticket 1 + (k - 1) mod 50's team, customer, status and line; "toner" when k mod 10 = 3): 1,000
generated tickets, 100 of them found, full pages on both.

The probes are made after the generator's ANALYZE: the statistics have never seen "probe" in an entry's
description, so PostgreSQL would plan for one entry where 3,225 match (a nested loop reading the users'
table once per entry: 220 ms on large). They are first brought up to date, as autovacuum does.
"""

import contextlib
import sys

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from rest_framework.authtoken.models import Token

from tickets.selectors import tickets_for, tickets_search

from . import db
from .measures import Figure, _judge, _ratio
from .probes import Probes
from .timing import explain_slow, medians, queries

WORD = "toner"  # bench.generate: in the title of the tickets k with k mod 10 = 3
SMALL_TICKETS = 1_000  # the issue's own comparison: 1,000 tickets against 50,000
MORE_TICKETS_SQL = """
    INSERT INTO tickets_ticket (team_id, customer_id, title, description, status, assignee_id, task_id,
        sale_line_id, created_at)
    SELECT t.team_id, t.customer_id,
        'Printer ' || k || ' jams on page two' || CASE WHEN k %% 10 = 3 THEN ' after a toner change' ELSE '' END,
        'The customer reports that printer ' || k || ' jams.', t.status, t.assignee_id, NULL, t.sale_line_id,
        t.created_at
    FROM generate_series(%(first)s, %(last)s) AS k JOIN tickets_ticket t ON t.id = 1 + (k - 1) %% %(generated)s
"""
RATIO = 1.5
SLOW_QUERY_SECONDS = 0.01

CASES = [
    # (label, page or API, address)
    ('Tickets searched for a word in 10% of them, page `/tickets/?q=`', "page", f"/tickets/?q={WORD}"),
    ("Tickets, `GET /api/v1/tickets/?search=` (the same word)", "API", f"/api/v1/tickets/?search={WORD}"),
    ("Customers, `GET /api/v1/customers/?search=` (1 found)", "API", "/api/v1/customers/?search=probe"),
    ("Time entries, `GET /api/v1/timesheets/?search=` (the probes' entries)", "API",
     "/api/v1/timesheets/?search=probe"),
]


@contextlib.contextmanager
def _thousand_tickets(alias: str):
    """Hold a transaction open on `alias` with its generated tickets made up to SMALL_TICKETS, rolled back after."""
    with transaction.atomic(using=alias):
        with db.use(alias), connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM tickets_ticket WHERE title LIKE %s", ["Printer %"])
            generated = cursor.fetchone()[0]
            if generated < SMALL_TICKETS:
                cursor.execute(MORE_TICKETS_SQL, {"first": generated + 1, "last": SMALL_TICKETS,
                                                  "generated": generated})
                print(f"target 14: {SMALL_TICKETS - generated:,} tickets added to {alias} for the run, rolled back "
                      "after", file=sys.stderr, flush=True)
        try:
            yield
        finally:
            transaction.set_rollback(True, using=alias)


def search(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)
    with _thousand_tickets(aliases[0]):
        return _search(probes, runs)


def _search(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)
    first, last = aliases[0], aliases[-1]
    clients = {}
    for alias in aliases:
        with db.use(alias):
            manager = get_user_model().objects.get(pk=probes[alias].manager)
            clients[alias, "page"] = Client()
            clients[alias, "page"].force_login(manager)
            token = Token.objects.get_or_create(user=manager)[0].key
            clients[alias, "API"] = Client(HTTP_AUTHORIZATION=f"Token {token}")

    def get(alias, kind, url):
        def call():
            response = clients[alias, kind].get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:500])
            return None
        return call

    def found(alias, kind, url) -> int:
        with db.use(alias):
            if kind == "page":  # what the page's paginator counts
                return tickets_search(tickets_for(user=get_user_model().objects.get(pk=probes[alias].manager)),
                                      WORD).count()
            return clients[alias, kind].get(url).json()["count"]

    for alias in aliases:
        with db.use(alias), connection.cursor() as cursor:
            for table in ("sales_customer", "tickets_ticket", "timesheets_timeentry"):
                cursor.execute(f"ANALYZE {table}")
    figures = []
    for label, kind, url in CASES:
        calls = {a: (a, get(a, kind, url)) for a in aliases}
        times = medians(calls, runs=runs)
        counts = {a: queries(a, fn) for a, (_, fn) in calls.items()}
        rows = {a: f"{found(a, kind, url):,}" for a in aliases}
        for plan in explain_slow(last, calls[last][1], seconds=SLOW_QUERY_SECONDS):
            print(f"target 14, {label} on {last}, a query over {SLOW_QUERY_SECONDS * 1000:.0f} ms:\n{plan}\n",
                  file=sys.stderr, flush=True)
        figures += [
            Figure(14, f"{label}: found", rows),
            Figure(14, f"{label}: server time", {a: times[a] * 1000 for a in aliases}, "ms"),
            _judge(14, f"{label}: {last} / {first}", {last: _ratio(times[last], times[first])}, f"≤ {RATIO}",
                   lambda r: r <= RATIO),
            Figure(14, f"{label}: queries", counts, "", "equal", len(set(counts.values())) == 1, judged=aliases),
        ]
    return figures
