"""Relinks racing each other and the invoices: Delivered and Rule 4 hold whatever the interleaving.

Each race runs in many fresh trials with real threads on PostgreSQL: before the entries were
moved under the locks (issue 9), about half of the trials of each drifted.
"""

import pytest

from invoicing.models import Invoice
from invoicing.selectors import billing_drift
from invoicing.services import invoice_cancel, invoice_create_from_order
from projects.services import task_set_sale_line
from tickets.services import ticket_link_task, ticket_set_sale_line
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log

from ..conftest import requires_postgres
from ..factories import TaskFactory, TicketFactory, UserFactory, confirmed_line, days_ago
from ..placement import misplaced
from ..threads import run_together

TRIALS = 12


def delivered(*lines) -> list[int]:
    for line in lines:
        line.refresh_from_db()
    return [line.delivered_minutes for line in lines]


def failures(results) -> list[Exception]:
    return [r for r in results if isinstance(r, Exception)]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_unlinking_the_ticket_while_the_task_changes_line():
    """Entries on L1 (the ticket's); the ticket drops its line while its task moves from L3 to L4.

    Either order ends with the entries on L4, the line the ticket's task bills.
    """
    agent = UserFactory()
    for _ in range(TRIALS):
        l1 = confirmed_line()
        customer = l1.order.customer
        l3, l4 = confirmed_line(order=l1.order), confirmed_line(order=l1.order)
        ticket = TicketFactory(customer=customer, sale_line=l1)
        task = TaskFactory(project=ticket.team.project, customer=customer, sale_line=l3)
        ticket = ticket_link_task(ticket=ticket, task=task)
        for minutes in (20, 40):
            timesheet_log(user=agent, date=days_ago(0), minutes=minutes, ticket=ticket)

        results = run_together(lambda: ticket_set_sale_line(ticket=ticket, sale_line=None),
                               lambda: task_set_sale_line(task=task, sale_line=l4))

        assert failures(results) == []
        assert set(TimeEntry.objects.filter(ticket=ticket).values_list("sale_line", flat=True)) == {l4.pk}
        assert delivered(l1, l3, l4) == [0, 0, 60]
        assert billing_drift() == [] and misplaced() == []


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_cancelling_a_draft_while_the_ticket_changes_line():
    """A draft bills an entry of L0 (40 min); since then the ticket moved to L1, where 15 min were logged.

    The draft is cancelled while the ticket moves on to L2: whichever runs first, every line's
    Delivered is the sum of the entries it holds.
    """
    agent = UserFactory()
    for _ in range(TRIALS):
        l0 = confirmed_line()
        l1, l2 = confirmed_line(order=l0.order), confirmed_line(order=l0.order)
        ticket = TicketFactory(customer=l0.order.customer, sale_line=l0)
        timesheet_log(user=agent, date=days_ago(1), minutes=40, ticket=ticket)
        draft = invoice_create_from_order(order=l0.order)
        ticket = ticket_set_sale_line(ticket=ticket, sale_line=l1)
        timesheet_log(user=agent, date=days_ago(0), minutes=15, ticket=ticket)

        results = run_together(lambda: invoice_cancel(invoice=draft),
                               lambda: ticket_set_sale_line(ticket=ticket, sale_line=l2))

        assert failures(results) == []
        assert Invoice.objects.get(pk=draft.pk).state == Invoice.State.CANCELLED
        # Moved first: the billed entry stayed on L0, where the cancelled draft freed it.
        # Cancelled first: the freed entry moved to L2 with the rest.
        assert delivered(l0, l1, l2) in ([40, 0, 15], [0, 0, 55])
        assert billing_drift() == []
