"""The billing run (DESIGN Rule 16), its jobs run in this process (tests/jobs.py): To Invoice's
figures, Create Invoices, Post and Send by email, refusals, overlapping runs, resumes.

Real worker processes, killed mid-run, are in test_run_workers.py."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from audit.models import AuditEvent
from core.errors import Conflict
from invoicing.models import BillingRun, Invoice, RunItem, RunStep
from invoicing.runs import run_post, run_send, run_start, runs_recover, stalled, step_progress, step_resume
from invoicing.selectors import orders_to_invoice
from invoicing.services import invoice_create_from_order
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, ProductFactory, SaleOrderFactory, TicketFactory, confirmed_line, days_ago
from ..jobs import queued, run_jobs


def billed(line, agent, *minutes_days):
    """Log (minutes, days ago) entries on a ticket billed to `line`; return the ticket."""
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    for minutes, days in minutes_days:
        timesheet_log(user=agent, date=days_ago(days), minutes=minutes, ticket=ticket)
    return ticket


@pytest.fixture
def three_orders(agent):
    """Three customers' orders at 90/h: 1:30 + 0:45 (10 and 2 days ago), 2:00 (5 days ago), none."""
    lines = [confirmed_line(price_unit=90, order__customer=CustomerFactory(name=name, email=email))
             for name, email in (("Acme", "billing@acme.example"), ("Globex", "ap@globex.example"),
                                 ("Initech", ""))]
    billed(lines[0], agent, (90, 10), (45, 2))
    billed(lines[1], agent, (120, 5))
    return lines


def progress(run, kind=RunStep.Kind.CREATE):
    return step_progress(run.steps.get(kind=kind))


def test_to_invoice_lists_orders_with_something_to_invoice_up_to_the_period_end(three_orders):
    acme, globex, nothing = three_orders
    rows = orders_to_invoice()
    assert [(row["order"], row["minutes"], row["amount"]) for row in rows] == [
        (acme.order, 135, Decimal("202.50")), (globex.order, 120, Decimal("180.00"))]
    # Up to a week ago: only Acme's first entry and Globex's.
    rows = orders_to_invoice(period_end=days_ago(5))
    assert [(row["order"], row["minutes"], row["amount"]) for row in rows] == [
        (acme.order, 90, Decimal("135.00")), (globex.order, 120, Decimal("180.00"))]
    assert [row["order"] for row in orders_to_invoice(customer=globex.order.customer)] == [globex.order]
    # A prepaid line bills its ordered quantity: it is listed too.
    prepaid = confirmed_line(quantity=10, price_unit=80, product=ProductFactory(service_policy="ordered_prepaid"))
    [row] = orders_to_invoice(order_ids=[prepaid.order_id])
    assert (row["lines"][0]["quantity"], row["amount"]) == (Decimal("10.00"), Decimal("800.00"))


def test_a_run_creates_one_invoice_per_order_then_posts_and_sends_them(three_orders, accountant):
    acme, globex, _ = three_orders
    run = run_start(period_end=days_ago(1), actor=accountant)
    assert progress(run) == {"total": 2, "done": 0, "refused": 0, "finished": 0, "percent": 0}
    # A job per order, up to RUN_JOBS_PER_STEP: as many workers may share the run.
    assert queued("invoicing.tasks.work_step") == [[run.steps.get().pk]] * 2

    run_jobs()
    assert progress(run) == {"total": 2, "done": 2, "refused": 0, "finished": 2, "percent": 100}
    assert run.steps.get().state == RunStep.State.DONE
    invoices = {item.order_id: item.invoice for item in RunItem.objects.filter(step__run=run)}
    assert invoices[acme.order_id].amount_untaxed == Decimal("202.50")  # 2:15 at 90
    assert invoices[globex.order_id].amount_untaxed == Decimal("180.00")
    assert {i.state for i in invoices.values()} == {Invoice.State.DRAFT}
    assert invoices[acme.order_id].period_end == days_ago(1)

    run_post(run=run, actor=accountant)
    run_jobs()  # posts both, then renders their PDFs (jobs the posting queued)
    assert progress(run, RunStep.Kind.POST)["done"] == 2
    for invoice in invoices.values():
        invoice.refresh_from_db()
        assert invoice.state == Invoice.State.POSTED and invoice.number and invoice.pdf

    run_send(run=run, actor=accountant)
    run_jobs()
    assert progress(run, RunStep.Kind.SEND)["done"] == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["ap@globex.example", "billing@acme.example"]
    for message in mail.outbox:
        [(name, data, kind)] = message.attachments
        assert kind == "application/pdf" and data.startswith(b"%PDF-")
    sent = AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_SENT)
    assert sent.count() == 2 and {event.changes["billing_run"] for event in sent} == {run.pk}
    assert sent.first().actor == accountant


def test_an_order_with_nothing_left_is_refused_with_its_reason(three_orders, accountant):
    acme, globex, nothing = three_orders
    invoice_create_from_order(order=globex.order)  # invoiced by hand meanwhile
    run = run_start(order_ids=[acme.order_id, globex.order_id, nothing.order_id], actor=accountant)
    run_jobs()
    items = {item.order_id: item for item in RunItem.objects.filter(step__run=run)}
    assert items[acme.order_id].state == RunItem.State.DONE
    assert items[globex.order_id].state == items[nothing.order_id].state == RunItem.State.REFUSED
    assert items[globex.order_id].reason == f"There is nothing to invoice on {globex.order.name}."
    assert progress(run) == {"total": 3, "done": 1, "refused": 2, "finished": 3, "percent": 100}


def test_two_overlapping_runs_invoice_each_order_once(three_orders, accountant, manager):
    acme, globex, _ = three_orders
    first = run_start(actor=accountant)
    second = run_start(actor=manager)  # before the first has done anything
    run_jobs()
    assert Invoice.objects.filter(sale_order=acme.order).count() == 1
    assert Invoice.objects.filter(sale_order=globex.order).count() == 1
    assert progress(first)["done"] + progress(second)["done"] == 2
    assert progress(second)["refused"] == 2  # the first run's job ran first


def test_a_run_refuses_bad_input_and_changes_nothing(three_orders, accountant):
    quotation = SaleOrderFactory()
    with pytest.raises(ValidationError, match=f"These are not confirmed sales orders: {quotation.pk}, 999999."):
        run_start(order_ids=[quotation.pk, 999999], actor=accountant)
    with pytest.raises(ValidationError, match="Choose at least one order"):
        run_start(order_ids=[], actor=accountant)
    with pytest.raises(ValidationError, match="There is nothing to invoice up to"):
        run_start(period_end=days_ago(30), actor=accountant)
    with pytest.raises(ValidationError, match="Enter a valid date"):
        run_start(period_end="2026-01-01", actor=accountant)
    assert not BillingRun.objects.exists() and not DBTaskResult.objects.exists()


def test_post_and_send_wait_for_their_turn(three_orders, accountant):
    run = run_start(actor=accountant)
    with pytest.raises(Conflict, match="still creating its invoices"):
        run_post(run=run)
    run_jobs()
    with pytest.raises(ValidationError, match="no posted invoices to send: post them first"):
        run_send(run=run)
    run_post(run=run)
    with pytest.raises(Conflict, match="already has its “Post” step"):
        run_post(run=run)
    with pytest.raises(Conflict, match="still posting"):
        run_send(run=run)
    run_jobs()
    run_send(run=run)
    run_jobs()
    with pytest.raises(Conflict, match="already has its “Send by email” step"):
        run_send(run=run)


def test_a_customer_without_billing_email_is_refused_the_others_are_sent(three_orders, accountant):
    acme, globex, _ = three_orders
    globex.order.customer.email = ""
    globex.order.customer.save()
    run = run_start(actor=accountant)
    run_jobs()
    run_post(run=run)
    run_jobs()
    run_send(run=run)
    run_jobs()
    item = RunItem.objects.get(step__run=run, step__kind=RunStep.Kind.SEND, order=globex.order)
    assert item.state == RunItem.State.REFUSED
    assert item.reason == f"{globex.order.customer} has no billing email: add one to the customer first."
    assert [message.to for message in mail.outbox] == [["billing@acme.example"]]


def test_a_killed_job_is_resumed_and_finishes_what_is_left_once(three_orders, accountant, settings):
    """What a SIGKILL leaves: a step running, its job RUNNING for ever, an item half done (rolled back, so
    pending). A resume enqueues a new job, marks the lost one failed, and the run ends with each order once."""
    acme, globex, _ = three_orders
    run = run_start(actor=accountant)
    step = run.steps.get()
    # The lost worker had claimed the job and done Acme's order, then died.
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now())
    RunStep.objects.filter(pk=step.pk).update(state=RunStep.State.RUNNING)
    item = step.items.get(order=acme.order)
    item.invoice = invoice_create_from_order(order=acme.order)
    item.state = RunItem.State.DONE
    item.save()

    assert runs_recover() == []  # it has not been silent long enough
    later = timezone.now() + datetime.timedelta(seconds=settings.JOB_STALL_SECONDS + 1)
    step.refresh_from_db()
    assert stalled(step, now=later)
    assert runs_recover(now=later) == [step.pk]
    assert runs_recover(now=later) == []  # one resume per stall
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"FAILED", "READY"}
    run_jobs()
    assert progress(run) == {"total": 2, "done": 2, "refused": 0, "finished": 2, "percent": 100}
    assert Invoice.objects.filter(sale_order=acme.order).count() == 1
    assert Invoice.objects.filter(sale_order=globex.order).count() == 1


def test_an_interrupted_sending_is_never_sent_again_blindly(three_orders, accountant, settings):
    run = run_start(actor=accountant)
    run_jobs()
    run_post(run=run)
    run_jobs()
    step = run_send(run=run)
    # A worker died with Acme's message taken (maybe gone out), and after Globex's was sent and logged.
    acme, globex, _ = three_orders
    RunItem.objects.filter(step=step, order=acme.order).update(state=RunItem.State.SENDING)
    from invoicing.mail import invoice_send
    invoice_send(invoice_id=RunItem.objects.get(step=step, order=globex.order).invoice_id, run_id=run.pk)
    RunItem.objects.filter(step=step, order=globex.order).update(state=RunItem.State.SENDING)
    DBTaskResult.objects.filter(status="READY").update(status="RUNNING")
    mail.outbox.clear()

    RunStep.objects.filter(pk=step.pk).update(beat_at=timezone.now() - datetime.timedelta(hours=1))
    step_resume(step=step)
    run_jobs()
    items = {item.order_id: item for item in step.items.all()}
    assert items[globex.order_id].state == RunItem.State.DONE  # the audit log says it went
    assert items[globex.order_id].reason == "Sent to ap@globex.example"
    assert items[acme.order_id].state == RunItem.State.REFUSED
    assert items[acme.order_id].reason.startswith("Interrupted while sending: it may not have gone out.")
    assert mail.outbox == []
    step.refresh_from_db()
    assert step.state == RunStep.State.DONE


def test_the_jobs_a_dead_worker_left_on_a_finished_step_are_marked_failed(three_orders, accountant, settings):
    """Four jobs per step: the others finish it, and the dead one's job, RUNNING for ever, is buried."""
    run = run_start(actor=accountant)
    lost = DBTaskResult.objects.first()
    DBTaskResult.objects.filter(pk=lost.pk).update(status="RUNNING")
    run_jobs()
    step = run.steps.get()
    assert step.state == RunStep.State.DONE
    assert runs_recover() == []
    assert DBTaskResult.objects.get(pk=lost.pk).status == "RUNNING"  # finished a moment ago: not yet
    later = timezone.now() + datetime.timedelta(seconds=settings.JOB_STALL_SECONDS + 1)
    assert runs_recover(now=later) == []  # nothing to resume ...
    lost.refresh_from_db()
    assert (lost.status, lost.exception_class_path) == ("FAILED", "invoicing.runs.WorkerLost")  # ... one buried


def test_a_step_whose_jobs_wait_for_a_worker_is_not_resumed(three_orders, accountant):
    run = run_start(actor=accountant)
    step = run.steps.get()
    RunStep.objects.filter(pk=step.pk).update(beat_at=timezone.now() - datetime.timedelta(hours=1))
    with pytest.raises(Conflict, match="has a job waiting for a worker: check that `manage.py worker` runs."):
        step_resume(step=step)
    assert runs_recover() == []  # the sweeper leaves it too: its jobs will run
    assert len(queued("invoicing.tasks.work_step")) == 2


def test_resume_is_refused_while_the_worker_is_at_work(three_orders, accountant):
    run = run_start(actor=accountant)
    with pytest.raises(Conflict, match="is not stalled: its worker is at work."):
        step_resume(step=run.steps.get())
    run_jobs()
    with pytest.raises(Conflict, match="is not stalled: it is done."):
        step_resume(step=run.steps.get())
