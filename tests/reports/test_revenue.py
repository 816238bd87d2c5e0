"""Revenue (issue 15): posted invoices less posted credit notes (untaxed), per month, customer, order or team,
over a period of invoice dates; a team's share of an invoice line follows its entries' minutes."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from reports.revenue import revenue_params, revenue_report, share
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, TeamFactory, TicketFactory, confirmed_line

D = Decimal
QUARTER = {"from": "2025-04-01", "to": "2025-06-30"}


def on(day: str):
    return time_machine.travel(datetime.datetime.fromisoformat(f"{day}T09:00:00+00:00"), tick=False)


@pytest.fixture
def sales(agent, accountant):
    """Acme's invoice of 15 April (line A, 90/h: 60 min of North's, 30 of South's: 135.00), Bolt's of 20 May
    (100 min at 60/h: 100.20), a credit note of 5 June giving back South's 30 min (45.00), a draft of Bolt's."""
    acme, bolt = CustomerFactory(name="Acme"), CustomerFactory(name="Bolt")
    line_a = confirmed_line(order__customer=acme, quantity=50, price_unit=90)
    line_b = confirmed_line(order__customer=bolt, quantity=50, price_unit=60)
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    ticket_north = TicketFactory(team=north, customer=acme, sale_line=line_a)
    ticket_south = TicketFactory(team=south, customer=acme, sale_line=line_a)
    ticket_b = TicketFactory(team=south, customer=bolt, sale_line=line_b)
    with on("2025-04-15"):
        timesheet_log(user=agent, ticket=ticket_north, date=datetime.date(2025, 4, 10), minutes=60)
        south_entry = timesheet_log(user=agent, ticket=ticket_south, date=datetime.date(2025, 4, 11), minutes=30)
        acme_invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    with on("2025-05-20"):
        timesheet_log(user=agent, ticket=ticket_b, date=datetime.date(2025, 5, 19), minutes=100)
        bolt_invoice = invoice_post(invoice=invoice_create_from_order(order=line_b.order))
    with on("2025-06-05"):
        note = invoice_post(invoice=invoice_credit_note(invoice=acme_invoice, entry_ids=[south_entry.pk]))
    with on("2025-06-10"):
        timesheet_log(user=agent, ticket=ticket_b, date=datetime.date(2025, 6, 9), minutes=10)
        invoice_create_from_order(order=line_b.order)  # a draft: not revenue
    assert (acme_invoice.amount_untaxed, bolt_invoice.amount_untaxed, note.amount_untaxed) == (
        D("135.00"), D("100.20"), D("45.00"))
    return {"acme": acme, "bolt": bolt, "north": north, "south": south, "order_a": line_a.order,
            "order_b": line_b.order}


def report(user, **query):
    return revenue_report(user=user, params=revenue_params(query))


def table(rep, *keys) -> list[tuple]:
    return [tuple(row.cells[key] for key in (*keys, "invoiced", "credited", "net", "documents")) for row in rep.rows]


def test_per_month_net_of_credit_notes(sales, accountant):
    rep = report(accountant, **QUARTER)

    assert table(rep, "period") == [
        ("2025-04", D("135.00"), D("0.00"), D("135.00"), 1),
        ("2025-05", D("100.20"), D("0.00"), D("100.20"), 1),
        ("2025-06", D("0.00"), D("45.00"), D("-45.00"), 1),
    ]
    assert rep.totals == {"invoiced": D("235.20"), "credited": D("45.00"), "net": D("190.20")}
    assert rep.chart.categories == ["2025-04", "2025-05", "2025-06"]
    assert rep.chart.series[0].values == [D("135.00"), D("100.20"), D("-45.00")]
    assert rep.currency == "EUR" and rep.params["currency"] == "EUR" and rep.params["group_by"] == "month"


def test_empty_months_are_on_the_chart(sales, accountant):
    rep = report(accountant, **{"from": "2025-02-01", "to": "2025-07-31"})

    assert rep.chart.categories == ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07"]
    assert rep.chart.series[0].values == [D("0.00"), D("0.00"), D("135.00"), D("100.20"), D("-45.00"), D("0.00")]
    assert len(rep.rows) == 3


def test_per_customer_and_per_order(sales, accountant):
    assert table(report(accountant, **QUARTER, group_by="customer"), "customer") == [
        ("Acme", D("135.00"), D("45.00"), D("90.00"), 2),
        ("Bolt", D("100.20"), D("0.00"), D("100.20"), 1),
    ]
    assert table(report(accountant, **QUARTER, group_by="order"), "order") == [
        (sales["order_a"].name, D("135.00"), D("45.00"), D("90.00"), 2),
        (sales["order_b"].name, D("100.20"), D("0.00"), D("100.20"), 1),
    ]
    by_month = report(accountant, **QUARTER, group_by="customer,month")
    assert table(by_month, "customer", "period") == [
        ("Acme", "2025-04", D("135.00"), D("0.00"), D("135.00"), 1),
        ("Bolt", "2025-05", D("100.20"), D("0.00"), D("100.20"), 1),
        ("Acme", "2025-06", D("0.00"), D("45.00"), D("-45.00"), 1),
    ]
    only_bolt = report(accountant, **QUARTER, customer=str(sales["bolt"].pk))
    assert only_bolt.totals == {"invoiced": D("100.20"), "credited": D("0.00"), "net": D("100.20")}


def test_per_team_each_line_shared_by_its_entries_minutes(sales, accountant):
    rep = report(accountant, **QUARTER, group_by="team")

    # Acme's 135.00: North's 60 min and South's 30 (given back since) → 90.00 and 45.00; the note's 45.00
    # is South's; Bolt's 100.20 is South's.
    assert table(rep, "team") == [
        ("South", D("145.20"), D("45.00"), D("100.20"), 3),
        ("North", D("90.00"), D("0.00"), D("90.00"), 1),
    ]
    assert rep.totals == {"invoiced": D("235.20"), "credited": D("45.00"), "net": D("190.20")}


def test_share_splits_to_the_cent(db):
    assert share(D("100.00"), {1: 1, 2: 1, 3: 1}) == {1: D("33.34"), 2: D("33.33"), 3: D("33.33")}
    assert share(D("0.05"), {1: 3, 2: 1}) == {1: D("0.04"), 2: D("0.01")}
    assert share(D("10.00"), {}) == {None: D("10.00")}


def test_the_period_counts_invoice_dates_inclusive(sales, accountant):
    assert report(accountant, **{"from": "2025-05-20", "to": "2025-05-20"}).totals["invoiced"] == D("100.20")
    assert report(accountant, **{"from": "2025-04-16", "to": "2025-05-19"}).rows == []
    assert report(accountant, **{"from": "2025-06-05", "to": "2025-06-05"}).totals["credited"] == D("45.00")


def test_another_currency_and_an_agent_see_nothing(sales, accountant, agent):
    usd = report(accountant, **QUARTER, currency="USD")
    assert usd.rows == [] and usd.currency == "USD" and usd.totals["net"] == D("0.00")
    assert report(agent, **QUARTER).rows == []
    with pytest.raises(ValidationError) as refused:
        revenue_params({"currency": "XYZ"})
    assert list(refused.value.message_dict) == ["currency"]
    with pytest.raises(ValidationError) as refused:
        revenue_params({"group_by": "agent"})
    assert list(refused.value.message_dict) == ["group_by"]
