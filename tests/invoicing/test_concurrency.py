"""Two accountants clicking "Create Invoice" at once; agents logging while it runs."""

import pytest
from django.core.exceptions import ValidationError

from invoicing.models import Invoice
from invoicing.selectors import billing_drift
from invoicing.services import invoice_create_from_order, invoice_post
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log

from ..conftest import requires_postgres
from ..factories import UserFactory, billable_ticket, days_ago
from ..threads import run_together


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_create_invoice_clicks_make_one_invoice():
    line, ticket, agent = billable_ticket()
    for d in range(10):
        timesheet_log(user=agent, date=days_ago(d), minutes=45, ticket=ticket)

    results = run_together(*[lambda: invoice_create_from_order(order=line.order)] * 2)

    invoices = [r for r in results if isinstance(r, Invoice)]
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert (len(invoices), len(refusals)) == (1, 1), results
    assert "There is nothing to invoice" in refusals[0].messages[0]
    assert Invoice.objects.count() == 1
    assert TimeEntry.objects.filter(invoice_line__invoice=invoices[0]).count() == 10
    line.refresh_from_db()
    assert (line.delivered_minutes, line.invoiced_minutes) == (450, 450)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_logging_while_invoicing_bills_each_entry_once():
    line, ticket, _ = billable_ticket()
    agents = [UserFactory() for _ in range(6)]
    for agent in agents:
        timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)

    jobs = [lambda a=a: timesheet_log(user=a, date=days_ago(0), minutes=20, ticket=ticket) for a in agents]
    jobs += [lambda: invoice_create_from_order(order=line.order)] * 2
    results = run_together(*jobs)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, ValidationError)], results

    # Whatever the interleaving: a second pass bills the rest, and nothing is billed twice.
    try:
        invoice_create_from_order(order=line.order)
    except ValidationError:
        pass
    line.refresh_from_db()
    assert (line.delivered_minutes, line.invoiced_minutes) == (300, 300)
    assert TimeEntry.objects.filter(invoice_line__isnull=True).count() == 0
    assert billing_drift() == []


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posting_gives_gapless_unique_numbers():
    line, ticket, agent = billable_ticket()
    drafts = []
    for d in range(8):
        timesheet_log(user=agent, date=days_ago(d), minutes=10, ticket=ticket)
        drafts.append(invoice_create_from_order(order=line.order))

    results = run_together(*[lambda inv=inv: invoice_post(invoice=inv) for inv in drafts])

    assert all(isinstance(r, Invoice) for r in results), results
    year = results[0].invoice_date.year
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [f"INV/{year}/{n:05d}" for n in range(1, 9)]
