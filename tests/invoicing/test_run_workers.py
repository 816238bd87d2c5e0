"""Billing runs worked by real `manage.py worker` processes (DESIGN Rule 16): two workers share a run,
and a worker killed mid-run (SIGKILL: no clean-up of any kind) is resumed by another, every order
invoiced exactly once. PostgreSQL: the workers open the test database from other processes."""

import signal
import time

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from core.roles import sync_groups
from invoicing.models import Invoice, RunItem, RunStep
from invoicing.runs import run_start, step_progress
from timesheets.services import timesheet_log

from ..conftest import requires_postgres
from ..factories import CustomerFactory, TicketFactory, UserFactory, confirmed_line, days_ago
from ..jobs import worker_process

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]
ORDERS = 60


@pytest.fixture(autouse=True)
def groups(transactional_db):
    sync_groups()  # a transactional test starts from empty tables, the migrations' groups gone


def orders_with_time(count: int) -> list:
    agent = UserFactory(role="Agents")
    lines = []
    for n in range(count):
        line = confirmed_line(price_unit=90, order__customer=CustomerFactory(name=f"Customer {n:03}"))
        ticket = TicketFactory(customer=line.order.customer, sale_line=line)
        for days in (3, 2, 1):
            timesheet_log(user=agent, date=days_ago(days), minutes=30 + n, ticket=ticket)
        lines.append(line)
    return lines


def wait_for(condition, seconds=60, every=0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    pytest.fail(f"not within {seconds} s")


def stop(*workers):
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    return [worker.communicate(timeout=30)[0] for worker in workers]


def assert_each_order_invoiced_once(run, lines):
    step = run.steps.get(kind=RunStep.Kind.CREATE)
    assert step_progress(step) == {"total": ORDERS, "done": ORDERS, "refused": 0, "finished": ORDERS,
                                   "percent": 100}
    for line in lines:
        [invoice] = Invoice.objects.filter(sale_order=line.order)
        assert invoice.lines.get().minutes == 3 * (30 + lines.index(line))
        line.refresh_from_db()
        assert line.invoiced_minutes == line.delivered_minutes == 3 * (30 + lines.index(line))
    assert sorted(RunItem.objects.filter(step=step).values_list("invoice__sale_order", flat=True)) == sorted(
        line.order_id for line in lines)
    call_command("check_billing")  # raises on any drift


def test_two_workers_share_one_run(accountant):
    lines = orders_with_time(ORDERS)
    run = run_start(actor=accountant)
    workers = [worker_process(), worker_process()]
    try:
        wait_for(lambda: run.steps.get().state == RunStep.State.DONE)
    finally:
        logs = stop(*workers)
    assert_each_order_invoiced_once(run, lines)
    # Both took part: each ran at least one of the step's jobs.
    ran = DBTaskResult.objects.filter(task_path="invoicing.tasks.work_step", status="SUCCESSFUL")
    assert len({job.worker_ids[0] for job in ran}) == 2, logs


def test_a_worker_killed_mid_run_is_resumed_by_another(accountant, settings):
    lines = orders_with_time(ORDERS)
    settings.RUN_JOBS_PER_STEP = 1  # one job, which dies with its worker: only a resume can finish the run
    run = run_start(actor=accountant)
    step = run.steps.get()
    first = worker_process()
    wait_for(lambda: step_progress(step)["done"] >= 10, every=0.01)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_when_killed = step_progress(step)["done"]
    assert done_when_killed < ORDERS, "the run ended before the kill: make it longer"
    # Left behind: the step running, the jobs the dead worker had claimed RUNNING for ever.
    step.refresh_from_db()
    assert step.state == RunStep.State.RUNNING
    assert DBTaskResult.objects.filter(status="RUNNING").exists()

    # A new worker, told that 2 s of silence is a lost worker, resumes the run where it was.
    second = worker_process(env={"JOB_STALL_SECONDS": "2"})
    try:
        wait_for(lambda: RunStep.objects.get(pk=step.pk).state == RunStep.State.DONE)
    finally:
        [log] = stop(second)
    assert "Resumed billing run steps" in log, log
    assert_each_order_invoiced_once(run, lines)
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()  # the lost jobs are marked failed
    assert DBTaskResult.objects.filter(status="FAILED", exception_class_path="invoicing.runs.WorkerLost").exists()
