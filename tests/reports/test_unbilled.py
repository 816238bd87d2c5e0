"""Unbilled work (issue 15): each customer's time to invoice, aged by entry date before the `to` date, with its
amount at each line's price (minutes in the line's unit rounded HALF-UP to 0.01, times the price)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from reports.time import time_entries, time_params
from reports.unbilled import unbilled_params, unbilled_report
from sales.models import ServicePolicy
from timesheets.services import timesheet_log

from ..factories import ProductFactory, TicketFactory, confirmed_line
from .conftest import as_query

AGES = ("d0_30", "d31_60", "d61_90", "over_90")
D = Decimal


def report(user, **query):
    return unbilled_report(user=user, params=unbilled_params(query))


def row_of(rep, customer: str) -> dict:
    [row] = [row for row in rep.rows if row.cells["customer"] == customer]
    return row


def test_each_customers_time_to_invoice_with_its_amount(world, accountant, manager):
    rep = report(accountant, to="2025-03-17")

    # To invoice on 17 March: a0 (25 min on line A, 90/h), b1 and b3 (90 + 40 min on line B, 60/h).
    # Invoiced (a1, a3), written off (a5), rejected (b2) and time billing no line (a2, a4) are not.
    assert [(row.cells["customer"], row.cells["total"], row.cells["total_amount"]) for row in rep.rows] == [
        ("Bolt", 130, D("130.20")),  # 2.17 h × 60
        ("Acme", 25, D("37.80")),  # 0.42 h × 90
    ]
    assert rep.totals == {"d0_30": 155, "d0_30_amount": D("168.00"), "d31_60": 0, "d31_60_amount": D("0.00"),
                          "d61_90": 0, "d61_90_amount": D("0.00"), "over_90": 0, "over_90_amount": D("0.00"),
                          "total": 155, "total_amount": D("168.00")}
    assert rep.currency == "EUR" and rep.name == "unbilled" and rep.has_next is False
    assert [column.key for column in rep.columns] == [
        "customer", "d0_30", "d0_30_amount", "d31_60", "d31_60_amount", "d61_90", "d61_90_amount", "over_90",
        "over_90_amount", "total", "total_amount"]
    assert rep.chart.categories == ["0-30 days", "31-60 days", "61-90 days", "Over 90 days"]
    assert rep.chart.series[0].values == [D("168.00"), D("0.00"), D("0.00"), D("0.00")]
    assert report(manager, to="2025-03-17").totals == rep.totals


def test_a_rows_drill_down_lists_its_entries_to_invoice(world, accountant):
    rep = report(accountant, to="2025-03-17")
    e = world.entries

    bolt, acme = row_of(rep, "Bolt"), row_of(rep, "Acme")
    assert bolt.filters == {"customer": world.customer_b.pk, "to": "2025-03-17", "status": "to_invoice",
                            "from": "2015-03-10"}
    for row, names in ((bolt, ["b3", "b1"]), (acme, ["a0"])):
        listed = list(time_entries(user=accountant, params=time_params(as_query(row.filters))))
        assert [entry.pk for entry in listed] == [e[name].pk for name in names]
        assert sum(entry.billable_minutes for entry in listed) == row.cells["total"]


def test_time_after_the_to_date_is_not_counted(world, accountant):
    rep = report(accountant, to="2025-03-16")

    assert row_of(rep, "Bolt").cells["total"] == 90  # b3, of the 17th, is not yet
    assert report(accountant, to="2025-03-01").rows == []  # before every entry


def test_ages_are_counted_in_days_before_the_to_date(agent, accountant, ticket):
    to = datetime.date(2025, 6, 30)
    for days, minutes in ((0, 10), (30, 10), (31, 20), (60, 20), (61, 5), (90, 5), (91, 7), (400, 8), (-1, 50)):
        timesheet_log(user=agent, ticket=ticket, date=to - datetime.timedelta(days=days), minutes=minutes)

    rep = report(accountant, to=to.isoformat())

    [row] = rep.rows
    # 20 min = 0.33 h, 40 min = 0.67 h, 10 min = 0.17 h, 15 min = 0.25 h, at 90/h.
    assert {key: row.cells[key] for key in AGES} == {"d0_30": 20, "d31_60": 40, "d61_90": 10, "over_90": 15}
    assert {key: row.cells[f"{key}_amount"] for key in AGES} == {
        "d0_30": D("29.70"), "d31_60": D("60.30"), "d61_90": D("15.30"), "over_90": D("22.50")}
    assert (row.cells["total"], row.cells["total_amount"]) == (85, D("127.80"))
    assert rep.chart.series[0].values == [D("29.70"), D("60.30"), D("15.30"), D("22.50")]


def test_each_line_is_priced_in_its_unit_and_prepaid_lines_are_left_out(agent, accountant, line_a, ticket):
    customer = line_a.order.customer
    daily = confirmed_line(order=line_a.order, product=ProductFactory(uom="day", list_price=D("600.00")),
                           quantity=10)
    prepaid = confirmed_line(order=line_a.order, quantity=10,
                             product=ProductFactory(service_policy=ServicePolicy.ORDERED_PREPAID))
    day_ticket = TicketFactory(customer=customer, sale_line=daily, team=ticket.team)
    prepaid_ticket = TicketFactory(customer=customer, sale_line=prepaid, team=ticket.team)
    when = datetime.date(2025, 6, 1)
    timesheet_log(user=agent, ticket=ticket, date=when, minutes=100)  # 1.67 h × 90 = 150.30
    timesheet_log(user=agent, ticket=day_ticket, date=when, minutes=200)  # 0.42 d × 600 = 252.00
    timesheet_log(user=agent, ticket=prepaid_ticket, date=when, minutes=300)  # billed as ordered: not here

    [row] = report(accountant, to="2025-06-01").rows

    assert (row.cells["d0_30"], row.cells["d0_30_amount"]) == (300, D("402.30"))


def test_the_customer_filter_and_pages(world, accountant):
    assert [row.cells["customer"] for row in report(accountant, to="2025-03-17",
                                                    customer=str(world.customer_a.pk)).rows] == ["Acme"]
    second = report(accountant, to="2025-03-17", page="2")
    assert second.rows == [] and second.page == 2


def test_an_agent_sees_nothing(world, agent):
    rep = report(agent, to="2025-03-17")

    assert rep.rows == [] and rep.totals["total"] == 0 and rep.totals["total_amount"] == D("0.00")


def test_bad_parameters_are_refused(db):
    for query, key in (({"to": "yesterday"}, "to"), ({"customer": "-1"}, "customer"), ({"page": "x"}, "page")):
        with pytest.raises(ValidationError) as refused:
            unbilled_params(query)
        assert list(refused.value.message_dict) == [key]
