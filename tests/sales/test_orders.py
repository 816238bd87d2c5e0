import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from sales.models import SaleOrder
from sales.services import sale_order_cancel, sale_order_confirm
from sales.units import minutes_to_qty, qty_to_minutes
from timesheets.services import timesheet_log

from ..factories import SaleOrderFactory, SaleOrderLineFactory, TicketFactory, days_ago


def test_orders_are_numbered_and_confirmed_once(db):
    line = SaleOrderLineFactory()
    order = line.order
    assert re.fullmatch(r"S\d{5}", order.name)
    assert order.state == SaleOrder.State.DRAFT
    sale_order_confirm(order=order)
    order.refresh_from_db()
    assert order.state == SaleOrder.State.SALE
    with pytest.raises(ValidationError, match="Only a quotation can be confirmed"):
        sale_order_confirm(order=order)


def test_an_empty_quotation_cannot_be_confirmed(db):
    order = SaleOrderFactory()
    with pytest.raises(ValidationError, match="Add at least one order line before confirming."):
        sale_order_confirm(order=order)


def test_an_order_with_time_cannot_be_cancelled_and_a_cancelled_one_takes_no_time(agent, ticket, line_a):
    timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    with pytest.raises(ValidationError, match="has time logged or invoiced on it"):
        sale_order_cancel(order=line_a.order)

    other = SaleOrderLineFactory(order__customer=ticket.customer)
    sale_order_confirm(order=other.order)
    other_ticket = TicketFactory(team=ticket.team, customer=ticket.customer, sale_line=other)
    sale_order_cancel(order=other.order)
    with pytest.raises(ValidationError, match="is not a confirmed sales order"):
        timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=other_ticket)


@pytest.mark.parametrize("minutes, uom, qty", [
    (400, "hour", Decimal("6.67")), (630, "hour", Decimal("10.50")), (960, "day", Decimal("2.00")),
    (1, "hour", Decimal("0.02")), (20, "day", Decimal("0.04")),
])
def test_minutes_show_in_the_lines_unit(settings, minutes, uom, qty):
    settings.HOURS_PER_DAY = 8
    assert minutes_to_qty(minutes, uom) == qty


def test_a_day_follows_the_setting(settings):
    settings.HOURS_PER_DAY = 7
    assert qty_to_minutes(Decimal("1"), "day") == 420
    assert minutes_to_qty(840, "day") == Decimal("2.00")
