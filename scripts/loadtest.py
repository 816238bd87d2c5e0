#!/usr/bin/env python3
"""Load test with invariants: the app under gunicorn, 20 concurrent API clients for 60 s, then checks.

    scripts/with-postgres.sh .venv/bin/python scripts/loadtest.py [--fault kill-worker|restart-db] [--billing]

(`make loadtest`, `make loadtest FAULT=kill-worker`, `make loadtest-faults`,
`make loadtest LOADTEST_ARGS=--billing`.) Bounded and local:
PostgreSQL and gunicorn listen on 127.0.0.1 only, the clients stop after --duration seconds
(and --max-requests each), the whole run is killed after a hard deadline.

1. Migrates the throwaway database, collects the static files (README, Deploy), and seeds a shared
   world: 4 confirmed orders of 2 timesheet lines, 16 tickets billed to them, 20 agents and 5
   accountants with API tokens.
2. Starts gunicorn (gthread workers) with production settings behind a pretend TLS proxy.
3. Runs the clients, each an agent paired with an accountant, on the shared orders so they
   collide: log time 70 %, edit 10 %, delete 5 %, Create Invoice 5 %, post 5 %, credit note 5 %.
   Each keeps a ledger of what the server acknowledged, and of what it sent without an answer.
4. Faults: `kill-worker` SIGKILLs every gunicorn worker while invoices are being created,
   posted or credited, five times; `restart-db` stops PostgreSQL for a few seconds mid-load.
5. Checks, and prints, the invariants; exits 1 if any fails:
   - every acknowledged write is in the database, nothing unacknowledged is half there;
   - `check_billing` finds no drift; no time entry is billed twice; for every timesheet line,
     invoiced = the billable minutes of its billed entries = what its live invoices bill;
   - invoice and credit note numbers unique and gapless per year and kind;
   - no half-made invoice, every billing write has its audit event;
   - zero 5xx (with restart-db: 503 with a JSON message during the outage only), refusals counted;
   - no traceback in the server's log: gunicorn's, and the app's on its stderr (a 5xx is logged there
     with its traceback); a request with a Host the app does not serve, sent first, must leave its
     line there, or the check could never fire;
   - requests, rate, p50/p99 latency.

With --billing (issue 11) it also seeds 200 orders of one line, each with its own ticket and 2 entries,
for customers with a billing email, and an accountant of the run's own; serves the app from two
gunicorn servers (2 workers each, the clients spread over both) and runs two `manage.py worker`
processes, all with JOB_STALL_SECONDS=5. Half the agents' time then lands on the run's orders while,
from 15 % of the load, the accountant starts a billing run over them (`POST /api/v1/billing-runs/`)
and follows it (`GET /api/v1/billing-runs/{id}/`); once a quarter of its Create Invoices items are
done, the job worker running one of its jobs is SIGKILLed and another started; then the run is posted
and sent by email (`/post/`, `/send/`), each step followed until done (after the load if need be).
Besides the checks above: every step done, every item done or refused with a reason, every order
invoiced at most once by the run and no invoice of its accountant outside the run's items, every
posted invoice posted, none sent twice and every sending in the audit log, no job failed but the
killed worker's, no traceback in the job workers' logs. --run-jobs sets RUN_JOBS_PER_STEP (1: the
killed job was the step's only one, so the step stalls and a sweeper resumes it).
"""

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIX = [("log", 70), ("edit", 10), ("delete", 5), ("create_invoice", 5), ("post", 5), ("credit", 5)]
HOST = "127.0.0.1"
OUTAGE_SECONDS = 5
KILLS = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- What the clients saw ------------------------------------------------------------------------

@dataclass
class Answer:
    op: str
    status: int | None  # None: no answer (connection dropped, timed out)
    body: object
    seconds: float
    at: float  # seconds since the load started


@dataclass
class Ledger:
    """What the server acknowledged, and what it was sent without answering (either may be true)."""

    entries: dict = field(default_factory=dict)  # id -> {"minutes", "description", "alternatives", ...}
    deleted: set = field(default_factory=set)  # acknowledged deletes
    maybe_deleted: set = field(default_factory=set)
    unknown_creates: dict = field(default_factory=dict)  # description -> minutes
    invoices: dict = field(default_factory=dict)  # id -> {"kind", "refers"} acknowledged created
    posted: dict = field(default_factory=dict)  # id -> number acknowledged posted
    unknown_invoice_ops: int = 0


class Shared:
    """What every client knows: the drafts and posted invoices, and the invoice writes in flight."""

    def __init__(self):
        self.lock = threading.Lock()
        self.drafts: dict[int, str] = {}  # id -> kind
        self.posted: dict[int, list[int]] = {}  # posted invoice id -> its entry ids
        self.entries_of: dict[int, list[int]] = {}  # invoice id -> entry ids (from the create answer)
        self.invoice_writes_in_flight = 0
        self.answers: list[Answer] = []
        self.stop = threading.Event()


def send(port: int, shared: "Shared", started: float, op: str, method: str, path: str, token: str,
         data=None) -> Answer:
    """Send one API request; record and return its answer (status None: no answer)."""
    body = None if data is None else json.dumps(data)
    headers = {"Authorization": f"Token {token}", "Accept": "application/json",
               # The app runs with production settings behind a pretend TLS proxy.
               "X-Forwarded-Proto": "https"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    began = time.monotonic()
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(method, f"/api/v1{path}", body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        status = response.status
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw[:200].decode(errors="replace")
    except (OSError, http.client.HTTPException) as error:
        status, payload = None, f"{type(error).__name__}: {error}"
    finally:
        connection.close()
    answer = Answer(op, status, payload, time.monotonic() - began, began - started)
    with shared.lock:
        shared.answers.append(answer)
    if status == 503:  # as an integrator would: wait as told (Retry-After), a second at most here
        time.sleep(min(float(response.getheader("Retry-After") or 1), 1.0))
    return answer


class Client(threading.Thread):
    def __init__(self, number: int, *, port: int, agent_token: str, accountant_token: str, tickets: list[int],
                 orders: list[int], shared: Shared, started: float, max_requests: int):
        super().__init__(name=f"client-{number}", daemon=True)
        self.number, self.port, self.shared, self.started = number, port, shared, started
        self.agent_token, self.accountant_token = agent_token, accountant_token
        self.tickets, self.orders, self.max_requests = tickets, orders, max_requests
        self.random = random.Random(number)
        self.ledger = Ledger()
        self.mine: list[int] = []  # this agent's live, certain entries
        self.sequence = 0

    # HTTP ------------------------------------------------------------------------------------------
    def call(self, op: str, method: str, path: str, token: str, data=None) -> Answer:
        return send(self.port, self.shared, self.started, op, method, path, token, data)

    # Operations ------------------------------------------------------------------------------------
    def tag(self, kind: str) -> str:
        self.sequence += 1
        return f"{kind}-{self.number:02d}-{self.sequence:05d}"

    def duration(self) -> tuple[str, int]:
        minutes = self.random.choice([5, 10, 15, 20, 30, 45, 60, 75, 90, 120])
        return f"{minutes // 60}:{minutes % 60:02d}", minutes

    def log(self):
        text, minutes = self.duration()
        description = self.tag("lt")
        answer = self.call("log", "POST", "/timesheets/", self.agent_token,
                           {"ticket": self.random.choice(self.tickets), "duration": text, "description": description})
        if answer.status == 201:
            self.ledger.entries[answer.body["id"]] = {"minutes": minutes, "description": description,
                                                      "alternatives": []}
            self.mine.append(answer.body["id"])
        elif answer.status is None or answer.status >= 500:
            self.ledger.unknown_creates[description] = minutes

    def edit(self):
        if not self.mine:
            return self.log()
        entry_id = self.random.choice(self.mine[-5:])  # the latest: older ones are mostly invoiced
        text, minutes = self.duration()
        description = self.tag("ed")
        answer = self.call("edit", "PATCH", f"/timesheets/{entry_id}/", self.agent_token,
                           {"duration": text, "description": description})
        record = self.ledger.entries[entry_id]
        if answer.status == 200:
            record.update(minutes=minutes, description=description)
        elif answer.status == 409:  # invoiced meanwhile: it stays as it was, and locked
            self.mine.remove(entry_id)
        elif answer.status is None or answer.status >= 500:
            record["alternatives"].append({"minutes": minutes, "description": description})
            self.mine.remove(entry_id)

    def delete(self):
        if not self.mine:
            return self.log()
        entry_id = self.random.choice(self.mine[-5:])
        answer = self.call("delete", "DELETE", f"/timesheets/{entry_id}/", self.agent_token)
        if answer.status == 204:
            self.ledger.deleted.add(entry_id)
            self.mine.remove(entry_id)
        elif answer.status == 409:
            self.mine.remove(entry_id)
        elif answer.status is None or answer.status >= 500:
            self.ledger.maybe_deleted.add(entry_id)
            self.mine.remove(entry_id)

    def invoice_write(self, op, path, data):
        with self.shared.lock:
            self.shared.invoice_writes_in_flight += 1
        try:
            return self.call(op, "POST", path, self.accountant_token, data)
        finally:
            with self.shared.lock:
                self.shared.invoice_writes_in_flight -= 1

    def remember_invoice(self, body):
        entries = [entry for line in body["lines"] for entry in line["timesheets"]]
        self.ledger.invoices[body["id"]] = {"kind": body["kind"], "refers": body["refers"]}
        with self.shared.lock:
            self.shared.drafts[body["id"]] = body["kind"]
            self.shared.entries_of[body["id"]] = entries

    def create_invoice(self):
        answer = self.invoice_write("create_invoice", f"/sale-orders/{self.random.choice(self.orders)}/create-invoice/",
                                    {})
        if answer.status == 201:
            self.remember_invoice(answer.body)
        elif answer.status is None or answer.status >= 500:
            self.ledger.unknown_invoice_ops += 1

    def post(self):
        with self.shared.lock:
            drafts = sorted(self.shared.drafts)
        if not drafts:
            return self.create_invoice()
        invoice_id = self.random.choice(drafts)
        answer = self.invoice_write("post", f"/invoices/{invoice_id}/post/", None)
        if answer.status == 200:
            self.ledger.posted[invoice_id] = answer.body["number"]
            with self.shared.lock:
                self.shared.drafts.pop(invoice_id, None)
                if answer.body["kind"] == "invoice":
                    self.shared.posted[invoice_id] = self.shared.entries_of.get(invoice_id, [])
        elif answer.status in (400, 409):
            with self.shared.lock:
                self.shared.drafts.pop(invoice_id, None)
        elif answer.status is None or answer.status >= 500:
            self.ledger.unknown_invoice_ops += 1

    def credit(self):
        with self.shared.lock:
            posted = sorted(self.shared.posted)
        if not posted:
            return self.post()
        invoice_id = self.random.choice(posted)
        with self.shared.lock:
            entries = list(self.shared.posted[invoice_id])
        data = {}
        if entries and self.random.random() < 0.5:  # half give back a few entries, half the whole invoice
            data = {"timesheets": self.random.sample(entries, k=self.random.randint(1, min(3, len(entries))))}
        answer = self.invoice_write("credit", f"/invoices/{invoice_id}/credit-note/", data)
        if answer.status == 201:
            self.remember_invoice(answer.body)
        elif answer.status == 400 and not data:  # nothing left to credit: stop choosing it
            with self.shared.lock:
                self.shared.posted.pop(invoice_id, None)
        elif answer.status is None or answer.status >= 500:
            self.ledger.unknown_invoice_ops += 1

    def run(self):
        ops, weights = zip(*MIX)
        for _ in range(self.max_requests):
            if self.shared.stop.is_set():
                break
            getattr(self, self.random.choices(ops, weights)[0])()


# --- The server ------------------------------------------------------------------------------------

class Server:
    """gunicorn serving the app on the loopback, with production settings."""

    def __init__(self, *, port: int, workers: int, threads: int, folder: Path, name: str = "gunicorn"):
        self.port, self.workers, self.threads, self.folder, self.name = port, workers, threads, folder, name
        self.process = None
        self.log = folder / f"{name}.log"
        self.out = folder / f"{name}.out"
        self.logged_before_load = False

    def start(self):
        command = [sys.executable, "-m", "gunicorn", "helpdesk_billing.wsgi:application", "--bind",
                   f"{HOST}:{self.port}", "--workers", str(self.workers), "--threads", str(self.threads),
                   "--worker-class", "gthread", "--timeout", "30", "--graceful-timeout", "5", "--preload",
                   "--error-logfile", str(self.log), "--log-level", "warning"]
        self.output = open(self.out, "ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env=app_env(), stdout=self.output,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            if self.healthz()[0] == 200 and len(self.worker_pids()) == self.workers:
                return
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not become healthy:\n{self.log.read_text()[-3000:]}")

    def healthz(self):
        try:
            connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        except (OSError, http.client.HTTPException, ValueError) as error:
            return None, str(error)

    def worker_pids(self) -> list[int]:
        """Return the gunicorn master's children: its workers."""
        if self.process is None:
            return []
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:  # fields: state, ppid, ...
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def logs(self) -> str:
        """Return what gunicorn and the app wrote: gunicorn's error log, and the process's stdout and stderr
        (where the app logs, README Configuration)."""
        return "".join(path.read_text(errors="replace") for path in (self.log, self.out) if path.exists())

    def tracebacks(self) -> int:
        return self.logs().count("Traceback (most recent call last)")

    def log_is_read(self) -> bool:
        """Send a request the app logs, one with a Host it does not serve, and return whether its line reached
        the logs read here: else the traceback check could never fire."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
        try:
            connection.request("GET", "/healthz", headers={"Host": "not-served.invalid"})
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if status == 400 and "django.security.DisallowedHost" in self.logs():
                return True
            time.sleep(0.1)
        return False

    def errors_logged(self) -> list[str]:
        """Return the error lines gunicorn and the app wrote (tracebacks, 503s)."""
        lines = []
        for path in (self.log, self.out):
            if path.exists():
                lines += [line for line in path.read_text(errors="replace").splitlines()
                          if "Traceback" in line or "ERROR" in line or "Database unavailable" in line]
        return lines


class Servers:
    """Several gunicorn servers on one database (--billing runs two), seen as one: clients spread over their
    ports, and every check (health, worker pids, logs) covers them all."""

    def __init__(self, servers: list[Server]):
        self.servers = servers
        self.port = servers[0].port
        self.ports = [server.port for server in servers]
        self.workers, self.threads = servers[0].workers, servers[0].threads

    def start(self):
        for server in self.servers:
            server.start()

    def healthz(self):
        answers = [server.healthz() for server in self.servers]
        return next((answer for answer in answers if answer[0] != 200), answers[0])

    def worker_pids(self) -> list[int]:
        return sorted(pid for server in self.servers for pid in server.worker_pids())

    def kill(self):
        for server in self.servers:
            server.kill()

    def stop(self):
        for server in self.servers:
            server.stop()

    def tracebacks(self) -> int:
        return sum(server.tracebacks() for server in self.servers)

    def log_is_read(self) -> bool:
        return all(server.log_is_read() for server in self.servers)

    def errors_logged(self) -> list[str]:
        return [line for server in self.servers for line in server.errors_logged()]


class JobWorkers:
    """`manage.py worker` processes (django-tasks-db's db_worker) on the same database, each with a worker id
    of its own, so that the jobs' rows say which process ran them."""

    COMMAND = ["manage.py", "worker", "--no-reload", "--interval", "0.1", "--no-startup-delay"]

    def __init__(self, folder: Path, env: dict):
        self.folder, self.env = folder, env
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self) -> str:
        worker_id = f"job-worker-{len(self.processes) + 1}"
        with open(self.folder / f"{worker_id}.log", "ab") as log:
            self.processes[worker_id] = subprocess.Popen(
                [sys.executable, *self.COMMAND, "--worker-id", worker_id], cwd=ROOT, env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        return worker_id

    def alive(self) -> list[str]:
        return [worker_id for worker_id, process in self.processes.items() if process.poll() is None]

    def kill(self, worker_id: str):
        """SIGKILL the worker: its job is cut wherever it is, its transaction rolled back by PostgreSQL."""
        os.killpg(self.processes[worker_id].pid, signal.SIGKILL)
        self.processes[worker_id].wait(timeout=10)

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def logs(self) -> str:
        return "".join(path.read_text(errors="replace") for path in sorted(self.folder.glob("job-worker-*.log")))

    def tracebacks(self) -> int:
        return self.logs().count("Traceback (most recent call last)")


SECRET_KEY = secrets.token_urlsafe(50)


def app_env() -> dict:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "helpdesk_billing.settings",
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": HOST,
        "SECURE_PROXY_SSL_HEADER": "true",
        # Persistent connections: the database restart must be survived by CONN_HEALTH_CHECKS.
        "CONN_MAX_AGE": "60",
    })
    return env


# --- The database -----------------------------------------------------------------------------------

def pg_ctl(*args) -> subprocess.CompletedProcess:
    """Run pg_ctl on the cluster scripts/with-postgres.sh started (as its user)."""
    command = ["pg_ctl", "-D", os.environ["HB_PGDATA"], *args]
    if os.environ.get("HB_PG_USER"):
        command = ["runuser", "-u", os.environ["HB_PG_USER"], "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def seed(*, clients: int, accountants: int) -> dict:
    """Create the shared world through the services; return the tokens, tickets and orders."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from projects.models import Project
    from projects.services import project_save
    from sales.models import Customer, Product, SaleOrder, SaleOrderLine, ServicePolicy, Tax
    from sales.services import sale_order_confirm, sale_order_save_quotation
    from tickets.models import HelpdeskTeam
    from tickets.services import team_save, ticket_create

    User = get_user_model()
    tax = Tax.objects.create(name="VAT 21%", rate=Decimal("21.00"))
    products = [
        Product.objects.create(name="Service on Timesheet", list_price=Decimal("90.00"), tax=tax,
                               service_policy=ServicePolicy.DELIVERED_TIMESHEET),
        Product.objects.create(name="Support, quarter hours", list_price=Decimal("120.00"), tax=tax,
                               service_policy=ServicePolicy.DELIVERED_TIMESHEET, billing_increment_minutes=15),
    ]
    customers = [Customer.objects.create(name=f"Customer {n}", address=f"{n} Main Street") for n in range(1, 4)]
    project = project_save(project=Project(name="Helpdesk", billable=True))
    team = team_save(team=HelpdeskTeam(name="Helpdesk", timesheet_on_ticket=True, project=project,
                                       time_reinvoicing=True))
    orders, tickets = [], []
    for n in range(4):
        customer = customers[n % len(customers)]
        lines = [SaleOrderLine(product=p, name=p.name, quantity=Decimal("1000.00"), uom=p.uom, price_unit=p.list_price,
                               tax=tax) for p in products]
        order = sale_order_confirm(order=sale_order_save_quotation(order=SaleOrder(customer=customer), lines=lines))
        orders.append(order.pk)
        for line in order.lines.all():
            for k in range(2):
                tickets.append(ticket_create(team=team, customer=customer, sale_line=line,
                                             title=f"{order.name} ticket {k + 1}").pk)
    agents_group, accountants_group = Group.objects.get(name="Agents"), Group.objects.get(name="Accountants")

    def user(name, group):
        person = User.objects.create_user(username=name, password=secrets.token_urlsafe(16))
        person.groups.add(group)
        return Token.objects.create(user=person).key

    agent_tokens = []
    for n in range(clients):
        agent_tokens.append(user(f"agent{n:02d}", agents_group))
        team.members.add(User.objects.get(username=f"agent{n:02d}"))
    accountant_tokens = [user(f"accountant{n}", accountants_group) for n in range(accountants)]
    return {"agents": agent_tokens, "accountants": accountant_tokens, "tickets": tickets, "orders": orders}


def seed_run(*, orders: int, entries: int) -> dict:
    """The billing run's world (--billing): `orders` confirmed orders of one timesheet line, each with a ticket
    of its own and `entries` entries logged through the service; customers with a billing email; an
    accountant of its own, who starts the run and nothing else, so every invoice they made is the run's."""
    import datetime
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from sales.models import Customer, Product, SaleOrder, SaleOrderLine
    from sales.services import sale_order_confirm, sale_order_save_quotation
    from tickets.models import HelpdeskTeam
    from tickets.services import ticket_create
    from timesheets.services import timesheet_log

    User = get_user_model()
    product = Product.objects.select_related("tax").get(name="Service on Timesheet")
    team = HelpdeskTeam.objects.get(name="Helpdesk")
    agent = User.objects.get(username="agent00")
    customers = [Customer.objects.create(name=f"Run customer {n}", email=f"billing{n}@customer{n}.example",
                                         address=f"{n} Station Road") for n in range(1, 6)]
    today = timezone.localdate()
    order_ids, tickets, seeded = [], [], set()
    for n in range(orders):
        customer = customers[n % len(customers)]
        line = SaleOrderLine(product=product, name=product.name, quantity=Decimal("100.00"), uom=product.uom,
                             price_unit=product.list_price, tax=product.tax)
        order = sale_order_confirm(order=sale_order_save_quotation(order=SaleOrder(customer=customer), lines=[line]))
        ticket = ticket_create(team=team, customer=customer, sale_line=order.lines.get(),
                               title=f"{order.name} monthly support")
        for k in range(entries):
            with transaction.atomic():
                seeded.add(timesheet_log(user=agent, date=today - datetime.timedelta(days=k + 1), minutes=30,
                                         description=f"seed-{order.pk}-{k}", ticket=ticket).pk)
        order_ids.append(order.pk)
        tickets.append(ticket.pk)
    accountant = User.objects.create_user(username="run-accountant", password=secrets.token_urlsafe(16))
    accountant.groups.add(Group.objects.get(name="Accountants"))
    return {"run_orders": order_ids, "run_tickets": tickets, "seeded": seeded,
            "run_accountant": accountant.pk, "run_token": Token.objects.create(user=accountant).key}


# --- Faults ---------------------------------------------------------------------------------------

class Faults(threading.Thread):
    def __init__(self, kind: str | None, *, server: Server, shared: Shared, started: float, duration: float):
        super().__init__(name="faults", daemon=True)
        self.kind, self.server, self.shared, self.started, self.duration = kind, server, shared, started, duration
        self.events: list[str] = []
        self.kills = 0
        self.kills_during_invoice_writes = 0
        self.outage: tuple[float, float] | None = None  # (database stopped at, database started at)
        self.recovered_after: float | None = None
        self.failed: list[str] = []

    def at(self) -> float:
        return time.monotonic() - self.started

    def run(self):
        try:
            if self.kind == "kill-worker":
                self.kill_workers()
            elif self.kind == "restart-db":
                self.restart_database()
        except Exception as error:  # reported as a failed invariant, not lost in a thread
            self.failed.append(f"fault injection failed: {type(error).__name__}: {error}")

    def kill_workers(self):
        for n in range(KILLS):
            when = self.duration * (n + 1) / (KILLS + 2)
            while self.at() < when and not self.shared.stop.is_set():
                time.sleep(0.05)
            # Wait (a little) for an invoice write to be in flight, then kill every worker under it.
            deadline = time.monotonic() + 5
            while self.shared.invoice_writes_in_flight == 0 and time.monotonic() < deadline:
                time.sleep(0.002)
            during = self.shared.invoice_writes_in_flight > 0
            pids = self.server.worker_pids()
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.kills += len(pids)
            self.kills_during_invoice_writes += during
            self.events.append(f"t={self.at():5.1f}s SIGKILL workers {pids}"
                               f"{' with an invoice write in flight' if during else ''}")

    def restart_database(self):
        while self.at() < self.duration / 3:
            time.sleep(0.05)
        stopped = self.at()
        result = pg_ctl("stop", "-m", "fast", "-w")
        if result.returncode:
            raise RuntimeError(result.stderr)
        self.events.append(f"t={stopped:5.1f}s PostgreSQL stopped (pg_ctl stop -m fast)")
        time.sleep(OUTAGE_SECONDS)
        status, body = self.server.healthz()
        self.events.append(f"t={self.at():5.1f}s /healthz during the outage: {status} {body}")
        if status != 503:
            self.failed.append(f"/healthz answered {status} while the database was down")
        result = pg_ctl("start", "-w", "-t", "60", "-l", os.environ["HB_PG_LOG"], "-o", os.environ["HB_PG_OPTIONS"])
        if result.returncode:
            raise RuntimeError(result.stderr)
        started = self.at()
        self.outage = (stopped, started)
        self.events.append(f"t={started:5.1f}s PostgreSQL started again")
        while self.at() < started + 30:
            if self.server.healthz()[0] == 200:
                self.recovered_after = self.at() - started
                self.events.append(f"t={self.at():5.1f}s /healthz 200: recovered by itself "
                                   f"{self.recovered_after:.2f}s after the restart")
                return
            time.sleep(0.05)
        self.failed.append("the app did not recover within 30 s of the database restart")


# --- The billing run (--billing) -------------------------------------------------------------------

class BillingDriver(threading.Thread):
    """An accountant's billing run through the API while the agents log time: start it over the run's orders,
    SIGKILL a job worker while it works the Create Invoices step and start another, then post the run's
    invoices and send them by email, each step followed until done."""

    def __init__(self, *, servers: "Servers", shared: Shared, started: float, world: dict, workers: JobWorkers,
                 start_at: float, kill_at: float, step_timeout: float):
        super().__init__(name="billing", daemon=True)
        self.servers, self.shared, self.started, self.world, self.workers = servers, shared, started, world, workers
        self.start_at, self.kill_at, self.step_timeout = start_at, kill_at, step_timeout
        self.run_id: int | None = None
        self.events: list[str] = []
        self.failed: list[str] = []
        self.step_seconds: dict[str, float] = {}
        self.killed: str | None = None

    def at(self) -> float:
        return time.monotonic() - self.started

    def event(self, text: str):
        self.events.append(f"t={self.at():5.1f}s {text}")

    def call(self, op, method, path, data=None) -> Answer:
        return send(self.servers.ports[0], self.shared, self.started, op, method, path, self.world["run_token"],
                    data)

    def run(self):
        from django.db import connection

        try:
            self.drive()
        except Exception as error:  # reported as a failed invariant, not lost in a thread
            self.failed.append(f"billing run: {type(error).__name__}: {error}")
        finally:
            connection.close()

    def drive(self):
        while self.at() < self.start_at:
            time.sleep(0.05)
        orders = self.world["run_orders"]
        answer = self.call("run_start", "POST", "/billing-runs/", {"orders": orders})
        if answer.status != 202:
            raise RuntimeError(f"POST /billing-runs/ answered {answer.status}: {answer.body}")
        self.run_id = answer.body["id"]
        self.event(f"billing run {self.run_id} started through the API over {len(orders)} orders (202)")
        self.follow("create", kill=True)
        for kind in ("post", "send"):
            answer = self.call(f"run_{kind}", "POST", f"/billing-runs/{self.run_id}/{kind}/")
            if answer.status != 202:
                raise RuntimeError(f"POST /billing-runs/{self.run_id}/{kind}/ answered {answer.status}: {answer.body}")
            self.event(f"{kind} step started (202)")
            self.follow(kind)

    def follow(self, kind: str, kill: bool = False):
        """Poll the run through the API until its `kind` step is done; with `kill`, SIGKILL the worker of one of
        the step's running jobs once `kill_at` of its items are finished, and start another worker."""
        began, polled = time.monotonic(), 0.0
        while time.monotonic() - began < self.step_timeout:
            if kill and self.killed is None:
                self.maybe_kill()
            if time.monotonic() - polled >= 0.5:
                polled = time.monotonic()
                answer = self.call("run_poll", "GET", f"/billing-runs/{self.run_id}/")
                step = next((s for s in (answer.body or {}).get("steps", []) if s["kind"] == kind), None) \
                    if answer.status == 200 else None
                if step and step["state"] == "done":
                    self.step_seconds[kind] = time.monotonic() - began
                    self.event(f"{kind} step done: {step['done']} done, {step['refused']} refused of {step['total']}, "
                               f"in {self.step_seconds[kind]:.1f} s")
                    if kill and self.killed is None:
                        self.failed.append("the create step was done before a worker could be killed in it: "
                                           "give the run more orders (--run-orders)")
                    return
            time.sleep(0.05)
        raise RuntimeError(f"the {kind} step was not done after {self.step_timeout:.0f} s")

    def maybe_kill(self):
        from django_tasks_db.models import DBTaskResult

        from invoicing.models import RunItem, RunStep

        step = RunStep.objects.filter(run_id=self.run_id, kind=RunStep.Kind.CREATE).first()
        if step is None:
            return
        items = RunItem.objects.filter(step=step)
        total, finished = items.count(), items.exclude(state=RunItem.State.PENDING).count()
        if finished < self.kill_at * total:
            return
        running = DBTaskResult.objects.filter(status="RUNNING", task_path="invoicing.tasks.work_step",
                                              args_kwargs__args=[step.pk]).values_list("worker_ids", flat=True)
        alive = self.workers.alive()
        victim = next((ids[-1] for ids in running if ids and ids[-1] in alive), None)
        if victim is None:
            return
        self.workers.kill(victim)
        self.killed = victim
        self.event(f"SIGKILL {victim} while it worked the create step ({finished}/{total} items finished)")
        self.event(f"started {self.workers.start()}")


# --- Checks ---------------------------------------------------------------------------------------

class Checks:
    def __init__(self):
        self.results: list[tuple[bool, str]] = []

    def check(self, ok: bool, text: str, problems=()):
        problems = list(problems)
        self.results.append((ok and not problems, text + (f": {problems[:5]}" if problems else "")))

    @property
    def passed(self) -> bool:
        return all(ok for ok, _ in self.results)


def check_writes(checks: Checks, ledgers: list[Ledger], seeded: set = frozenset()):
    from timesheets.models import TimeEntry

    stored = {e["pk"]: e for e in TimeEntry.objects.values("pk", "minutes", "description")}
    by_description = defaultdict(list)
    for entry in stored.values():
        by_description[entry["description"]].append(entry)
    problems, known, acknowledged = [], set(), 0
    for ledger in ledgers:
        for entry_id, record in ledger.entries.items():
            known.add(entry_id)
            acknowledged += 1
            problems += entry_problems(ledger, entry_id, record, stored.get(entry_id))
        for description, minutes in ledger.unknown_creates.items():
            rows = by_description.get(description, [])
            known.update(row["pk"] for row in rows)
            if len(rows) > 1 or (rows and rows[0]["minutes"] != minutes):
                problems.append(f"unanswered log {description!r} is half there: {rows}")
    phantoms = sorted(set(stored) - known - seeded)  # seeded: logged before the load, by seed_run
    unknown = sum(len(ledger.unknown_creates) + len(ledger.maybe_deleted) + ledger.unknown_invoice_ops
                  + sum(1 for r in ledger.entries.values() if r["alternatives"]) for ledger in ledgers)
    checks.check(not problems and not phantoms,
                 f"every acknowledged write is in the database ({acknowledged} entries logged, "
                 f"{sum(len(ledger.deleted) for ledger in ledgers)} deleted); the {unknown} writes left unconfirmed "
                 f"(503 or no answer) are whole or absent; no entry nobody wrote",
                 problems + [f"unexplained entry {p}" for p in phantoms])


def entry_problems(ledger: Ledger, entry_id: int, record: dict, row: dict | None) -> list[str]:
    """Return what is wrong with an entry the server acknowledged, as stored (`row`, None when absent)."""
    allowed = [{"minutes": record["minutes"], "description": record["description"]}, *record["alternatives"]]
    if entry_id in ledger.deleted:
        return [f"entry {entry_id} deleted (204) but still there"] if row is not None else []
    if row is None:
        return [] if entry_id in ledger.maybe_deleted else [f"entry {entry_id} acknowledged but missing"]
    if {"minutes": row["minutes"], "description": row["description"]} not in allowed:
        return [f"entry {entry_id} is {row['minutes']} min {row['description']!r}, acknowledged {allowed}"]
    return []


def check_invoices(checks: Checks, ledgers: list[Ledger]):
    from invoicing.models import Invoice

    invoices = {i.pk: i for i in Invoice.objects.all()}
    check_acknowledged_invoices(checks, ledgers, invoices)
    check_whole_invoices(checks, invoices)
    check_billed_once(checks)
    check_invoiced_minutes(checks)
    check_numbers(checks, invoices)


def check_acknowledged_invoices(checks: Checks, ledgers: list[Ledger], invoices: dict):
    from invoicing.models import Invoice

    problems = []
    for ledger in ledgers:
        for invoice_id, info in ledger.invoices.items():
            invoice = invoices.get(invoice_id)
            if invoice is None or invoice.kind != info["kind"] or invoice.refers_id != info["refers"]:
                problems.append(f"acknowledged invoice {invoice_id} missing or changed")
        for invoice_id, number in ledger.posted.items():
            invoice = invoices.get(invoice_id)
            if invoice is None or invoice.state != Invoice.State.POSTED or invoice.number != number:
                problems.append(f"invoice {invoice_id} acknowledged posted as {number}, "
                                f"is {invoice and invoice.number}")
    checks.check(True, f"every acknowledged invoice, credit note and posting is there "
                       f"({sum(len(ledger.invoices) for ledger in ledgers)} created, "
                       f"{sum(len(ledger.posted) for ledger in ledgers)} posted)",
                 problems)


def check_whole_invoices(checks: Checks, invoices: dict):
    """No half-made invoice: lines, totals from the lines, and its audit events, all or nothing."""
    from django.db.models import Count, Sum

    from audit.models import AuditEvent
    from invoicing.models import Invoice, InvoiceLine
    from timesheets.models import TimeEntry

    sums = {row["invoice"]: row for row in InvoiceLine.objects.values("invoice").annotate(
        n=Count("pk"), untaxed=Sum("amount_untaxed"), tax=Sum("amount_tax"))}
    events = AuditEvent.objects.filter(object_type="invoicing.invoice")
    created = Counter(events.filter(action__in=[AuditEvent.Action.INVOICE_CREATED,
                                                AuditEvent.Action.CREDIT_NOTE_CREATED])
                      .values_list("object_id", flat=True))
    posted_events = Counter(events.filter(action=AuditEvent.Action.INVOICE_POSTED).values_list("object_id", flat=True))
    half = []
    for invoice in invoices.values():
        row = sums.get(invoice.pk)
        if row is None or row["n"] == 0:
            half.append(f"{invoice} has no lines")
        elif (row["untaxed"], row["tax"]) != (invoice.amount_untaxed, invoice.amount_tax) \
                or invoice.amount_total != invoice.amount_untaxed + invoice.amount_tax:
            half.append(f"{invoice} totals differ from its lines")
        if created[invoice.pk] != 1:
            half.append(f"{invoice} has {created[invoice.pk]} creation events")
        if (invoice.state == Invoice.State.POSTED) != (posted_events[invoice.pk] == 1):
            half.append(f"{invoice} is {invoice.state} with {posted_events[invoice.pk]} posting events")
    orphans = TimeEntry.objects.filter(invoice_line__isnull=False).exclude(
        invoice_line__invoice__in=list(invoices)).count()
    checks.check(True, f"no half-made invoice: all {len(invoices)} have lines, totals from their lines and their "
                       f"audit events; no entry linked to a vanished invoice",
                 half + ([f"{orphans} orphans"] if orphans else []))

    entry_events = set(AuditEvent.objects.filter(action=AuditEvent.Action.ENTRY_CREATED)
                       .values_list("object_id", flat=True))
    silent = sorted(set(TimeEntry.objects.values_list("pk", flat=True)) - entry_events)
    checks.check(True, "every stored time entry has its audit event", [f"entry {pk}" for pk in silent])


def check_billed_once(checks: Checks):
    from django.db.models import Count, F

    from invoicing.models import Invoice, InvoiceLine
    from timesheets.models import TimeEntry

    twice = list(TimeEntry.objects.filter(credit_lines__invoice__state=Invoice.State.POSTED,
                                          invoice_line__invoice=F("credit_lines__invoice__refers"))
                 .values_list("pk", flat=True))
    credited_twice = list(InvoiceLine.credited_timesheets.through.objects
                          .filter(invoiceline__invoice__state=Invoice.State.POSTED)
                          .values("timeentry", "invoiceline__invoice__refers").annotate(n=Count("pk"))
                          .filter(n__gt=1).values_list("timeentry", flat=True))
    checks.check(True, "no time entry is on two live invoices (nor still billed by an invoice that credited it back, "
                       "nor given back twice)", [f"entry {pk}" for pk in twice + credited_twice])


def check_invoiced_minutes(checks: Checks):
    """Invoiced = billed entries = what live invoices bill (DESIGN Rule 8).

    Recomputed here from the tables, with a sign of its own for credit notes: a check that
    called the app's own sums could not see them wrong.
    """
    from django.db.models import Sum

    from invoicing.models import Invoice, InvoiceLine
    from sales.models import SaleOrderLine, ServicePolicy
    from timesheets.models import TimeEntry

    live = [Invoice.State.DRAFT, Invoice.State.POSTED]
    billed = dict(TimeEntry.objects.filter(invoice_line__invoice__state__in=live, invoice_line__invoice__kind="invoice")
                  .values("sale_line").annotate(m=Sum("billable_minutes")).values_list("sale_line", "m"))
    invoiced_side = defaultdict(int)
    for sale_line, kind, minutes in (InvoiceLine.objects.filter(
            invoice__state__in=live).exclude(invoice__kind="credit_note", invoice__state="draft")
            .values("sale_line", "invoice__kind").annotate(m=Sum("minutes"))
            .values_list("sale_line", "invoice__kind", "m")):
        invoiced_side[sale_line] += -minutes if kind == "credit_note" else minutes
    mismatches = []
    lines = SaleOrderLine.objects.filter(product__service_policy=ServicePolicy.DELIVERED_TIMESHEET)
    for line in lines.values("pk", "invoiced_minutes"):
        entries_side = billed.get(line["pk"], 0)
        if not line["invoiced_minutes"] == entries_side == invoiced_side[line["pk"]]:
            mismatches.append(f"line {line['pk']}: stored {line['invoiced_minutes']}, billed entries {entries_side}, "
                              f"invoices {invoiced_side[line['pk']]}")
    checks.check(True, f"for every timesheet line ({lines.count()}): invoiced = billable minutes of its billed entries "
                       f"= minutes its live invoices bill less posted credit notes", mismatches)


def check_numbers(checks: Checks, invoices: dict):
    from invoicing.models import InvoiceSequence

    gaps = []
    numbered = defaultdict(list)
    for invoice in invoices.values():
        if invoice.number:
            prefix, year, sequence = invoice.number.split("/")
            numbered[(invoice.kind, int(year))].append(int(sequence))
    for (kind, year), sequences in sorted(numbered.items()):
        last = InvoiceSequence.objects.filter(kind=kind, year=year).values_list("last", flat=True).first()
        if sorted(sequences) != list(range(1, len(sequences) + 1)) or last != len(sequences):
            gaps.append(f"{kind} {year}: {len(sequences)} numbers, last {last}, gaps or duplicates")
    counts = ", ".join(f"{kind} {year}: 1..{len(s)}" for (kind, year), s in sorted(numbered.items()))
    checks.check(True, f"invoice and credit note numbers unique and gapless per year and kind ({counts})", gaps)


def check_billing(checks: Checks):
    result = subprocess.run([sys.executable, "manage.py", "check_billing"], cwd=ROOT, env=app_env(),
                            capture_output=True, text=True, timeout=300)
    output = (result.stdout + result.stderr).strip().splitlines()
    checks.check(result.returncode == 0, f"check_billing: {output[-1] if output else 'no output'}",
                 output[:-1] if result.returncode else [])


def check_answers(checks: Checks, answers: list[Answer], fault: str | None, faults: Faults, server: Servers):
    fives = [a for a in answers if a.status is not None and a.status >= 500]
    dropped = [a for a in answers if a.status is None]
    if fault == "restart-db":
        stopped, started = faults.outage or (0, 0)
        grace = (faults.recovered_after or 0) + 2
        # A 503 is the outage's if its request was in flight at some moment of it: sent before the database
        # came back (and reconnected), answered after it stopped (a slow request sent earlier counts).
        bad = [a for a in fives if a.status != 503 or not isinstance(a.body, dict) or "detail" not in a.body
               or not (a.at <= started + grace and a.at + a.seconds >= stopped)]
        checks.check(True, f"zero 5xx but the outage's: {len(fives)} answers 503 with a JSON message, all while the "
                           f"database was down ({stopped:.1f}s to {started:.1f}s) or reconnecting",
                     [f"{a.op} {a.status} at {a.at:.1f}s: {a.body}" for a in bad])
        checks.check(not dropped, f"no request dropped ({len(dropped)})", [a.body for a in dropped[:3]])
    elif fault == "kill-worker":
        checks.check(not fives, f"zero 5xx ({len(fives)}); {len(dropped)} requests cut by the killed workers",
                     [f"{a.op} {a.status}: {a.body}" for a in fives])
    else:
        checks.check(not fives and not dropped, f"zero 5xx ({len(fives)}) and no request dropped ({len(dropped)})",
                      [f"{a.op} {a.status}: {a.body}" for a in (fives + dropped)])
    if faults.failed:
        checks.check(False, "fault injection", faults.failed)
    tracebacks = server.tracebacks()
    checks.check(server.logged_before_load and tracebacks == 0,
                 f"no traceback in the server's logs ({tracebacks}); the app's log reaches them (a request with a "
                 f"Host it does not serve, sent before the load, left its line: {server.logged_before_load})")
    if fault == "kill-worker":
        checks.check(faults.kills_during_invoice_writes >= 1,
                     f"{faults.kills} workers SIGKILLed in {KILLS} rounds, {faults.kills_during_invoice_writes} of "
                     f"the rounds with an invoice write (create, post, credit) in flight; gunicorn replaced them")


def check_run(checks: Checks, driver: BillingDriver, workers: JobWorkers):
    """The billing run (--billing): every step done, every item done or refused with a reason, every order
    invoiced at most once by it, no invoice of it outside its items, no invoice sent twice."""
    from django_tasks_db.models import DBTaskResult

    from audit.models import AuditEvent
    from invoicing.models import Invoice, RunItem, RunStep

    if driver.failed:
        checks.check(False, "billing run", driver.failed)
    if driver.run_id is None:
        return
    steps = {step.kind: step for step in RunStep.objects.filter(run_id=driver.run_id)}
    undone = [f"{kind}: {steps[kind].state if kind in steps else 'missing'}" for kind in ("create", "post", "send")
              if kind not in steps or steps[kind].state != RunStep.State.DONE]
    checks.check(True, f"every step of billing run {driver.run_id} done (create, post, send)", undone)

    items = list(RunItem.objects.filter(step__run_id=driver.run_id).select_related("step"))
    counts = Counter((item.step.kind, item.state) for item in items)
    unsettled = [f"{item.step.kind} item of order {item.order_id}: {item.state} {item.reason!r}" for item in items
                 if not (item.state == RunItem.State.DONE
                         or (item.state == RunItem.State.REFUSED and item.reason.strip()))]
    summary = "; ".join(f"{kind} {counts[kind, 'done']} done, {counts[kind, 'refused']} refused"
                        for kind in ("create", "post", "send"))
    checks.check(True, f"every item done or refused with a reason ({summary})", unsettled)

    created = [item for item in items if item.step.kind == RunStep.Kind.CREATE]
    per_order = Counter(item.order_id for item in created)
    of_run = Counter(item.invoice_id for item in created if item.invoice_id)
    made = Invoice.objects.filter(created_by_id=driver.world["run_accountant"], kind=Invoice.Kind.INVOICE)
    by_order = Counter(made.values_list("sale_order_id", flat=True))
    problems = [f"order {pk}: {n} items" for pk, n in per_order.items() if n != 1]
    problems += [f"order {pk} is not in the run" for pk in set(per_order) - set(driver.world["run_orders"])]
    problems += [f"order {pk} is missing from the run" for pk in set(driver.world["run_orders"]) - set(per_order)]
    problems += [f"order {pk}: {n} invoices from the run" for pk, n in by_order.items() if n > 1]
    problems += [f"invoice {pk} is on {n} items" for pk, n in of_run.items() if n > 1]
    outside = sorted(set(made.values_list("pk", flat=True)) - set(of_run))
    problems += [f"invoice {pk} of the run's accountant is on no item (a killed job's?)" for pk in outside]
    problems += [f"done item of order {item.order_id} has no invoice" for item in created
                 if item.state == RunItem.State.DONE and not item.invoice_id]
    checks.check(True, f"every order of the run ({len(per_order)}) invoiced at most once by it: "
                       f"{len(of_run)} invoices, each on one item of its own order, none outside the items",
                 problems)

    posted = {item.invoice_id for item in items if item.step.kind == RunStep.Kind.POST
              and item.state == RunItem.State.DONE}
    not_posted = list(Invoice.objects.filter(pk__in=posted).exclude(state=Invoice.State.POSTED)
                      .values_list("pk", flat=True))
    sent = Counter(AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_SENT, object_type="invoicing.invoice",
                                             changes__billing_run=driver.run_id).values_list("object_id", flat=True))
    sent_items = {item.invoice_id for item in items if item.step.kind == RunStep.Kind.SEND
                  and item.state == RunItem.State.DONE}
    problems = [f"invoice {pk} posted by the run is {Invoice.objects.get(pk=pk).state}" for pk in not_posted]
    problems += [f"invoice {pk} sent {n} times" for pk, n in sent.items() if n > 1]
    problems += [f"invoice {pk}: sending done without its audit event" for pk in sent_items - set(sent)]
    checks.check(True, f"the run's posted invoices are posted ({len(posted)}); each sent at most once, every sending "
                       f"in the audit log ({sum(sent.values())} sent)", problems)

    jobs = Counter(DBTaskResult.objects.values_list("task_path", "status"))
    failed = list(DBTaskResult.objects.filter(status="FAILED").exclude(
        exception_class_path="invoicing.runs.WorkerLost").values_list("task_path", "exception_class_path"))
    driver.events.append("jobs: " + ", ".join(f"{path.rsplit('.', 1)[-1]} {status}: {n}"
                                              for (path, status), n in sorted(jobs.items())))
    resumed = workers.logs().count("its worker was lost; resuming it")  # invoicing.runs._resume's warning
    killed = list(DBTaskResult.objects.filter(task_path="invoicing.tasks.work_step",
                                              worker_ids__contains=[driver.killed or ""])
                  .values_list("status", flat=True))
    driver.events.append(f"job workers: {', '.join(workers.processes)}; the killed worker's job ended {killed}; "
                         f"steps resumed by a sweeper after JOB_STALL_SECONDS: {resumed}")
    tracebacks = workers.tracebacks()
    checks.check(not failed and tracebacks == 0,
                 f"no job failed but those of the killed worker (marked WorkerLost), no traceback in the job workers' "
                 f"logs ({tracebacks})", failed)


# --- Report ---------------------------------------------------------------------------------------

def report(args, answers: list[Answer], elapsed: float, checks: Checks, faults: Faults, server: Servers,
           driver: "BillingDriver | None" = None):
    answered = [a for a in answers if a.status is not None]
    latencies = [a.seconds * 1000 for a in answered]
    print()
    print(f"=== Load test: {args.clients} clients, {elapsed:.1f} s, {args.servers} x gunicorn {args.workers} workers x "
          f"{args.threads} threads, fault: {args.fault or 'none'}"
          f"{', billing run with 2 job workers, one SIGKILLed' if args.billing else ''} ===")
    print(f"requests: {len(answers)} ({len(answers) / elapsed:.1f}/s), answered {len(answered)}, "
          f"p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms")
    statuses = Counter(a.status for a in answers)
    print("status codes: " + ", ".join(f"{'no answer' if s is None else s}: {n}" for s, n in
                                       sorted(statuses.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))))
    refusals = Counter(a.status for a in answers if a.status in (400, 404, 409))
    print(f"expected refusals: {refusals.get(409, 0)} x 409 (invoiced time, posted twice), "
          f"{refusals.get(400, 0)} x 400 (nothing to invoice or credit), {refusals.get(404, 0)} x 404")
    print(f"{'operation':<16}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}  answers")
    by_op = defaultdict(list)
    for a in answers:
        by_op[a.op].append(a)
    for op in [*dict(MIX), *sorted(set(by_op) - set(dict(MIX)))]:  # then the billing run's requests, if any
        rows = by_op.get(op, [])
        times = [a.seconds * 1000 for a in rows if a.status is not None]
        codes = ", ".join(f"{'-' if s is None else s}:{n}" for s, n in sorted(
            Counter(a.status for a in rows).items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))
        print(f"{op:<16}{len(rows):>9}{percentile(times, 50):>9.0f}{percentile(times, 99):>9.0f}  {codes}")
    for event in faults.events:
        print(f"fault: {event}")
    for event in (driver.events if driver else []):
        print(f"billing: {event}")
    logged = server.errors_logged()
    if logged:
        print(f"server log: {len(logged)} error lines, e.g.:")
        for line in sorted(set(logged), key=logged.index)[:5]:
            print(f"  {line[:200]}")
    print("invariants:")
    for ok, text in checks.results:
        print(f"  [{'PASS' if ok else 'FAIL'}] {text}")
    print(f"RESULT: {'PASS' if checks.passed else 'FAIL'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fault", choices=["kill-worker", "restart-db"], default=None)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers per server (default 3; "
                        "2 with --billing, whose two servers share the machine with two job workers)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--max-requests", type=int, default=20_000, help="per client, a bound besides the duration")
    parser.add_argument("--billing", action="store_true",
                        help="two gunicorn servers and two `manage.py worker` processes: a billing run started, "
                             "posted and sent through the API while the agents log time, one job worker SIGKILLed "
                             "in the middle of it and another started")
    parser.add_argument("--run-orders", type=int, default=200, help="orders of the billing run (--billing)")
    parser.add_argument("--run-entries", type=int, default=2, help="entries seeded per run order (--billing)")
    parser.add_argument("--run-jobs", type=int, default=None,
                        help="RUN_JOBS_PER_STEP for the app (--billing; default: the app's own)")
    args = parser.parse_args()
    args.servers = 2 if args.billing else 1
    args.workers = args.workers or (2 if args.billing else 3)
    if "DATABASE_URL" not in os.environ or "HB_PGDATA" not in os.environ:
        raise SystemExit("Run through scripts/with-postgres.sh (make loadtest): it starts the database.")
    if args.billing:
        # A lost job worker's step is resumed after this long (README, Reliability): seconds, not a minute.
        os.environ["JOB_STALL_SECONDS"] = "5"
        if args.run_jobs:
            os.environ["RUN_JOBS_PER_STEP"] = str(args.run_jobs)
    with tempfile.TemporaryDirectory(prefix="hb-loadtest.") as folder:
        # As a deployment does (README, Deploy): migrate, and collect the static files (DEBUG is off: pages
        # link their hashed names) into the folder the server serves them from. Stored PDFs go there too.
        os.environ["STATIC_ROOT"] = str(Path(folder) / "static")
        os.environ["MEDIA_ROOT"] = str(Path(folder) / "media")
        os.environ.update(app_env())
        for command in (["migrate", "--no-input"], ["collectstatic", "--no-input"]):
            subprocess.run([sys.executable, "manage.py", *command, "-v", "0"], cwd=ROOT, check=True, env=app_env())
        import django

        django.setup()
        from django.db import connections

        world = seed(clients=args.clients, accountants=max(1, args.clients // 4))
        if args.billing:
            world.update(seed_run(orders=args.run_orders, entries=args.run_entries))
        connections.close_all()
        print(f"seeded: {len(world['orders'])} orders, {len(world['tickets'])} tickets, {args.clients} agents, "
              f"{len(world['accountants'])} accountants"
              + (f"; the run's {len(world['run_orders'])} orders with {len(world['seeded'])} entries"
                 if args.billing else ""), flush=True)

        ports = [free_port() for _ in range(args.servers)]
        server = Servers([Server(port=port, workers=args.workers, threads=args.threads, folder=Path(folder),
                                 name="gunicorn" if args.servers == 1 else f"gunicorn-{n + 1}")
                          for n, port in enumerate(ports)])
        jobs = JobWorkers(Path(folder), app_env())

        def give_up(*_):
            print("loadtest: hard deadline reached, stopping", file=sys.stderr, flush=True)
            server.kill()
            for worker_id in jobs.alive():
                jobs.kill(worker_id)
            os._exit(3)

        # A hard deadline: whatever happens, the run ends, and takes gunicorn and the job workers with it.
        signal.signal(signal.SIGALRM, give_up)
        signal.signal(signal.SIGTERM, give_up)
        signal.alarm(int(args.duration) + 600)
        try:
            passed = run(args, world, server, jobs)
        finally:
            jobs.stop()
            server.stop()
    sys.exit(0 if passed else 1)


def run(args, world, server: Servers, jobs: JobWorkers) -> bool:
    """Start the servers (and job workers), run the clients and the fault, check the invariants, print the report."""
    from django.db import connections

    server.start()
    server.logged_before_load = server.log_is_read()
    print(f"gunicorn on {HOST}:{', '.join(map(str, server.ports))}, {args.workers} workers x {args.threads} threads"
          f"{' each' if args.servers > 1 else ''}; {args.duration:.0f} s of load...", flush=True)
    if args.billing:
        for _ in range(2):
            jobs.start()
    tickets = world["tickets"] + world.get("run_tickets", [])  # with --billing, half the logs land on run orders
    shared, started = Shared(), time.monotonic()
    clients = [Client(n, port=server.ports[n % len(server.ports)], agent_token=world["agents"][n],
                      accountant_token=world["accountants"][n % len(world["accountants"])],
                      tickets=tickets, orders=world["orders"], shared=shared, started=started,
                      max_requests=args.max_requests) for n in range(args.clients)]
    faults = Faults(args.fault, server=server, shared=shared, started=started, duration=args.duration)
    driver = BillingDriver(servers=server, shared=shared, started=started, world=world, workers=jobs,
                           start_at=args.duration * 0.15, kill_at=0.25, step_timeout=300) if args.billing else None
    for thread in [*clients, faults, *([driver] if driver else [])]:
        thread.start()
    while time.monotonic() - started < args.duration and any(c.is_alive() for c in clients):
        time.sleep(0.1)
    shared.stop.set()
    for thread in [*clients, faults]:
        thread.join(timeout=60)
    elapsed = time.monotonic() - started
    if driver:  # the run goes on after the load if it must: its steps are followed until done
        driver.join(timeout=3 * 300 + 60)
        jobs.stop()
    # Whatever a fault left, the app is healthy again before the checks.
    for _ in range(100):
        if server.healthz()[0] == 200:
            break
        time.sleep(0.1)

    checks = Checks()
    ledgers = [client.ledger for client in clients]
    check_answers(checks, shared.answers, args.fault, faults, server)
    connections.close_all()
    check_writes(checks, ledgers, world.get("seeded", set()))
    check_invoices(checks, ledgers)
    check_billing(checks)
    if driver:
        check_run(checks, driver, jobs)
    report(args, shared.answers, elapsed, checks, faults, server, driver)
    return checks.passed


if __name__ == "__main__":
    main()
