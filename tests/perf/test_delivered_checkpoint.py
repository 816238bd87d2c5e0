"""Issue 5, target 1: saving an entry re-sums only the entries after its line's checkpoint, exactly.

`CHECKPOINT_KEEP` is 3 here, so a line of a few dozen entries already moves its checkpoint.
Every test also ends with `check_billing`'s checks (tests/conftest.py), the checkpoints' among them.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoicing.selectors import billing_drift
from invoicing.services import invoice_create_from_order, invoice_post
from timesheets.models import DeliveredCheckpoint, TimeEntry
from timesheets.services import timesheet_delete, timesheet_log, timesheet_update

from ..conftest import requires_postgres
from ..factories import TicketFactory, UserFactory, billable_ticket, confirmed_line, days_ago
from ..threads import run_together

pytestmark = requires_postgres  # the checkpoint is PostgreSQL's; SQLite re-sums the whole line


@pytest.fixture(autouse=True)
def keep_three(monkeypatch):
    monkeypatch.setattr("timesheets.delivered.CHECKPOINT_KEEP", 3)


def delivered(line) -> tuple[int, int]:
    line.refresh_from_db()
    return line.delivered_minutes, line.invoiced_minutes


def entries_say(line) -> tuple[int, int]:
    rows = TimeEntry.objects.filter(sale_line=line)
    return (sum(rows.values_list("billable_minutes", flat=True)),
            sum(rows.filter(invoice_line__isnull=False).values_list("billable_minutes", flat=True)))


def log(agent, ticket, count: int, minutes: int = 10) -> list[TimeEntry]:
    return [timesheet_log(user=agent, date=days_ago(0), minutes=minutes + n, ticket=ticket) for n in range(count)]


def test_logging_moves_the_checkpoint_and_keeps_delivered_exact(agent, ticket, line_a):
    log(agent, ticket, 20)
    checkpoint = DeliveredCheckpoint.objects.get(sale_line=line_a)
    newest = list(TimeEntry.objects.filter(sale_line=line_a).order_by("-pk").values_list("pk", flat=True))
    assert newest.index(checkpoint.last_entry_id) in range(3, 7)  # 3 to 6 entries after it
    assert delivered(line_a) == entries_say(line_a) == (sum(range(10, 30)), 0)


def test_changing_or_deleting_an_entry_the_checkpoint_sums_starts_from_zero(agent, ticket, line_a):
    first, *_ = log(agent, ticket, 20)
    assert first.pk <= DeliveredCheckpoint.objects.get(sale_line=line_a).last_entry_id
    timesheet_update(entry=first, minutes=100)
    assert delivered(line_a) == entries_say(line_a)
    timesheet_delete(entry=TimeEntry.objects.filter(sale_line=line_a).order_by("pk")[1])
    assert delivered(line_a) == entries_say(line_a)
    log(agent, ticket, 5)
    assert delivered(line_a) == entries_say(line_a)


def test_an_entry_moved_between_two_checkpointed_lines(agent, ticket, line_a):
    line_b = confirmed_line(order=line_a.order)
    other = TicketFactory(team=ticket.team, customer=line_a.order.customer, sale_line=line_b)
    first, *_ = log(agent, ticket, 12)
    log(agent, other, 12)
    timesheet_update(entry=first, sale_line=line_b)
    assert delivered(line_a) == entries_say(line_a)
    assert delivered(line_b) == entries_say(line_b)


def test_invoicing_drops_the_checkpoint_and_the_next_save_sums_again(agent, ticket, line_a):
    log(agent, ticket, 20)
    invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    assert not DeliveredCheckpoint.objects.filter(sale_line=line_a).exists()
    log(agent, ticket, 10)
    assert delivered(line_a) == entries_say(line_a) == (sum(range(10, 30)) + sum(range(10, 20)), sum(range(10, 30)))


def test_a_checkpoint_that_differs_from_its_entries_is_reported(agent, ticket, line_a):
    log(agent, ticket, 20)
    checkpoint = DeliveredCheckpoint.objects.get(sale_line=line_a)
    DeliveredCheckpoint.objects.filter(pk=checkpoint.pk).update(delivered_minutes=checkpoint.delivered_minutes + 7)
    assert [str(d) for d in billing_drift()] == [
        f"line {line_a.pk} ({line_a.order.name}): checkpoint delivered_minutes stored "
        f"{checkpoint.delivered_minutes + 7}, entries say {checkpoint.delivered_minutes}"]
    DeliveredCheckpoint.objects.filter(pk=checkpoint.pk).update(delivered_minutes=checkpoint.delivered_minutes)


def test_logging_costs_the_same_queries_on_a_line_of_10_entries_and_of_2000(agent, ticket, line_a):
    small_line = confirmed_line()
    small = TicketFactory(team=ticket.team, customer=small_line.order.customer, sale_line=small_line)
    log(agent, small, 10)
    TimeEntry.objects.bulk_create(
        TimeEntry(date=days_ago(1), user=agent, minutes=5, billable_minutes=5, project=ticket.team.project,
                  ticket=ticket, sale_line=line_a) for _ in range(2000))
    log(agent, ticket, 1)  # sums the 2,000 once, and leaves a checkpoint

    def count(on):
        on = type(on).objects.select_related("team__project", "customer", "sale_line").get(pk=on.pk)
        with CaptureQueriesContext(connection) as captured:
            timesheet_log(user=agent, date=days_ago(0), minutes=15, ticket=on)
        return len(captured)

    assert count(ticket) == count(small)
    assert delivered(line_a) == entries_say(line_a)


@pytest.mark.django_db(transaction=True)
def test_twenty_agents_logging_at_once_on_a_checkpointed_line_lose_nothing():
    line, ticket, agent = billable_ticket()
    log(agent, ticket, 15, minutes=1)
    before = delivered(line)[0]
    users = [UserFactory() for _ in range(20)]
    results = run_together(*[
        lambda u=u: timesheet_log(user=u, date=days_ago(0), minutes=15, ticket=ticket) for u in users])
    assert [r for r in results if isinstance(r, Exception)] == []
    assert delivered(line) == entries_say(line) == (before + 300, 0)
