"""The six targets of issue 5, each measured on every data set in this one process.

Each function returns `Figure`s: what was measured, its value per data set, and for the
figures a target judges, the limit and the verdict.
"""

import json
import logging
import time
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from invoicing.models import Invoice, InvoiceLine
from invoicing.pdf import invoice_pdf
from invoicing.selectors import _count_drifts, billing_drift, invoice_entries
from invoicing.services import invoice_create_from_order
from sales.models import SaleOrder
from tickets.selectors import tickets_for
from timesheets.services import timesheet_log

from . import db, load
from .probes import Probes
from .timing import medians, queries


@dataclass
class Figure:
    target: int
    label: str
    values: dict[str, object]  # data set -> value
    unit: str = ""
    limit: str = ""  # what the target asks of the values, e.g. "≤ 1.25"
    met: bool | None = None  # None: not judged
    note: str = ""
    judged: list[str] = field(default_factory=list)  # the data sets the verdict covers


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def _judge(target, label, ratios, limit, ok, *, sizes=None, note=""):
    sizes = sizes or list(ratios)
    return Figure(target, label, ratios, "×", limit, all(ok(ratios[s]) for s in sizes), note, sizes)


# --- 1. Logging time stays flat ------------------------------------------------------

def logging_time(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)
    state = {}

    def prepare(label):
        alias, which = label.split()
        p = probes[alias]
        user = get_user_model().objects.get(pk=p.agent)
        # The ticket as the API's serializer hands it to the service.
        ticket = tickets_for(user=user).get(pk=p.big_ticket if which == "big" else p.light_ticket)
        state.update(user=user, ticket=ticket)

    def log():
        timesheet_log(user=state["user"], date=timezone.localdate(), minutes=15, ticket=state["ticket"],
                      description="Benchmark: one more call")

    cases = {f"{a} {w}": (a, log) for a in aliases for w in ("big", "light")}
    service = medians(cases, runs=runs, setup=prepare)
    service_queries = {}
    for label, (alias, fn) in cases.items():
        with db.use(alias):
            prepare(label)
        service_queries[label] = queries(alias, fn)

    clients = {a: Client(HTTP_AUTHORIZATION=f"Token {probes[a].agent_token}") for a in aliases}

    def post(alias, ticket):
        body = json.dumps({"ticket": ticket, "duration": "0:15", "description": "Benchmark: one more call"})

        def call():
            response = clients[alias].post("/api/v1/timesheets/", body, content_type="application/json")
            assert response.status_code == 201, response.content
        return call

    cases = {f"{a} {w}": (a, post(a, probes[a].big_ticket if w == "big" else probes[a].light_ticket))
             for a in aliases for w in ("big", "light")}
    api = medians(cases, runs=runs)
    api_queries = {label: queries(alias, fn) for label, (alias, fn) in cases.items()}

    big = {a: f"line of {probes[a].big_entries:,} entries" for a in aliases}
    figures = []
    for name, times, counts in (("service `timesheet_log`", service, service_queries),
                                ("`POST /api/v1/timesheets/`", api, api_queries)):
        figures += [
            Figure(1, f"{name} on the big line ({', '.join(f'{a}: {big[a]}' for a in aliases)})",
                   {a: times[f"{a} big"] * 1000 for a in aliases}, "ms"),
            Figure(1, f"{name} on a line of 10 entries (before the runs add theirs)",
                   {a: times[f"{a} light"] * 1000 for a in aliases}, "ms"),
            _judge(1, f"{name}: big line / 10-entry line",
                   {a: _ratio(times[f"{a} big"], times[f"{a} light"]) for a in aliases}, "≤ 1.25", lambda r: r <= 1.25,
                   sizes=aliases[-1:],
                   note=f"judged on {aliases[-1]}, whose big line carries the target's 100,000 entries; "
                        "on small it carries 100, where the planner's choices weigh more than the sum"),
            Figure(1, f"{name}: queries, big line / 10-entry line",
                   {a: f"{counts[f'{a} big']} / {counts[f'{a} light']}" for a in aliases}, "", "equal",
                   all(counts[f"{a} big"] == counts[f"{a} light"] for a in aliases), judged=aliases),
        ]
    return figures


# --- 2. Pages stay flat ---------------------------------------------------------------

PAGES = [
    ("ticket page (20 entries)", "agent", lambda p: f"/tickets/{p.page_ticket}/"),
    ("sales order page (20 lines)", "accountant", lambda p: f"/orders/{p.order_20_lines}/"),
    ("invoice page (bills 1,000 entries; 100 a page)", "accountant", lambda p: f"/invoices/{p.invoice_1000}/"),
    ("ticket list (first page, all tickets)", "manager", lambda p: "/tickets/"),
]


def pages(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)
    clients = {}
    for alias in aliases:
        with db.use(alias):
            for role in ("agent", "accountant", "manager"):
                client = Client()
                client.force_login(get_user_model().objects.get(pk=getattr(probes[alias], role)))
                clients[alias, role] = client

    def get(alias, role, url):
        def call():
            response = clients[alias, role].get(url)
            assert response.status_code == 200, (url, response.status_code)
        return call

    figures = []
    for name, role, url in PAGES:
        cases = {a: (a, get(a, role, url(probes[a]))) for a in aliases}
        times = medians(cases, runs=runs)
        counts = {a: queries(a, fn) for a, (_, fn) in cases.items()}
        first, last = aliases[0], aliases[-1]
        figures += [
            Figure(2, f"{name}: server time", {a: times[a] * 1000 for a in aliases}, "ms"),
            _judge(2, f"{name}: {last} / {first}", {last: _ratio(times[last], times[first])}, "≤ 1.5",
                   lambda r: r <= 1.5),
            Figure(2, f"{name}: queries", counts, "", "equal", len(set(counts.values())) == 1, judged=aliases),
        ]
    return figures


# --- 3. Create Invoice near the database's own speed ---------------------------------

UPDATE_SQL = ("UPDATE timesheets_timeentry SET invoice_line_id = %s "
              "WHERE sale_line_id = %s AND invoice_line_id IS NULL")


def _vacuum(_label=None) -> None:
    # Each run is rolled back: clearing its dead rows gives every run the same table.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM timesheets_timeentry")


def create_invoice(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)

    def service(alias):
        def call() -> float:
            p = probes[alias]
            order = SaleOrder.objects.get(lines=p.big_line)
            accountant = get_user_model().objects.get(pk=p.accountant)
            with transaction.atomic():
                started = time.perf_counter()
                invoice = invoice_create_from_order(order=order, actor=accountant)
                elapsed = time.perf_counter() - started
                assert invoice.lines.get().minutes > 0
                transaction.set_rollback(True)  # the next run finds the same unbilled entries
            return elapsed
        return call

    def raw_update(alias):
        def call() -> float:
            p = probes[alias]
            order = SaleOrder.objects.select_related("customer").get(lines=p.big_line)
            with transaction.atomic():
                invoice = Invoice.objects.create(customer=order.customer, sale_order=order,
                                                 customer_name=order.customer.name)
                line = InvoiceLine.objects.create(invoice=invoice, sale_line_id=p.big_line, name="raw", quantity=0,
                                                  uom="hour", price_unit=0)
                with connection.cursor() as cursor:
                    started = time.perf_counter()
                    cursor.execute(UPDATE_SQL, [line.pk, p.big_line])
                    elapsed = time.perf_counter() - started
                    assert cursor.rowcount >= probes[alias].big_entries
                transaction.set_rollback(True)
            return elapsed
        return call

    cases = {f"{a} {k}": (a, fn(a)) for a in aliases for k, fn in (("service", service), ("raw", raw_update))}
    times = medians(cases, runs=runs, setup=_vacuum)
    for alias in aliases:  # leave the table as autovacuum would, for the measures that follow
        with db.use(alias):
            _vacuum()
    last = aliases[-1]
    ratios = {a: _ratio(times[f"{a} service"], times[f"{a} raw"]) for a in aliases}
    small_note = (f"judged on {last} ({probes[last].big_entries:,} entries); on smaller data sets the service's "
                  "fixed cost (about 20 queries) outweighs an UPDATE of a few rows")
    return [
        Figure(3, "Create Invoice on the big line (service, all its unbilled entries)",
               {a: times[f"{a} service"] * 1000 for a in aliases}, "ms", "< 5000 ms",
               times[f"{last} service"] < 5, judged=[last]),
        Figure(3, "one raw `UPDATE` linking the same rows to an invoice line",
               {a: times[f"{a} raw"] * 1000 for a in aliases}, "ms"),
        _judge(3, "Create Invoice / raw UPDATE", ratios, "≤ 2", lambda r: r <= 2, sizes=[last], note=small_note),
    ]


# --- 4. The framework is not the bottleneck -------------------------------------------

def throughput(probes: dict[str, Probes], rounds: int, ping_requests: int, post_requests: int) -> list[Figure]:
    aliases = list(probes)
    # The same two requests in this process first: what one costs the server, and its queries.
    clients = {a: Client(HTTP_AUTHORIZATION=f"Token {probes[a].agent_token}") for a in aliases}

    def call(alias, post):
        body = json.dumps({"ticket": probes[alias].load_tickets[0], "duration": "0:15", "description": "Load test"})

        def send():
            if post:
                response = clients[alias].post("/api/v1/timesheets/", body, content_type="application/json")
            else:
                response = clients[alias].get("/api/v1/")
            assert response.status_code in (200, 201), response.content
        return send

    sessions = {}
    for alias in aliases:
        with db.use(alias):
            sessions[alias] = Client()
            sessions[alias].force_login(get_user_model().objects.get(pk=probes[alias].agent))

    def form(alias):  # the ticket page's Log time form, as the browser posts it
        address = f"/tickets/{probes[alias].load_tickets[0]}/"
        data = {"action": "log", "log-date": timezone.localdate().isoformat(), "log-duration": "0:15",
                "log-description": "Load test", "log-work_type": ""}

        def send():
            assert sessions[alias].post(address, data).status_code == 302
        return send

    cases = {f"{a} {k}": (a, call(a, k == "post")) for a in aliases for k in ("ping", "post")}
    cases.update({f"{a} form": (a, form(a)) for a in aliases})
    single = medians(cases, runs=15, warmup=3)
    counts = {label: queries(alias, fn) for label, (alias, fn) in cases.items()}
    results = {a: load.measure(a, probes[a].agent_token, list(probes[a].load_tickets), rounds=rounds,
                               ping_requests=ping_requests, post_requests=post_requests) for a in aliases}
    return [
        Figure(4, "in this process: `GET /api/v1/`, server time / queries",
               {a: f"{single[f'{a} ping'] * 1000:.1f} ms / {counts[f'{a} ping']}" for a in aliases}),
        Figure(4, "in this process: `POST /api/v1/timesheets/`, server time / queries",
               {a: f"{single[f'{a} post'] * 1000:.1f} ms / {counts[f'{a} post']}" for a in aliases}),
        # Issue 16: at most 8 statements each, BEGIN and COMMIT apart (Django logs them with the queries).
        Figure(4, "in this process: `POST /api/v1/timesheets/`, SQL statements besides BEGIN and COMMIT",
               {a: counts[f"{a} post"] - 2 for a in aliases}, "", "≤ 8",
               all(counts[f"{a} post"] - 2 <= 8 for a in aliases), judged=aliases),
        Figure(4, "in this process: the ticket page's Log time form (`POST /tickets/<pk>/`), server time / queries",
               {a: f"{single[f'{a} form'] * 1000:.1f} ms / {counts[f'{a} form']}" for a in aliases}),
        Figure(4, "in this process: the Log time form, SQL statements besides BEGIN and COMMIT",
               {a: counts[f"{a} form"] - 2 for a in aliases}, "", "≤ 8",
               all(counts[f"{a} form"] - 2 <= 8 for a in aliases), judged=aliases),
        Figure(4, "`GET /api/v1/` (API root: token auth, no other query), 8 clients",
               {a: results[a]["ping"] for a in aliases}, "req/s"),
        Figure(4, "`POST /api/v1/timesheets/`, 8 clients each on a ticket of their own line",
               {a: results[a]["post"] for a in aliases}, "req/s"),
        # Issue 5 asked 0.5; issue 16, having counted what the rules need, asks 0.35 (notes.py explains the gap).
        _judge(4, "POST / GET throughput", {a: _ratio(results[a]["post"], results[a]["ping"]) for a in aliases},
               "≥ 0.35", lambda r: r >= 0.35),
    ]


# --- 5. PDF ------------------------------------------------------------------------------

def _bare_table(invoice: Invoice) -> str:
    """The same rows as the PDF's appendix, as a bare HTML table: no style, no header, no totals."""
    rows = [entry for entries in invoice_entries(invoice=invoice).values() for entry in entries]
    cells = "".join(
        f"<tr><td>{entry.date:%Y-%m-%d}</td><td>{escape(entry.user.get_full_name() or entry.user.username)}</td>"
        f"<td>#{entry.ticket_id} {escape(entry.ticket.title)}</td><td>{escape(entry.description)}</td>"
        f"<td>{entry.minutes}</td></tr>" for entry in rows)
    return f"<html><body><table>{cells}</table></body></html>"


def pdf(probes: dict[str, Probes], runs: int) -> list[Figure]:
    from weasyprint import HTML

    aliases = list(probes)
    bare = {}
    for alias in aliases:
        with db.use(alias):
            bare[alias] = _bare_table(Invoice.objects.get(pk=probes[alias].invoice_2000))

    def app(alias):
        return lambda: invoice_pdf(invoice=Invoice.objects.get(pk=probes[alias].invoice_2000))

    with db.use(aliases[0]):  # warm up WeasyPrint (fonts, CSS) on a small invoice, not on 2,000 rows
        invoice_pdf(invoice=Invoice.objects.filter(sale_order=probes[aliases[0]].order_20_lines).get())
        HTML(string="<table><tr><td>warm-up</td></tr></table>").write_pdf()
    cases = {f"{a} {k}": (a, fn) for a in aliases
             for k, fn in (("app", app(a)), ("bare", lambda a=a: HTML(string=bare[a]).write_pdf()))}
    times = medians(cases, runs=runs, warmup=0)
    return [
        Figure(5, "invoice PDF billing 2,000 entries (queries, template, WeasyPrint)",
               {a: times[f"{a} app"] for a in aliases}, "s"),
        Figure(5, "WeasyPrint on a bare HTML table of the same 2,000 rows", {a: times[f"{a} bare"] for a in aliases},
               "s"),
        _judge(5, "invoice PDF / bare table", {a: _ratio(times[f"{a} app"], times[f"{a} bare"]) for a in aliases},
               "≤ 1.3", lambda r: r <= 1.3),
    ]


# --- 6. check_billing is set-based ----------------------------------------------------

RAW_GROUP_BY = "SELECT sale_line_id, SUM(billable_minutes) FROM timesheets_timeentry GROUP BY sale_line_id"


def check_billing(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)

    def check():
        drifts = billing_drift()
        assert drifts == [], drifts[:5]  # the generated data and every run before must be consistent

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(RAW_GROUP_BY)
            cursor.fetchall()

    def counts():  # issue 12's check: unbilled entries that bill other minutes than their policy says
        assert _count_drifts() == []

    cases = {f"{a} {k}": (a, fn) for a in aliases
             for k, fn in (("check", check), ("raw", raw), ("counts", counts))}
    times = medians(cases, runs=runs)
    last = aliases[-1]
    return [
        Figure(6, "`check_billing` (every check, via `billing_drift()`)",
               {a: times[f"{a} check"] * 1000 for a in aliases}, "ms"),
        Figure(6, "of which `_count_drifts()` alone (issue 12: unbilled entries against their policy)",
               {a: times[f"{a} counts"] * 1000 for a in aliases}, "ms"),
        Figure(6, "raw `SELECT sale_line_id, SUM(billable_minutes) … GROUP BY sale_line_id`",
               {a: times[f"{a} raw"] * 1000 for a in aliases}, "ms"),
        _judge(6, "check_billing / raw GROUP BY", {a: _ratio(times[f"{a} check"], times[f"{a} raw"]) for a in aliases},
               "≤ 2", lambda r: r <= 2, sizes=[last],
               note=f"judged on {last}; on a small table the check's few fixed queries dominate"),
    ]



# --- 8. A posted invoice's stored PDF (issue 11) ----------------------------------------

def _body(response) -> bytes:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()  # a FileResponse closes its file here
    return data


def _serves_stored(client: Client, url: str, stored: bytes) -> bool:
    """Whether `url` answers the stored file without rendering: WeasyPrint is made to fail meanwhile."""
    from unittest import mock

    from weasyprint import HTML

    def refuse(*args, **kwargs):
        raise AssertionError("rendered on request")

    request_log = logging.getLogger("django.request")
    request_log.disabled = True  # the refusal's traceback is expected when the view renders
    try:
        with mock.patch.object(HTML, "write_pdf", refuse):
            response = client.get(url)
            return response.status_code == 200 and _body(response) == stored
    except AssertionError:
        return False
    finally:
        request_log.disabled = False


def download(probes: dict[str, Probes], runs: int) -> list[Figure]:
    """Render and store each probe invoice's PDF once (the job's work, which every download used to
    redo), then time its download through the web and the API views as an accountant."""
    from rest_framework.authtoken.models import Token

    from invoicing.documents import pdf_file, pdf_store

    aliases = list(probes)
    invoices = {"100": "invoice_100", "2,000": "invoice_2000"}
    rendered, stored, web, api, served = {}, {}, {}, {}, {}
    for alias in aliases:
        with db.use(alias):
            accountant = get_user_model().objects.get(pk=probes[alias].accountant)
            web[alias] = Client()
            web[alias].force_login(accountant)
            api[alias] = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=accountant)[0].key}")
            for size, attribute in invoices.items():
                pk = getattr(probes[alias], attribute)
                Invoice.objects.filter(pk=pk).update(pdf="")  # a file of an earlier run would be reused
                started = time.perf_counter()
                assert pdf_store(invoice_id=pk)
                rendered[alias, size] = time.perf_counter() - started
                with pdf_file(Invoice.objects.get(pk=pk)) as file:
                    stored[alias, size] = file.read()
                for kind, client, url in (("web", web[alias], f"/invoices/{pk}/pdf/"),
                                          ("API", api[alias], f"/api/v1/invoices/{pk}/pdf/")):
                    served[alias, size, kind] = _serves_stored(client, url, stored[alias, size])

    def get(alias, size, kind):
        pk = getattr(probes[alias], invoices[size])
        client, url = (web[alias], f"/invoices/{pk}/pdf/") if kind == "web" else \
            (api[alias], f"/api/v1/invoices/{pk}/pdf/")
        if not served[alias, size, kind]:  # the view still renders: time the stored file's read instead
            return lambda: pdf_file(Invoice.objects.get(pk=pk)).read()

        def call():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            assert len(_body(response)) == len(stored[alias, size])
        return call

    cases = {f"{a} {s} {k}": (a, get(a, s, k)) for a in aliases for s in invoices for k in ("web", "API")}
    times = medians(cases, runs=runs, warmup=2)
    counts = {label: queries(alias, fn) for label, (alias, fn) in cases.items()}
    figures = []
    for size in invoices:
        figures.append(Figure(8, f"render and store the PDF of the posted invoice billing {size} entries, once "
                                 "(the job's work; before, every download did it)",
                              {a: rendered[a, size] for a in aliases}, "s"))
        for kind, path in (("web", "`invoices/<pk>/pdf/`"), ("API", "`GET /api/v1/invoices/{id}/pdf/`")):
            stale = [a for a in aliases if not served[a, size, kind]]
            label = (f"download, {kind} {path}, invoice billing {size} entries: server time / queries"
                     if not stale else f"stored PDF of the invoice billing {size} entries, read through "
                     f"`invoicing.documents.pdf_file` ({kind} view still renders on request)")
            figures.append(Figure(
                8, label, {a: f"{_ms(times[f'{a} {size} {kind}'])} / {counts[f'{a} {size} {kind}']}" for a in aliases},
                "", "≤ 50 ms", all(times[f"{a} {size} {kind}"] <= 0.050 for a in aliases), judged=aliases,
                note="" if not stale else "the download view still rendered the PDF on request when this ran"))
    return figures


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 0.1 else f"{seconds * 1000:,.0f} ms"
