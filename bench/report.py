"""docs/performance.md: the machine, the versions, the data sets and every figure with its verdict."""

import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path

from django.db import connections

from .measures import Figure

TITLES = {
    1: "Logging time stays flat",
    2: "Pages stay flat",
    3: "Create Invoice near the database's own speed",
    4: "The framework is not the bottleneck",
    5: "PDF",
    6: "`check_billing` is set-based",
    7: "Billing run: per order ≤ 2× one Create Invoice click",
    8: "Stored PDF download ≤ 50 ms",
    9: "Bulk approve of 10,000 entries: queries flat",
    10: "Delivered recomputed when a team switches policy: queries flat",
    11: "Create Invoice on the 100,000-entry line with per-ticket rounding stays within 2× of today's time",
    13: "Every report's first page ≤ 500 ms at a million entries, queries flat",
    14: "Search stays flat: large / small ≤ 1.5, queries equal",
    15: "No page's HTML grows with the customers, agents, orders or lines",
}
COUNTED = [("customers", "sales_customer"), ("sales orders", "sales_saleorder"),
           ("sales order lines", "sales_saleorderline"), ("helpdesk teams", "tickets_helpdeskteam"),
           ("tickets", "tickets_ticket"), ("time entries", "timesheets_timeentry"),
           ("invoices", "invoicing_invoice"), ("invoice lines", "invoicing_invoiceline")]
PG_SETTINGS = ["shared_buffers", "work_mem", "max_parallel_workers_per_gather", "fsync", "synchronous_commit"]


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")))
    with connections["small"].cursor() as cursor:
        cursor.execute("SELECT version()")
        postgres = cursor.fetchone()[0].split(" on ")[0]
        pg = []
        for name in PG_SETTINGS:
            cursor.execute(f"SHOW {name}")
            pg.append(f"{name}={cursor.fetchone()[0]}")
    hey = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "hey"], capture_output=True, text=True).stdout
    packages = ", ".join(f"{name} {version(name)}" for name in
                         ("Django", "djangorestframework", "psycopg2-binary", "weasyprint", "gunicorn"))
    return [
        f"- Machine: {os.cpu_count()} cores ({cpu}), {kib / 1024 / 1024:.1f} GiB of memory, "
        f"{platform.system()} {platform.release()}; the machine is shared with other work, so every "
        "figure is a median and every ratio compares runs interleaved in time.",
        f"- Python {platform.python_version()}, {packages}; hey {hey or 'unknown'} (load client).",
        f"- {postgres}, a throwaway cluster started by `scripts/with-postgres.sh` with {', '.join(pg)}.",
    ]


def counts(aliases: list[str]) -> list[str]:
    rows = ["| | " + " | ".join(aliases) + " |", "|---|" + "---:|" * len(aliases)]
    for label, table in COUNTED:
        values = []
        for alias in aliases:
            with connections[alias].cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")
                values.append(f"{cursor.fetchone()[0]:,}")
        rows.append(f"| {label} | " + " | ".join(values) + " |")
    return rows


def _value(value, unit: str) -> str:
    if isinstance(value, str):
        return value
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "µs":
        return f"{value:,.0f} µs"
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    return f"{value}"


def table(figures: list[Figure], aliases: list[str]) -> list[str]:
    rows = ["| # | figure | " + " | ".join(aliases) + " | target | result |",
            "|---|---|" + "---:|" * len(aliases) + "---|---|"]
    for f in figures:
        values = " | ".join(_value(f.values[a], f.unit) if a in f.values else "" for a in aliases)
        if f.met is None:
            verdict = ""
        else:
            verdict = ("**met**" if f.met else "**not met**") + (
                f" (on {', '.join(f.judged)})" if f.judged and len(f.judged) < len(aliases) else "")
        rows.append(f"| {f.target} | {f.label} | {values} | {f.limit} | {verdict} |")
    notes = [f"- Target {f.target}, {f.label}: {f.note}." for f in figures if f.note]
    return rows + ([""] + notes if notes else [])


def summary(figures: list[Figure]) -> list[str]:
    lines = []
    for target, title in TITLES.items():
        judged = [f for f in figures if f.target == target and f.met is not None]
        if judged:
            met = all(f.met for f in judged)
            lines.append(f"- {target}. {title}: **{'met' if met else 'not met'}**")
    return lines


def write(path: Path, figures: list[Figure], aliases: list[str], counts: list[str], *, seconds: float,
          notes: str) -> str:
    text = "\n".join([
        "# Performance",
        "",
        "Written by `make bench` (`python -m bench`, the `bench/` package): two data sets in a throwaway",
        "PostgreSQL, the six targets of issue 5, the two of issue 11 (7: the billing run, worked by",
        "real `manage.py worker` processes; 8: the stored PDF's download), the two of issue 12 (9: a bulk",
        "approve; 10: a team switching its Invoiced Timesheets) and the one of issue 13 (11: Create Invoice",
        "rounding per ticket with a minimum), the one of issue 15 (13: every report's first page and the",
        "Helpdesk overview) and the one of issue 16 (14: search) measured on both, this page rewritten.",
        f"That run took {seconds / 60:.1f} minutes after the virtualenv was ready.",
        "",
        *summary(figures),
        "",
        "## Machine and versions",
        "",
        *machine(),
        "",
        "## Data sets",
        "",
        *counts,
        "",
        "Both data sets hold the same *probe* objects besides (a probe customer, team and agent; a",
        "ticket with 20 entries, a sales order of 20 lines, posted invoices billing 100, 1,000 and 2,000",
        "entries, a line of 10 entries, 8 tickets for the load test): a page or a PDF shows the same",
        "rows on both, only the data around them grows. Line 1 (sales order S00001) is the big line:",
        "10% of each data set's entries (100,000 on large), none invoiced. Elsewhere entries older than",
        "60 days are billed by a posted invoice per order. The data is generated set-based",
        "(`INSERT … SELECT generate_series`) into databases of the throwaway cluster, never the repository.",
        "Every team invoices \"All recorded timesheets\" (issue 12); the generated invoiced entries are",
        "approved, the others await approval: every entry counts and bills its minutes (`check_billing`).",
        "Target 7 adds its own orders just before it is measured, last (How the figures are taken).",
        "",
        "## Results",
        "",
        "Times are medians of several runs after a warm-up, the cases of one ratio interleaved",
        "run by run. Query counts come from a separate, untimed run.",
        "",
        *table(figures, aliases),
        "",
        notes.strip(),
        "",
    ])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text

