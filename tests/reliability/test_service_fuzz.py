"""Every billing service at once from several threads, in seeded random rounds.

Each round, four workers (each with its own database connection) run one random service call
at the same instant: log (with a random work type), edit, change an entry's work type, delete, set a
line by hand, relink a ticket's or a task's Sales Order Item, link or unlink a task, move a ticket to
the other customer, toggle a team's Time Reinvoicing, set an order's rates by agent and by work type,
switch a work type's billing, change a product's rounding, increment and minimum, Create Invoice with
or without a period, remove entries from a draft, cancel, post, credit in full or some entries, register
a payment or a refund (some of the balance, all of it, or more) and reverse one.
Refusals (ValidationError, Conflict) are answers; anything else (a deadlock, an integrity error) fails.
After every round the stored figures match the entries (`billing_drift`, what check_billing
runs: rounding and charges per ticket included, and every document's balance against its payments and
credit notes) and every entry bills the line Rules 4 and 13 give it
(`misplaced`).
"""

import datetime
import os
import random
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, models

from audit.models import AuditEvent
from invoicing.models import Invoice, Payment, TicketCharge
from invoicing.payments import payment_register, payment_reverse
from invoicing.selectors import billing_drift
from invoicing.services import (
    invoice_cancel,
    invoice_create_from_order,
    invoice_credit_note,
    invoice_post,
    invoice_remove_timesheets,
    invoice_write_off,
)
from projects.models import Task
from projects.services import task_set_sale_line
from sales.models import Product, Rounding, SaleOrderLine, WorkType
from sales.services import product_save, work_type_save
from tickets.models import HelpdeskTeam, Ticket
from tickets.services import team_save, ticket_link_task, ticket_set_customer, ticket_set_sale_line
from timesheets.approval import timesheet_reinstate, timesheets_approve, timesheets_reject
from timesheets.models import TimeEntry
from timesheets.rates import order_rates_set
from timesheets.services import timesheet_delete, timesheet_log, timesheet_update

from ..conftest import requires_postgres
from ..factories import CustomerFactory, TaskFactory, TicketFactory, UserFactory, confirmed_line, days_ago
from ..placement import misplaced

# Another seed explores other interleavings: FUZZ_SEED=7 make test PYTEST_ARGS=tests/reliability/test_service_fuzz.py
SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
ROUNDS = 300
WORKERS = 4


def pick(rng, queryset):
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    return queryset.model.objects.get(pk=rng.choice(ids)) if ids else None


def some_line(rng, lines):
    return rng.choice([*lines, None])


def some_work_type(rng):
    """A work type, or None: the team's default (no work type on a task without a ticket)."""
    return pick(rng, WorkType.objects.all()) if rng.random() < 0.5 else None


def log(rng, world):
    on_task = rng.random() < 0.3
    target = {"task": rng.choice(world["tasks"])} if on_task else {"ticket": pick(rng, Ticket.objects.all())}
    by_hand = rng.choice(world["lines"]) if rng.random() < 0.15 else None
    timesheet_log(user=rng.choice(world["agents"]), date=days_ago(rng.randrange(10)),
                  minutes=rng.randrange(1, 181), sale_line=by_hand, work_type=some_work_type(rng), **target)


def edit(rng, world):
    if entry := pick(rng, TimeEntry.objects.all()):
        timesheet_update(entry=entry, minutes=rng.randrange(1, 181), date=days_ago(rng.randrange(10)))


def retype(rng, world):
    if entry := pick(rng, TimeEntry.objects.all()):
        timesheet_update(entry=entry, work_type=some_work_type(rng))


def set_line_by_hand(rng, world):
    if entry := pick(rng, TimeEntry.objects.all()):
        timesheet_update(entry=entry, sale_line=some_line(rng, world["lines"]))


def delete(rng, world):
    if entry := pick(rng, TimeEntry.objects.all()):
        timesheet_delete(entry=entry)


def relink_ticket_line(rng, world):
    ticket_set_sale_line(ticket=pick(rng, Ticket.objects.all()), sale_line=some_line(rng, world["lines"]))


def relink_task_line(rng, world):
    task_set_sale_line(task=pick(rng, Task.objects.all()), sale_line=some_line(rng, world["lines"]))


def link_task(rng, world):
    ticket_link_task(ticket=pick(rng, Ticket.objects.all()), task=rng.choice([*world["tasks"], None]))


def move_customer(rng, world):
    ticket = pick(rng, Ticket.objects.all())
    customer = rng.choice([c for c in world["customers"] if c.pk != ticket.customer_id])
    its_lines = [line for line in world["lines"] if line.order.customer_id == customer.pk]
    ticket_set_customer(ticket=ticket, customer=customer, sale_line=rng.choice(its_lines))


def toggle_reinvoicing(rng, world):
    team = HelpdeskTeam.objects.get(pk=world["team"].pk)
    team.time_reinvoicing = not team.time_reinvoicing
    team_save(team=team)


def set_rates(rng, world):
    """Replace an order's rates: some agents and work types, each to a line of that order, or none."""
    order = rng.choice(world["orders"])
    lines = [line for line in world["lines"] if line.order_id == order.pk]
    agents = rng.sample(world["agents"], rng.randrange(len(world["agents"]) + 1))
    kinds = rng.sample(world["work_types"], rng.randrange(len(world["work_types"]) + 1))
    order_rates_set(order=order, agent_rates=[{"user": a, "sale_line": rng.choice(lines)} for a in agents],
                    work_type_rates=[{"work_type": k, "sale_line": rng.choice(lines)} for k in kinds]
                    if rng.random() < 0.7 else None, actor=world["manager"])


def switch_billing(rng, world):
    work_type = pick(rng, WorkType.objects.all())
    work_type.billing = rng.choice(WorkType.Billing.values)
    work_type_save(work_type=work_type, actor=world["manager"])


def change_rounding(rng, world):
    product = Product.objects.get(pk=rng.choice(world["lines"]).product_id)
    product.rounding = rng.choice(Rounding.values)
    product.billing_increment_minutes = rng.choice([1, 5, 15, 60])
    product.minimum_minutes = rng.choice([0, 0, 15, 30])
    product_save(product=product, actor=world["manager"])


def create_invoice(rng, world):
    start = days_ago(rng.randrange(10)) if rng.random() < 0.5 else None
    end = start + datetime.timedelta(days=rng.randrange(5)) if start and rng.random() < 0.5 else None
    invoice_create_from_order(order=rng.choice(world["orders"]), period_start=start, period_end=end)


def remove_from_draft(rng, world):
    if draft := pick(rng, Invoice.objects.filter(state=Invoice.State.DRAFT, kind=Invoice.Kind.INVOICE)):
        ids = list(TimeEntry.objects.filter(invoice_line__invoice=draft).values_list("pk", flat=True))
        invoice_remove_timesheets(invoice=draft, entry_ids=rng.sample(ids, min(len(ids), rng.randrange(1, 3))))


def cancel(rng, world):
    if draft := pick(rng, Invoice.objects.filter(state=Invoice.State.DRAFT)):
        invoice_cancel(invoice=draft)


def post(rng, world):
    if draft := pick(rng, Invoice.objects.filter(state=Invoice.State.DRAFT)):
        invoice_post(invoice=draft)


def credit(rng, world):
    if posted := pick(rng, Invoice.objects.filter(state=Invoice.State.POSTED, kind=Invoice.Kind.INVOICE)):
        ids = list(TimeEntry.objects.filter(invoice_line__invoice=posted).values_list("pk", flat=True))
        some = rng.sample(ids, min(len(ids), 2)) if ids and rng.random() < 0.5 else None
        invoice_credit_note(invoice=posted, entry_ids=some)


def credit_some(rng, world):
    """A partial credit note, posted: it gives back some entries of a ticket whose charge may still cover
    the rest (Rule 14), and frees them to bill again."""
    if posted := pick(rng, Invoice.objects.filter(state=Invoice.State.POSTED, kind=Invoice.Kind.INVOICE)):
        ids = list(TimeEntry.objects.filter(invoice_line__invoice=posted).values_list("pk", flat=True))
        if ids:
            note = invoice_credit_note(invoice=posted, entry_ids=rng.sample(ids, rng.randrange(1, len(ids) + 1)))
            invoice_post(invoice=note)


def pay(rng, world):
    """Some of a posted document's balance, all of it, or more (refused): an invoice, or a note's refund."""
    if doc := pick(rng, Invoice.objects.filter(state=Invoice.State.POSTED, amount_residual__gt=0)):
        share = rng.choice([Decimal("0.5"), Decimal("1"), Decimal("1.1")])
        amount = (doc.amount_residual * share).quantize(Decimal("0.01")) or Decimal("1.00")
        payment_register(invoice=doc, amount=amount, reference="fuzz")


def reverse(rng, world):
    if payment := pick(rng, Payment.objects.filter(reverses=None, reversal=None)):
        payment_reverse(payment=payment, reason="Returned by the bank")


def approve(rng, world):
    ids = list(TimeEntry.objects.exclude(approval="approved").order_by("pk").values_list("pk", flat=True))
    if ids:
        timesheets_approve(ids=rng.sample(ids, min(len(ids), rng.randrange(1, 4))), actor=world["manager"])


def reject(rng, world):
    ids = list(TimeEntry.objects.filter(invoice_line=None).order_by("pk").values_list("pk", flat=True))
    if ids:
        timesheets_reject(ids=rng.sample(ids, 1), reason="Which ticket?", actor=world["manager"])


def toggle_policy(rng, world):
    team = HelpdeskTeam.objects.get(pk=world["team"].pk)
    team.invoiced_timesheets = "all" if team.invoiced_timesheets == "approved" else "approved"
    team_save(team=team)


def write_off(rng, world):
    if draft := pick(rng, Invoice.objects.filter(state=Invoice.State.DRAFT, kind=Invoice.Kind.INVOICE)):
        ids = list(TimeEntry.objects.filter(invoice_line__invoice=draft).values_list("pk", flat=True))
        invoice_write_off(invoice=draft, entry_ids=rng.sample(ids, min(len(ids), 1)), reason="Goodwill")


def reinstate(rng, world):
    if entry := pick(rng, TimeEntry.objects.filter(written_off=True)):
        timesheet_reinstate(entry=entry)


# Weighted like a support company's day: mostly logging and editing, now and then the rest.
OPERATIONS = [(log, 6), (edit, 2), (retype, 1), (set_line_by_hand, 1), (delete, 1), (relink_ticket_line, 2),
              (relink_task_line, 1), (link_task, 1), (move_customer, 1), (toggle_reinvoicing, 1),
              (set_rates, 1), (switch_billing, 1), (change_rounding, 1),
              (create_invoice, 2), (remove_from_draft, 1), (cancel, 1), (post, 2), (credit, 1), (credit_some, 1),
              (approve, 2), (reject, 1), (toggle_policy, 1), (write_off, 1), (reinstate, 1), (pay, 3), (reverse, 1)]


class Workers:
    """Threads that each run one call per round, released together, on connections they keep."""

    def __init__(self, count, world):
        self.world, self.jobs, self.errors = world, [None] * count, []
        self.start, self.done = threading.Barrier(count + 1), threading.Barrier(count + 1)
        self.threads = [threading.Thread(target=self.work, args=(i,), daemon=True) for i in range(count)]
        for thread in self.threads:
            thread.start()

    def work(self, i):
        try:
            while True:
                self.start.wait()
                job = self.jobs[i]
                if job is None:
                    return
                operation, rng = job
                try:
                    operation(rng, self.world)
                except ValidationError:  # a refusal (Conflict too): an answer, not a failure
                    pass
                except Exception as error:
                    self.errors.append(f"{operation.__name__}: {error!r}")
                self.done.wait()
        finally:
            connections.close_all()

    def round(self, jobs):
        self.jobs = jobs
        self.start.wait()
        self.done.wait()

    def stop(self):
        self.jobs = [None] * len(self.threads)
        self.start.wait()
        for thread in self.threads:
            thread.join()


def build_world():
    """Two customers, each with a confirmed order of two timesheet lines (each of its own product); three
    tickets of one team, whose default work type is one of four (billable, billable, non-billable, no charge)."""
    first = confirmed_line()
    other = confirmed_line(order__customer=CustomerFactory())
    lines = [first, confirmed_line(order=first.order), other, confirmed_line(order=other.order)]
    customers = [first.order.customer, other.order.customer]
    team_ticket = TicketFactory(customer=customers[0], sale_line=first)
    team = team_ticket.team
    tickets = [team_ticket, TicketFactory(team=team, customer=customers[0], sale_line=lines[1]),
               TicketFactory(team=team, customer=customers[1], sale_line=other)]
    tasks = [TaskFactory(project=team.project, customer=customer) for customer in (*customers, customers[0])]
    agents = [UserFactory() for _ in range(4)]
    work_types = [WorkType.objects.create(name=name, billing=billing) for name, billing in (
        ("Remote support", "billable"), ("On-site", "billable"), ("Internal", "non_billable"),
        ("Goodwill", "no_charge"))]
    team.default_work_type = work_types[0]
    team_save(team=team)
    for ticket in tickets:
        timesheet_log(user=agents[0], date=days_ago(5), minutes=30, ticket=ticket)
    return {"orders": [first.order, other.order], "lines": lines, "customers": customers, "team": team,
            "tasks": tasks, "agents": agents, "work_types": work_types, "manager": UserFactory()}


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_random_services_from_four_threads_keep_every_figure_and_placement():
    world = build_world()
    operations, weights = zip(*OPERATIONS)
    workers = Workers(WORKERS, world)
    problems = []
    try:
        for n in range(ROUNDS):
            rng = random.Random(SEED + n)
            chosen = rng.choices(operations, weights, k=WORKERS)
            workers.round([(op, random.Random(rng.random())) for op in chosen])
            drift = [str(d) for d in billing_drift()] + misplaced()
            if workers.errors or drift:
                problems = [f"round {n} ({', '.join(op.__name__ for op in chosen)})", *workers.errors, *drift]
                break
    finally:
        workers.stop()
    assert "\n".join(problems) == ""
    # The rounds did what they are for: time was logged, billed, posted, credited and relinked.
    assert TimeEntry.objects.count() > 100
    assert Invoice.objects.filter(state=Invoice.State.POSTED, kind=Invoice.Kind.INVOICE).exists()
    assert Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).exists()
    lines = SaleOrderLine.objects.filter(pk__in=[line.pk for line in world["lines"]])
    assert lines.filter(delivered_minutes__gt=0).count() > 1
    # ...and rates, work types and rules changed under them, and tickets were charged per ticket.
    for action in (AuditEvent.Action.ORDER_RATES_CHANGED, AuditEvent.Action.WORK_TYPE_CHANGED,
                   AuditEvent.Action.PRODUCT_RULE_CHANGED):
        assert AuditEvent.objects.filter(action=action).exists(), action
    assert TicketCharge.objects.filter(billed__gt=models.F("minutes")).exists()
    # ...and invoices were paid, and payments reversed.
    assert Payment.objects.filter(reverses=None).count() > Payment.objects.exclude(reverses=None).count() > 0
