"""Issue 18: the customer portal stays flat (target 2, the pages people use all day).

The Probe Customer's contact opens the portal's pages: the home page, the Tickets list, the probe ticket's page
(20 entries, 12 of them invoiced), Hours, Invoices, and the portal API's timesheets of that ticket. The probe
customer's rows are the same on both data sets; the million entries and tickets of other customers around them
grow. Each page's figures, as every page's of target 2: the server time, large / small ≤ 1.5, and the same
queries on both.
"""

import sys

from django.test import Client
from django.urls import reverse

from sales.contacts import contact_invite
from sales.models import Customer

from . import db
from .measures import Figure, _judge, _ratio
from .probes import Probes
from .timing import explain_slow, medians, queries

SLOW_QUERY_SECONDS = 0.015  # a query over this on the large data set is printed with its plan


def _pages(ticket: int) -> dict[str, str]:
    return {
        "Portal home": reverse("portal_home"),
        "Portal tickets": reverse("portal_tickets"),
        "Portal ticket (20 timesheets)": reverse("portal_ticket", args=[ticket]),
        "Portal hours": reverse("portal_hours"),
        "Portal invoices": reverse("portal_invoices"),
        "Portal API timesheets of a ticket": f"/api/v1/portal/timesheets/?ticket={ticket}",
    }


def portal_pages(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)
    clients = {}
    for alias in aliases:
        with db.use(alias):
            contact = contact_invite(customer=Customer.objects.get(name="Probe Customer"),
                                     email="contact@probe.example", name="Probe Contact")
            clients[alias] = Client()
            clients[alias].force_login(contact.user)
    first, last = aliases[0], aliases[-1]
    figures = []
    for label, address_of in _pages_by_alias(probes).items():
        def get(alias, address_of=address_of):
            def call():
                response = clients[alias].get(address_of[alias])
                assert response.status_code == 200, (address_of[alias], response.status_code)
            return call

        cases = {alias: (alias, get(alias)) for alias in aliases}
        times = medians(cases, runs=runs)
        counts = {alias: queries(alias, fn) for alias, (_, fn) in cases.items()}
        for plan in explain_slow(last, cases[last][1], seconds=SLOW_QUERY_SECONDS, sql_chars=2000):
            print(f"target 2, {label} on {last}, a query over {SLOW_QUERY_SECONDS * 1000:.0f} ms:\n{plan}\n",
                  file=sys.stderr, flush=True)
        figures += [
            Figure(2, f"{label}: server time", {a: times[a] * 1000 for a in aliases}, "ms"),
            _judge(2, f"{label}: {last} / {first}", {last: _ratio(times[last], times[first])}, "≤ 1.5",
                   lambda r: r <= 1.5),
            Figure(2, f"{label}: queries", counts, "", "equal", len(set(counts.values())) == 1, judged=aliases),
        ]
    return figures


def _pages_by_alias(probes: dict[str, Probes]) -> dict[str, dict[str, str]]:
    """{page label: {data set: its address}}: the probe ticket's id may differ between the data sets."""
    by_alias = {alias: _pages(probe.page_ticket) for alias, probe in probes.items()}
    labels = next(iter(by_alias.values()))
    return {label: {alias: pages[label] for alias, pages in by_alias.items()} for label in labels}
