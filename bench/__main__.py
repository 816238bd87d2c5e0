"""python -m bench: generate both data sets, measure every target, write docs/performance.md."""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs and requests: a try-out, not a report")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--only", metavar="TARGETS", help="comma-separated target numbers to measure, e.g. 7,8 "
                        "(a try-out: write the page elsewhere with --output)")
    args = parser.parse_args(argv)
    if not shutil.which("hey"):
        sys.exit("hey is missing: scripts/ensure-debian.sh hey hey installs it")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    # DEBUG is off here and under gunicorn, as in production: pages link the hashed names of the static
    # files, so they are collected first (README, Deploy), into a folder removed at the end.
    static_root = tempfile.mkdtemp(prefix="hb-bench-static.")
    os.environ["STATIC_ROOT"] = static_root
    # The stored PDFs (ours and the workers'), never the repository's media/.
    media_root = tempfile.mkdtemp(prefix="hb-bench-media.")
    os.environ["MEDIA_ROOT"] = media_root
    try:
        return measure_all(args)
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
        shutil.rmtree(media_root, ignore_errors=True)


def measure_all(args) -> int:
    django.setup()
    from django.core.management import call_command

    from . import approval, db, einvoice, generate, html, measures, portal, probes, report, rounding, runs, week
    from . import reports as report_pages
    from .notes import notes
    from .search import search
    from .sizes import SIZES

    started = time.perf_counter()

    def step(name: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {name}", file=sys.stderr, flush=True)

    aliases = list(SIZES)
    step("collecting static files")
    call_command("collectstatic", "--no-input", verbosity=0)
    step("migrating a template database")
    db.create_databases(aliases)
    made = {}
    for alias in aliases:
        generate.generate(alias, SIZES[alias])
        with db.use(alias):
            made[alias] = probes.build()
    counts = report.counts(aliases)  # before the measurements add their own rows
    quick = args.quick
    figures = []
    for name, measure in [
        ("1. logging time", lambda: measures.logging_time(made, runs=3 if quick else 15)),
        ("2. pages", lambda: measures.pages(made, runs=3 if quick else 15)),
        # Issue 17: My Timesheets' grid, as target 2's other pages (reads only).
        ("2. week grid", lambda: week.week_grid(made, runs=3 if quick else 15)),
        # Issue 18: the customer portal's pages and its API, for the probe customer's contact (reads only).
        ("2. portal", lambda: portal.portal_pages(made, runs=3 if quick else 15)),
        ("3. Create Invoice", lambda: measures.create_invoice(made, runs=1 if quick else 4)),
        # Issue 13: the same click rounding per ticket with a minimum, rolled back like target 3.
        ("11. per-ticket rounding", lambda: rounding.create_invoice_per_ticket(made, runs=1 if quick else 4)),
        # Issue 12: each run rolled back, so check_billing, next, also checks they left the data as it was.
        ("9. bulk approve", lambda: approval.bulk_approve(made, runs=1 if quick else 5)),
        ("10. policy switch", lambda: approval.policy_switch(made, runs=1 if quick else 3)),
        ("6. check_billing", lambda: measures.check_billing(made, runs=2 if quick else 9)),
        ("5. PDF", lambda: measures.pdf(made, runs=1 if quick else 3)),
        ("8. stored PDF download", lambda: measures.download(made, runs=3 if quick else 15)),
        # Issue 14: after 8, which times storing the PDFs; the Factur-X download builds on the stored one.
        ("12. Factur-X PDF", lambda: einvoice.facturx(made, runs=1 if quick else 3)),
        # Issue 15: each report's first page; the rows it adds (prepaid lines, alerts) are rolled back.
        ("13. reports", lambda: report_pages.reports(made, runs=3 if quick else 9)),
        ("14. search", lambda: search(made, runs=3 if quick else 9)),  # issue 16: reads only
        ("15. HTML", lambda: html.html(made)),  # issue 16: one GET of each page per data set
        ("4. gunicorn and hey", lambda: measures.throughput(
            made, rounds=1 if quick else 3, ping_requests=50 if quick else 250, post_requests=15 if quick else 80)),
        # Last: it adds its orders to the data sets, and runs worker processes beside this one.
        ("7. billing run", lambda: runs.billing_run(made, runs=3 if quick else 9)),
    ]:
        if args.only and name.split(".")[0] not in args.only.split(","):
            continue
        step(name)
        figures += measure()
    figures.sort(key=lambda figure: figure.target)
    text = report.write(args.output, figures, aliases, counts, seconds=time.perf_counter() - started,
                        notes=notes(figures))
    step(f"wrote {args.output}")
    print("\n".join(line for line in text.splitlines() if line.startswith("|")))
    return 0  # a missed target is reported and explained in the page, not a failed command


if __name__ == "__main__":
    sys.exit(main())
