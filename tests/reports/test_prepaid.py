"""Prepaid lines (issue 15): ordered, used, remaining, the last four weeks' rate, the day the block runs out,
and a line's burn-down. Today is Wednesday 18 June 2025 in every test here."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from reports.prepaid import burndown, prepaid_params, prepaid_report
from sales.models import ServicePolicy
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, ProductFactory, SaleOrderLineFactory, TicketFactory, confirmed_line

D = Decimal
TODAY = datetime.date(2025, 6, 18)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime.datetime(2025, 6, 18, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def block(db):
    return ProductFactory(name="Support block", service_policy=ServicePolicy.ORDERED_PREPAID,
                          list_price=D("80.00"))


def prepaid_line(block, customer, quantity, **kwargs):
    line = confirmed_line(order__customer=customer, product=block, quantity=quantity, **kwargs)
    return line, TicketFactory(customer=customer, sale_line=line)


def log(agent, ticket, days_ago, minutes):
    timesheet_log(user=agent, ticket=ticket, date=TODAY - datetime.timedelta(days=days_ago), minutes=minutes)


@pytest.fixture
def lines(agent, block):
    """Acme's 10-hour block: 8 h used, 6 of them in the last four weeks; Bolt's 5-day block, untouched for
    two months; Acme's 2-hour block, used past its end."""
    acme, bolt = CustomerFactory(name="Acme"), CustomerFactory(name="Bolt")
    busy, busy_ticket = prepaid_line(block, acme, 10)
    log(agent, busy_ticket, 40, 120)  # 9 May: before the last four weeks
    log(agent, busy_ticket, 10, 240)  # Sunday 8 June
    log(agent, busy_ticket, 0, 120)  # today
    quiet, quiet_ticket = prepaid_line(block, bolt, 5, uom="day")
    log(agent, quiet_ticket, 60, 480)  # one day of five
    over, over_ticket = prepaid_line(block, acme, 2)
    log(agent, over_ticket, 27, 150)  # the first day of the four weeks
    # Not prepaid lines of a confirmed order: not listed.
    postpaid, postpaid_ticket = prepaid_line(ProductFactory(), acme, 10)
    log(agent, postpaid_ticket, 1, 60)
    SaleOrderLineFactory(order__customer=acme, product=block, quantity=3)  # a quotation's
    return {"busy": busy, "quiet": quiet, "over": over, "acme": acme, "bolt": bolt}


def test_each_prepaid_line_least_remaining_first(lines, accountant):
    rep = prepaid_report(user=accountant, params=prepaid_params({}))

    busy, quiet, over = lines["busy"], lines["quiet"], lines["over"]
    assert [row.cells for row in rep.rows] == [
        {"order": over.order.name, "customer": "Acme", "line": "Support block", "unit": "Hours",
         "ordered": D("2.00"), "used": D("2.50"), "remaining": D("-0.50"), "used_percent": D("125.0"),
         "weekly_rate": 37, "runs_out": TODAY},  # used up: today
        {"order": busy.order.name, "customer": "Acme", "line": "Support block", "unit": "Hours",
         "ordered": D("10.00"), "used": D("8.00"), "remaining": D("2.00"), "used_percent": D("80.0"),
         # 360 min in 28 days: 90 a week; 120 min left last 120 × 28 / 360 = 9.3 → 10 days.
         "weekly_rate": 90, "runs_out": datetime.date(2025, 6, 28)},
        {"order": quiet.order.name, "customer": "Bolt", "line": "Support block", "unit": "Days",
         "ordered": D("5.00"), "used": D("1.00"), "remaining": D("4.00"), "used_percent": D("20.0"),
         "weekly_rate": 0, "runs_out": None},  # nothing used lately
    ]
    assert [row.filters for row in rep.rows] == [{"line": over.pk}, {"line": busy.pk}, {"line": quiet.pk}]
    assert rep.name == "prepaid" and rep.chart is None and rep.has_next is False
    assert [column.key for column in rep.columns] == ["order", "customer", "line", "unit", "ordered", "used",
                                                      "remaining", "used_percent", "weekly_rate", "runs_out"]


def test_filters_by_customer_and_order_and_an_agent_sees_none(lines, accountant, agent):
    def listed(user=accountant, **query):
        return [row.filters["line"] for row in prepaid_report(user=user, params=prepaid_params(query)).rows]

    assert listed(customer=str(lines["bolt"].pk)) == [lines["quiet"].pk]
    assert listed(order=str(lines["busy"].order.pk)) == [lines["busy"].pk]
    assert listed(customer=str(lines["bolt"].pk), order=str(lines["busy"].order.pk)) == []
    assert listed(user=agent) == []


def test_the_burn_down_of_a_line_and_its_projection(lines):
    lines["busy"].refresh_from_db()  # its Delivered as the time logged left it
    chart = burndown(line=lines["busy"])

    # Weeks ending on Sundays from the first entry's week (9 May), then today (Wednesday 18 June), then the
    # coming Sundays at 90 min a week counted per day from today: 2:00 left, 120 - 90 × 4/7 = 69 min (1.15 h)
    # on the 22nd, nothing left by the 29th (runs_out says the 28th: 120 × 28 / 360 = 9.3 days from today).
    assert chart.kind == "lines" and chart.unit == "hours"
    assert chart.categories == ["2025-05-11", "2025-05-18", "2025-05-25", "2025-06-01", "2025-06-08", "2025-06-15",
                                "2025-06-18", "2025-06-22", "2025-06-29"]
    remaining, projected = chart.series
    assert remaining.key == "remaining" and remaining.values == [
        D("8.00"), D("8.00"), D("8.00"), D("8.00"), D("4.00"), D("4.00"), D("2.00"), None, None]
    assert projected.key == "projected" and projected.values == [None] * 6 + [D("2.00"), D("1.15"), D("0.00")]


def test_the_burn_down_of_an_unused_line_has_no_projection(lines, block):
    fresh, _ = prepaid_line(block, lines["acme"], 4)
    chart = burndown(line=fresh)

    assert chart.categories == ["2025-06-18"]  # today
    assert [series.values for series in chart.series] == [[D("4.00")], [D("4.00")]]
