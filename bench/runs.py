"""Target 7 (issue 11): a billing run's Create Invoices step, worked by real `manage.py worker` processes.

Each data set gets two sets of `Size.run_orders` orders (one timesheet line, one ticket and 100
unbilled entries each), added just before these figures, so that the figures before them measure
the data sets as they were. Set A first gives the Create Invoice clicks to compare with (each rolled
back), then is billed by a run worked by one worker; set B by a run worked by two. A run is timed
from `run_start` (what the request starting it does) until its step is done, polled every 50 ms;
then every order must have exactly one invoice and none of its entries left unbilled.
"""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from . import db, generate
from .measures import Figure, _judge, _ratio
from .probes import Probes
from .sizes import SIZES
from .timing import medians

ROOT = Path(__file__).resolve().parent.parent
WORKER = [sys.executable, "manage.py", "worker", "--no-reload", "--interval", "0.1", "--no-startup-delay"]
VARIANTS = [("one worker", 1), ("two workers", 2)]  # (label, worker processes)
RUN_TIMEOUT = 900  # seconds: a run this slow is a failure, not a figure


def worker_env(alias: str) -> dict:
    db_settings = settings.DATABASES[alias]
    password = f":{db_settings['PASSWORD']}" if db_settings.get("PASSWORD") else ""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk_billing.settings",
        "DATABASE_URL": (f"postgres://{db_settings['USER']}{password}@{db_settings['HOST']}:{db_settings['PORT']}"
                         f"/{db_settings['NAME']}"),
        "DEBUG": "false", "CONN_MAX_AGE": "600",
    }


@contextlib.contextmanager
def workers(alias: str, count: int, folder: Path):
    """Start `count` `manage.py worker` processes on the data set `alias`; stop them after."""
    processes = []
    try:
        for n in range(count):
            log = open(folder / f"{alias}-worker-{n}.log", "ab")
            processes.append(subprocess.Popen(WORKER, cwd=ROOT, env=worker_env(alias), stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True))
            log.close()
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _alive(processes, folder: Path) -> None:
    for process in processes:
        if process.poll() is not None:
            logs = "".join(path.read_text(errors="replace")[-2000:] for path in folder.glob("*.log"))
            raise RuntimeError(f"a worker exited ({process.returncode}):\n{logs}")


def cpu_seconds(processes) -> float:
    """CPU time (user + system) the processes have used so far, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for process in processes:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


LOCK_WAITS = ("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
              "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")


def drain(processes, folder: Path, timeout: float = 300) -> None:
    """Wait until the workers have run every job already due (the probes' PDFs): they are then up. The daily
    reminders job the workers keep queued for tomorrow is not due (invoicing.reminders)."""
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + timeout
    while DBTaskResult.objects.ready().exists() or DBTaskResult.objects.filter(status="RUNNING").exists():
        _alive(processes, folder)
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not empty the queue")
        time.sleep(0.1)
    # A worker may be still importing Django when the queue is empty: wait for each to say it started.
    logs = sorted(folder.glob("*.log"))
    while sum("Starting worker" in path.read_text(errors="replace") for path in logs) < len(processes):
        _alive(processes, folder)
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start")
        time.sleep(0.1)


def run_once(alias: str, order_ids: list[int], *, count: int, actor, folder: Path) -> dict:
    """Bill `order_ids` by a run worked by `count` worker processes; return its time and outcome."""
    from django_tasks_db.models import DBTaskResult

    from invoicing.models import Invoice, RunStep
    from invoicing.runs import run_start, step_progress
    from timesheets.models import TimeEntry

    folder = Path(tempfile.mkdtemp(prefix=f"{alias}-{count}-", dir=folder))  # this run's workers' logs
    with workers(alias, count, folder) as processes, db.use(alias):
        drain(processes, folder)
        since, cpu = timezone.now(), cpu_seconds(processes)
        started = time.perf_counter()
        run = run_start(order_ids=order_ids, actor=actor)
        step = run.steps.get()
        samples = waits = 0
        while RunStep.objects.filter(pk=step.pk).values_list("state", flat=True).get() != RunStep.State.DONE:
            _alive(processes, folder)
            if time.perf_counter() - started > RUN_TIMEOUT:
                raise RuntimeError(f"{run} was not done after {RUN_TIMEOUT} s: {step_progress(step)}")
            with connection.cursor() as cursor:  # is a worker waiting for another's lock?
                cursor.execute(LOCK_WAITS)
                samples, waits = samples + 1, waits + bool(cursor.fetchone()[0])
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(processes) - cpu
        progress = step_progress(step)
        drain(processes, folder)  # the step's other jobs, which find nothing left, before the next run
        jobs = list(DBTaskResult.objects.filter(task_path="invoicing.tasks.work_step", enqueued_at__gte=since)
                    .values_list("status", "worker_ids"))
    with db.use(alias):
        per_order = dict(Invoice.objects.filter(sale_order_id__in=order_ids).values("sale_order")
                         .annotate(n=Count("pk")).values_list("sale_order", "n"))
        unbilled = TimeEntry.objects.filter(sale_line__order_id__in=order_ids, invoice_line__isnull=True).count()
    return {
        "seconds": elapsed, "orders": len(order_ids), "done": progress["done"], "refused": progress["refused"],
        "once": sum(1 for pk in order_ids if per_order.get(pk) == 1),
        "twice": sum(1 for n in per_order.values() if n > 1), "unbilled": unbilled,
        "jobs": len(jobs), "workers": len({worker for _, ids in jobs for worker in ids}),
        "failed_jobs": sum(1 for status, _ in jobs if status == "FAILED"),
        "cpu": cpu, "lock_waits": waits / samples if samples else 0.0,
    }


def clicks(sets: dict, accountants: dict, clients: dict, runs: int) -> dict[str, float]:
    """One Create Invoice on an order of set A, as the service and as the web click, each call on the
    next order and rolled back (the run bills them later); return the medians in seconds."""
    from invoicing.services import invoice_create_from_order
    from sales.models import SaleOrder

    turn = {}

    def next_order(label, alias):
        turn[label] = turn.get(label, -1) + 1
        return sets[alias][0][turn[label] % len(sets[alias][0])]

    def service(alias):
        def call() -> float:
            order = SaleOrder.objects.get(pk=next_order(f"{alias} service", alias))
            with transaction.atomic():
                started = time.perf_counter()
                invoice = invoice_create_from_order(order=order, actor=accountants[alias])
                elapsed = time.perf_counter() - started
                assert invoice.lines.get().minutes > 0
                transaction.set_rollback(True)
            return elapsed
        return call

    def click(alias):
        def call() -> float:
            pk = next_order(f"{alias} click", alias)
            with transaction.atomic():
                started = time.perf_counter()
                response = clients[alias].post(f"/orders/{pk}/create-invoice/", {})
                elapsed = time.perf_counter() - started
                assert response.status_code == 302, (pk, response.status_code)
                transaction.set_rollback(True)
            return elapsed
        return call

    cases = {f"{a} {k}": (a, fn(a)) for a in sets for k, fn in (("service", service), ("click", click))}
    single = medians(cases, runs=runs)
    for alias in sets:
        with db.use(alias), connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE timesheets_timeentry")  # the clicks' rolled-back rows
    return single


def billing_run(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)
    sets, accountants, clients = {}, {}, {}
    for alias in aliases:
        sets[alias] = generate.run_orders(alias, SIZES[alias], sets=len(VARIANTS), orders=SIZES[alias].run_orders)
        with db.use(alias):
            accountants[alias] = get_user_model().objects.get(pk=probes[alias].accountant)
            clients[alias] = Client()
            clients[alias].force_login(accountants[alias])
    single = clicks(sets, accountants, clients, runs)
    results = {}
    with tempfile.TemporaryDirectory(prefix="hb-bench-workers.") as folder:
        for alias in aliases:
            for (label, count), order_ids in zip(VARIANTS, sets[alias]):
                results[alias, label] = r = run_once(alias, order_ids, count=count, actor=accountants[alias],
                                                     folder=Path(folder))
                print(f"  {alias}: run over {r['orders']:,} orders, {label}: {r['seconds']:.1f} s, "
                      f"{r['jobs']} job(s) on {r['workers']} worker(s)", file=sys.stderr, flush=True)
    return run_figures(aliases, single, results)


def run_figures(aliases: list[str], single: dict[str, float], results: dict) -> list[Figure]:
    one = VARIANTS[0][0]
    orders = {a: f"{SIZES[a].run_orders:,}" for a in aliases}
    per_order = {a: results[a, one]["seconds"] / results[a, one]["orders"] for a in aliases}
    last = aliases[-1]
    figures = [
        Figure(7, "Create Invoice click on an order of 100 unbilled entries (web `POST`, rolled back): server time",
               {a: single[f"{a} click"] * 1000 for a in aliases}, "ms"),
        Figure(7, "Create Invoice on the same kind of order, service `invoice_create_from_order` alone",
               {a: single[f"{a} service"] * 1000 for a in aliases}, "ms"),
    ]
    for label, _ in VARIANTS:
        figures.append(Figure(
            7, f"billing run over {' / '.join(orders.values())} orders of 100 entries, {label}: "
               "`run_start` until its Create Invoices step is done",
            {a: results[a, label]["seconds"] for a in aliases}, "s"))
    figures += [
        Figure(7, "billing run, one worker: time per order", {a: per_order[a] * 1000 for a in aliases}, "ms"),
        _judge(7, "billing run per order (one worker) / Create Invoice click",
               {a: _ratio(per_order[a], single[f"{a} click"]) for a in aliases}, "≤ 2", lambda r: r <= 2,
               sizes=[last], note=f"judged on {last}, the issue's 1,000 orders"),
        Figure(7, "billing run per order (one worker) / service alone",
               {a: _ratio(per_order[a], single[f"{a} service"]) for a in aliases}, "×"),
        Figure(7, "billing run, two workers / one worker (run time)",
               {a: _ratio(results[a, VARIANTS[1][0]]["seconds"], results[a, one]["seconds"]) for a in aliases}, "×"),
    ]
    outcomes = {a: [results[a, label] for label, _ in VARIANTS] for a in aliases}
    whole = all(r["once"] == r["orders"] == r["done"] and not r["refused"] and not r["twice"]
                and not r["unbilled"] and not r["failed_jobs"] for rs in outcomes.values() for r in rs)
    return figures + [
        Figure(7, "each run: orders invoiced exactly once / refused / with two invoices / entries left unbilled / "
                  "failed jobs",
               {a: " · ".join(f"{r['once']:,} / {r['refused']} / {r['twice']} / {r['unbilled']} / "
                              f"{r['failed_jobs']}" for r in outcomes[a]) for a in aliases},
               "", "all once", whole, judged=aliases),
        Figure(7, "each run: jobs on the step / worker processes that ran one / their CPU time / "
                  "polls that saw a worker wait for a lock",
               {a: " · ".join(f"{r['jobs']} / {r['workers']} / {r['cpu']:.1f} s / {r['lock_waits']:.0%}"
                              for r in outcomes[a]) for a in aliases}),
    ]
