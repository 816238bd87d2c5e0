"""Issue 15: every report's first page with its default parameters, and the Helpdesk overview (target 13).

The generated data sets have no prepaid line and no alert threshold (the generator leaves the products'
new columns empty). So that the Prepaid lines report and the overview's alerts have rows to show, each
data set gets, in a transaction rolled back once the figures are taken: a "Prepaid support block" product
(prepaid, alert under 20 hours left) on every 10th generated line (20 lines on small, 2,000 on large), the
generated product's Delivered threshold at 100%, and one alerts scan (what the worker's sweeper does).
"""

import contextlib
import datetime
import sys

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.functions import Mod
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from reports.alerts import alerts_scan
from sales.models import Product, SaleOrderLine, ServicePolicy

from . import db
from .measures import Figure
from .probes import Probes
from .timing import explain_slow, medians, queries

LIMIT_SECONDS = 0.5
SLOW_QUERY_SECONDS = 0.2


def cases(today: datetime.date) -> list[tuple[str, str, str, str]]:
    """(label, role, web page, API route) of each first page, with the screens' default parameters."""
    year = (today - datetime.timedelta(days=364)).isoformat()
    return [
        ("Time, customer × week, last 12 weeks (default)", "manager", "/reports/time/",
         "/api/v1/reports/time/"),
        ("Time, agent × month, last year", "manager", f"/reports/time/?group_by=agent,month&from={year}",
         f"/api/v1/reports/time/?group_by=agent,month&from={year}"),
        ("Unbilled work", "accountant", "/reports/unbilled/", "/api/v1/reports/unbilled/"),
        ("Revenue, per month, last 12 months (default)", "accountant", "/reports/revenue/",
         "/api/v1/reports/revenue/"),
        ("Prepaid lines", "accountant", "/reports/prepaid/", "/api/v1/reports/prepaid/"),
        ("Helpdesk overview, a manager", "manager", "/", "/api/v1/overview/"),
        ("Helpdesk overview, an accountant", "accountant", "/", "/api/v1/overview/"),
    ]


def _prepaid_and_alerts() -> dict:
    """Add the rows the reports need (module docstring), inside the caller's transaction."""
    product = Product.objects.create(name="Prepaid support block", list_price=80, uom="hour",
                                     service_policy=ServicePolicy.ORDERED_PREPAID,
                                     alert_remaining_hours=20, alert_delivered_percent=100)
    # Every 10th generated line (the probes' are the customer's own: left as they are).
    prepaid = (SaleOrderLine.objects.alias(tenth=Mod("pk", 10)).filter(tenth=5)
               .exclude(order__customer__name="Probe Customer"))
    switched = prepaid.update(product=product)
    Product.objects.filter(pk=1).update(alert_delivered_percent=100)
    raised = alerts_scan()
    return {"prepaid lines": switched, "alerts": len(raised)}


@contextlib.contextmanager
def _rolled_back(aliases: list[str]):
    """Hold a transaction open on each data set, rolled back at the end, with the rows added."""
    with contextlib.ExitStack() as stack:
        added = {}
        for alias in aliases:
            stack.enter_context(transaction.atomic(using=alias))
            with db.use(alias):
                added[alias] = _prepaid_and_alerts()
        try:
            yield added
        finally:
            for alias in aliases:
                transaction.set_rollback(True, using=alias)


def reports(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)
    last = aliases[-1]
    today = timezone.localdate()
    web, api = {}, {}
    for alias in aliases:
        with db.use(alias):
            for role in ("manager", "accountant"):
                user = get_user_model().objects.get(pk=getattr(probes[alias], role))
                web[alias, role] = Client()
                web[alias, role].force_login(user)
                api[alias, role] = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")

    def get(clients, alias, role, url):
        def call():
            response = clients[alias, role].get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:500])
        return call

    figures = []
    with _rolled_back(aliases) as added:
        print(f"target 13: rows added for the run (rolled back after): {added}", file=sys.stderr, flush=True)
        for label, role, page, route in cases(today):
            for kind, clients, url in (("page", web, page), ("API", api, route)):
                calls = {a: (a, get(clients, a, role, url)) for a in aliases}
                times = medians(calls, runs=runs)
                counts = {a: queries(a, fn) for a, (_, fn) in calls.items()}
                for plan in explain_slow(last, calls[last][1], seconds=SLOW_QUERY_SECONDS, sql_chars=100_000):
                    print(f"target 13, {label} ({kind}) on {last}, a query over "
                          f"{SLOW_QUERY_SECONDS * 1000:.0f} ms:\n{plan}\n", file=sys.stderr, flush=True)
                where = f"`{url.split('?')[0]}`" if kind == "page" else f"`GET {url.split('?')[0]}`"
                figures += [
                    Figure(13, f"{label}, {kind} {where}: server time", {a: times[a] * 1000 for a in aliases}, "ms",
                           f"≤ {LIMIT_SECONDS * 1000:.0f} ms", times[last] <= LIMIT_SECONDS, judged=[last]),
                    Figure(13, f"{label}, {kind}: queries", counts, "", "equal", len(set(counts.values())) == 1,
                           judged=aliases),
                ]
    return figures
