"""Work types and rates (DESIGN Rule 13): which line time bills, and whether it charges."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from invoicing.preview import invoice_preview
from invoicing.selectors import invoice_entries
from invoicing.services import invoice_create_from_order
from sales.models import WorkType
from sales.services import work_type_save
from timesheets.models import TimeEntry
from timesheets.rates import order_rates_set
from timesheets.services import timesheet_log, timesheet_update

from ..factories import ProductFactory, SaleOrderLineFactory, TicketFactory, UserFactory, confirmed_line, days_ago


@pytest.fixture
def order_lines(db):
    """An order with Support at 90.00, Senior support at 120.00 and On-site at 150.00."""
    support = confirmed_line(price_unit=Decimal("90.00"))
    order = support.order
    senior = SaleOrderLineFactory(order=order, product=ProductFactory(name="Senior support"), price_unit=120)
    onsite = SaleOrderLineFactory(order=order, product=ProductFactory(name="On-site"), price_unit=150)
    return support, senior, onsite


def _log(user, ticket, minutes, work_type=None, **kwargs):
    return timesheet_log(user=user, ticket=ticket, date=days_ago(1), minutes=minutes, work_type=work_type, **kwargs)


def test_work_type_before_agent_before_ticket_and_a_hand_set_line_wins(order_lines, kinds, manager):
    support, senior, onsite = order_lines
    alice, bob = UserFactory(first_name="Alice"), UserFactory(first_name="Bob")
    ticket = TicketFactory(customer=support.order.customer, sale_line=support)
    order_rates_set(order=support.order, actor=manager, agent_rates=[{"user": alice, "sale_line": senior}],
                    work_type_rates=[{"work_type": kinds["On-site"], "sale_line": onsite}])
    assert _log(bob, ticket, 60).sale_line == support
    assert _log(alice, ticket, 60).sale_line == senior
    assert _log(alice, ticket, 60, kinds["On-site"]).sale_line == onsite
    assert _log(alice, ticket, 60, kinds["On-site"], sale_line=support).sale_line == support
    for line, delivered in ((support, 120), (senior, 60), (onsite, 60)):
        line.refresh_from_db()
        assert line.delivered_minutes == delivered
    event = AuditEvent.objects.get(action=AuditEvent.Action.ORDER_RATES_CHANGED)
    assert event.changes["agent_rates"] == [[], [f"user {alice.pk} → line {senior.pk}"]]
    invoice = invoice_create_from_order(order=support.order)
    by_line = {line.sale_line_id: line for line in invoice.lines.all()}
    assert by_line[senior.pk].explanation == "1 entry, 1:00 worked → 1:00 billed · rate for agent Alice"
    assert by_line[onsite.pk].explanation == "1 entry, 1:00 worked → 1:00 billed · work type On-site"
    assert by_line[support.pk].explanation == "2 entries, 2:00 worked → 2:00 billed · set by hand"
    assert invoice.amount_untaxed == Decimal("90.00") * 2 + Decimal("120.00") + Decimal("150.00")


def test_changing_a_rate_moves_only_unbilled_not_hand_set_time(order_lines, agent, manager):
    support, senior, _ = order_lines
    ticket = TicketFactory(customer=support.order.customer, sale_line=support)
    billed = _log(agent, ticket, 30)
    invoice_create_from_order(order=support.order)
    free, pinned = _log(agent, ticket, 45), _log(agent, ticket, 15, sale_line=support)
    order_rates_set(order=support.order, agent_rates=[{"user": agent, "sale_line": senior}], actor=manager)
    placed = dict(TimeEntry.objects.values_list("pk", "sale_line_id"))
    assert placed == {billed.pk: support.pk, free.pk: senior.pk, pinned.pk: support.pk}
    senior.refresh_from_db()
    support.refresh_from_db()
    assert (senior.delivered_minutes, support.delivered_minutes, support.invoiced_minutes) == (45, 45, 30)
    order_rates_set(order=support.order, agent_rates=[], actor=manager)
    assert TimeEntry.objects.get(pk=free.pk).sale_line == support


def test_rates_refuse_another_orders_line_a_line_not_on_timesheets_and_twice_the_same_agent(order_lines, agent):
    support, senior, _ = order_lines
    other = confirmed_line()
    fixed = SaleOrderLineFactory(order=support.order, product=ProductFactory(service_policy="delivered_manual"))
    with pytest.raises(ValidationError) as refused:
        order_rates_set(order=support.order, agent_rates=[{"user": agent, "sale_line": other}])
    assert "is not a line of" in str(refused.value)
    with pytest.raises(ValidationError, match="not billed on timesheets"):
        order_rates_set(order=support.order, agent_rates=[{"user": agent, "sale_line": fixed}])
    with pytest.raises(ValidationError, match="two rates"):
        order_rates_set(order=support.order, agent_rates=[{"user": agent, "sale_line": senior},
                                                          {"user": agent, "sale_line": support}])
    assert not support.order.agent_rates.exists()


def test_non_billable_and_no_charge_time_never_counts_in_delivered(order_lines, kinds, agent, manager):
    support = order_lines[0]
    ticket = TicketFactory(customer=support.order.customer, sale_line=support)
    _log(agent, ticket, 60)
    internal = _log(agent, ticket, 30, kinds["Internal"])
    goodwill = _log(agent, ticket, 20, kinds["Goodwill"])
    assert (internal.sale_line, internal.billable_minutes) == (None, 0)
    assert (goodwill.sale_line, goodwill.billable_minutes) == (support, 0)
    support.refresh_from_db()
    assert support.delivered_minutes == 60
    preview = invoice_preview(order=support.order)
    assert [line.explanation for line in preview["lines"]] == [
        "2 entries, 1:20 worked → 1:00 billed: 1 no charge (0:20)"]
    assert preview["left_out"]["reasons"] == [{"reason": "non-billable work type", "entries": 1, "minutes": 30}]
    invoice = invoice_create_from_order(order=support.order)
    # The goodwill entry is on the invoice's Timesheets appendix, at 0:00 billed.
    assert sorted(e.pk for entries in invoice_entries(invoice=invoice).values() for e in entries) == sorted(
        [goodwill.pk, *TimeEntry.objects.filter(minutes=60).values_list("pk", flat=True)])
    assert invoice.amount_untaxed == Decimal("90.00")
    # A work type switched to billable bills its unbilled time; invoiced time stays as billed.
    kinds["Internal"].billing = WorkType.Billing.BILLABLE
    work_type_save(work_type=kinds["Internal"], actor=manager)
    internal.refresh_from_db()
    assert (internal.sale_line, internal.billable_minutes) == (support, 30)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.WORK_TYPE_CHANGED).count() == 1


def test_an_entry_takes_its_teams_default_work_type_and_may_change_it(order_lines, kinds, agent):
    support = order_lines[0]
    ticket = TicketFactory(customer=support.order.customer, sale_line=support)
    ticket.team.default_work_type = kinds["Remote support"]
    ticket.team.save()
    entry = _log(agent, ticket, 30)
    assert entry.work_type == kinds["Remote support"]
    entry = timesheet_update(entry=entry, work_type=kinds["Internal"], actor=agent)
    assert (entry.sale_line, entry.billable_minutes) == (None, 0)
    entry = timesheet_update(entry=entry, work_type=kinds["Remote support"], actor=agent)
    assert (entry.sale_line, entry.billable_minutes) == (support, 30)
    with pytest.raises(ValidationError, match="non-billable"):
        _log(agent, ticket, 30, kinds["Internal"], sale_line=support)
