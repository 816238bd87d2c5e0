"""Lock order under real concurrency: an invoice write and Create Invoice on the same order never deadlock.

`make loadtest` found these. Posting (or cancelling) a draft updates its order lines twice
in one transaction, and PostgreSQL then checks the lines' foreign keys at COMMIT, locking
the sales order. Create Invoice holds that order and waits for the lines: a deadlock, and a
503 for one of the two accountants. The services now lock the order before the lines.
Each test holds the first transaction open until the second is waiting, so the interleaving
that deadlocked is the one that runs (PostgreSQL's deadlock_timeout is 1 s).
"""

import threading
import time

import pytest
from django.db import connections, transaction

from invoicing.models import Invoice
from invoicing.selectors import billing_drift
from invoicing.services import invoice_cancel, invoice_create_from_order, invoice_credit_note, invoice_post
from timesheets.services import timesheet_log

from ..conftest import requires_postgres
from ..factories import billable_ticket, days_ago

WRITES = {
    "post": lambda draft, posted: invoice_post(invoice=draft),
    "cancel": lambda draft, posted: invoice_cancel(invoice=draft),
    "credit": lambda draft, posted: invoice_credit_note(invoice=posted),
}


def in_thread(job, results, name):
    def run():
        try:
            results[name] = job()
        except Exception as error:
            results[name] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("write", sorted(WRITES))
def test_an_invoice_write_and_create_invoice_on_its_order_queue_instead_of_deadlocking(write):
    line, ticket, agent = billable_ticket()
    timesheet_log(user=agent, date=days_ago(3), minutes=60, ticket=ticket)
    posted = invoice_post(invoice=invoice_create_from_order(order=line.order))
    timesheet_log(user=agent, date=days_ago(2), minutes=30, ticket=ticket)
    draft = invoice_create_from_order(order=line.order)
    timesheet_log(user=agent, date=days_ago(1), minutes=15, ticket=ticket)  # for the second Create Invoice

    holding, results = threading.Event(), {}

    def first():
        with transaction.atomic():
            done = WRITES[write](draft, posted)
            holding.set()
            time.sleep(1.5)  # Create Invoice starts meanwhile; COMMIT comes after it waits
        return done

    def second():
        holding.wait(10)
        time.sleep(0.2)
        return invoice_create_from_order(order=line.order)

    threads = [in_thread(first, results, "first"), in_thread(second, results, "second")]
    for thread in threads:
        thread.join(30)
    assert [type(r).__name__ for r in results.values() if isinstance(r, Exception)] == [], results
    assert isinstance(results["second"], Invoice)
    assert billing_drift() == []
