"""The Time report (issue 15): where the time went, by kind (billable, non-billable, no charge), invoiced or
to invoice, grouped by each dimension and unit, within the period's bounds, with a drill-down to the entries."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from reports.time import time_entries, time_params, time_report
from timesheets.services import timesheet_log

from ..factories import TaskFactory, TicketFactory
from .conftest import END, START, as_query, day

PERIOD = {"from": START.isoformat(), "to": END.isoformat()}
FIGURES = ("billable", "non_billable", "no_charge", "total", "invoiced", "to_invoice", "entries")


def report(user, **query):
    return time_report(user=user, params=time_params({**PERIOD, **query}))


def figures(row) -> tuple:
    return tuple(row.cells[key] for key in FIGURES)


def table(rep, label: str) -> list[tuple]:
    return [(row.cells.get(label), *figures(row)) for row in rep.rows]


def test_the_totals_split_each_kind_of_time_invoiced_or_to_invoice(world, manager):
    rep = report(manager)

    # billable: a1 60 + b1 90; non-billable: a2 30 (Internal) + a4 10 (no line) + b2 20 (rejected);
    # no charge: a3 45 (Goodwill) + a5 15 (written off); invoiced: a1 and a3, on the posted invoice.
    assert rep.totals == {"billable": 150, "non_billable": 60, "no_charge": 60, "total": 270, "invoiced": 105,
                          "to_invoice": 90}
    assert rep.name == "time" and rep.page == 1 and rep.has_next is False
    assert rep.params == {"from": "2025-03-03", "to": "2025-03-16", "group_by": "customer,week", "status": "all"}
    assert [column.key for column in rep.columns] == ["customer", "period", *FIGURES]
    assert rep.chart.kind == "bars" and rep.chart.unit == "minutes"
    assert rep.chart.categories == ["2025-W10", "2025-W11"]
    assert [(series.key, series.values) for series in rep.chart.series] == [
        ("billable", [60, 90]), ("non_billable", [40, 20]), ("no_charge", [45, 15])]


def test_grouped_by_customer_and_week_each_row_names_its_week_and_customer(world, manager):
    rep = report(manager)

    # Periods in order, the most time first within each.
    assert [(row.cells["period"], *table(rep, "customer")[n]) for n, row in enumerate(rep.rows)] == [
        ("2025-W10", "Acme", 60, 40, 45, 145, 105, 0, 4),
        ("2025-W11", "Bolt", 90, 20, 0, 110, 0, 90, 2),
        ("2025-W11", "Acme", 0, 0, 15, 15, 0, 0, 1),
    ]
    a, b = world.customer_a.pk, world.customer_b.pk
    assert [row.filters for row in rep.rows] == [
        {"customer": a, "from": "2025-03-03", "to": "2025-03-09"},
        {"customer": b, "from": "2025-03-10", "to": "2025-03-16"},
        {"customer": a, "from": "2025-03-10", "to": "2025-03-16"},
    ]


def test_the_period_counts_its_last_day_and_not_the_day_after(world, manager):
    last_day = report(manager, **{"from": "2025-03-16", "to": "2025-03-16"}, group_by="customer")
    assert table(last_day, "customer") == [("Bolt", 0, 20, 0, 20, 0, 0, 1)]  # b2, rejected

    day_after = report(manager, **{"from": "2025-03-17", "to": "2025-03-17"}, group_by="customer")
    assert table(day_after, "customer") == [("Bolt", 40, 0, 0, 40, 0, 40, 1)]  # b3 only

    day_before = report(manager, **{"from": "2025-03-02", "to": "2025-03-02"}, group_by="customer")
    assert table(day_before, "customer") == [("Acme", 25, 0, 0, 25, 0, 25, 1)]  # a0 only

    # Widened by a day on each side, the period takes a0 and b3 in.
    wide = report(manager, **{"from": "2025-03-02", "to": "2025-03-17"})
    assert wide.totals["total"] == 270 + 25 + 40 and wide.totals["to_invoice"] == 90 + 25 + 40


@pytest.mark.parametrize("dimension, expected", [
    ("customer", [("Acme", 60, 40, 60, 160, 105, 0, 5), ("Bolt", 90, 20, 0, 110, 0, 90, 2)]),
    ("team", [("North", 60, 40, 60, 160, 105, 0, 5), ("South", 90, 20, 0, 110, 0, 90, 2)]),
    ("agent", [("agent", 60, 40, 60, 160, 105, 0, 5), ("Bob Builder", 90, 20, 0, 110, 0, 90, 2)]),
    ("ticket", [("{ticket_a}", 60, 30, 60, 150, 105, 0, 4), ("{ticket_b}", 90, 20, 0, 110, 0, 90, 2),
                ("{ticket_free}", 0, 10, 0, 10, 0, 0, 1)]),
    ("order", [("{order_a}", 60, 0, 60, 120, 105, 0, 3), ("{order_b}", 90, 20, 0, 110, 0, 90, 2),
               ("No sales order", 0, 40, 0, 40, 0, 0, 2)]),
    ("work_type", [("No work type", 150, 30, 15, 195, 60, 90, 5), ("Goodwill", 0, 0, 45, 45, 45, 0, 1),
                   ("Internal", 0, 30, 0, 30, 0, 0, 1)]),
])
def test_each_dimension(world, manager, dimension, expected):
    names = {"ticket_a": f"#{world.ticket_a.pk} Printer jams", "ticket_b": f"#{world.ticket_b.pk} Router down",
             "ticket_free": f"#{world.ticket_free.pk} Question", "order_a": world.line_a.order.name,
             "order_b": world.line_b.order.name}
    rep = report(manager, group_by=dimension)

    assert table(rep, dimension) == [(label.format(**names), *rest) for label, *rest in expected]
    assert [column.key for column in rep.columns] == [dimension, *FIGURES]
    assert rep.totals["total"] == 270 == sum(row.cells["total"] for row in rep.rows)
    # Without a unit the chart is still per week.
    assert rep.chart.categories == ["2025-W10", "2025-W11"]


def test_a_row_without_a_key_has_no_drill_down(world, manager):
    rep = report(manager, group_by="order")

    assert [row.filters for row in rep.rows] == [
        {"order": world.line_a.order.pk, **PERIOD}, {"order": world.line_b.order.pk, **PERIOD}, {}]


@pytest.mark.parametrize("group_by", ["customer,week", "team", "agent,day", "ticket,month", "order,week",
                                      "work_type", "week", "day"])
def test_the_drill_down_lists_exactly_each_rows_entries(world, manager, group_by):
    rep = report(manager, group_by=group_by)
    listed = set()
    for row in rep.rows:
        if not row.filters:
            continue
        entries = list(time_entries(user=manager, params=time_params(as_query(row.filters))))
        assert len(entries) == row.cells["entries"]
        assert sum(entry.minutes for entry in entries) == row.cells["total"]
        assert not listed & {entry.pk for entry in entries}  # no entry in two rows
        listed |= {entry.pk for entry in entries}
    by_name = {entry.pk: name for name, entry in world.entries.items()}
    keyless = {"order": {"a2", "a4"}, "work_type": {"a1", "a4", "a5", "b1", "b2"}}.get(group_by.split(",")[0], set())
    assert {by_name[pk] for pk in listed} == {"a1", "a2", "a3", "a4", "a5", "b1", "b2"} - keyless


def test_the_drill_down_by_status_and_newest_first(world, manager):
    e = world.entries

    def listed(**query):
        return [entry.pk for entry in time_entries(user=manager, params=time_params({**PERIOD, **query}))]

    assert listed() == [e[n].pk for n in ("b2", "a5", "b1", "a4", "a3", "a2", "a1")]
    assert listed(status="to_invoice") == [e["b1"].pk]
    assert listed(status="invoiced") == [e["a3"].pk, e["a1"].pk]
    assert listed(customer=str(world.customer_a.pk), status="to_invoice") == []
    assert listed(team=str(world.south.pk)) == [e["b2"].pk, e["b1"].pk]
    with pytest.raises(ValidationError) as refused:
        time_params({**PERIOD, "status": "paid"})
    assert refused.value.message_dict == {"status": ["Choose one of all, to_invoice, invoiced."]}


def test_an_agent_sees_only_their_own_time(world, agent, manager):
    mine = report(agent, group_by="agent")

    assert table(mine, "agent") == [("agent", 60, 40, 60, 160, 105, 0, 5)]
    assert mine.totals == {"billable": 60, "non_billable": 40, "no_charge": 60, "total": 160, "invoiced": 105,
                           "to_invoice": 0}
    # Asking for Bob's time, or Bolt's, shows nothing, in the report and in the drill-down.
    for query in ({"agent": str(world.bob.pk)}, {"customer": str(world.customer_b.pk)}):
        assert report(agent, **query).rows == []
        assert report(agent, **query).totals["total"] == 0
        assert list(time_entries(user=agent, params=time_params({**PERIOD, **query}))) == []
    assert {entry.user for entry in time_entries(user=agent, params=time_params(PERIOD))} == {agent}
    assert report(world.bob, group_by="agent").totals["total"] == 110
    assert report(manager, group_by="agent").totals["total"] == 270


def test_weeks_start_on_monday_and_a_partial_week_is_clipped_to_the_period(world, manager):
    # Wednesday 5 March to Wednesday 12 March: part of W10 (Monday 3 to Sunday 9) and part of W11.
    rep = report(manager, **{"from": "2025-03-05", "to": "2025-03-12"}, group_by="week")

    assert rep.chart.categories == ["2025-W10", "2025-W11"]
    # W10 from the 5th: a3 45 (no charge), a4 10; W11 to the 12th: b1 90 (Monday the 10th), a5 15.
    assert [(row.cells["period"], *figures(row)) for row in rep.rows] == [
        ("2025-W10", 0, 10, 45, 55, 45, 0, 2), ("2025-W11", 90, 0, 15, 105, 0, 90, 2)]
    assert [row.filters for row in rep.rows] == [{"from": "2025-03-05", "to": "2025-03-09"},
                                                 {"from": "2025-03-10", "to": "2025-03-12"}]


def test_days_include_the_empty_ones_on_the_chart(world, manager):
    rep = report(manager, group_by="day")

    assert rep.chart.categories == [day(n).isoformat() for n in range(14)]
    assert rep.chart.series[0].values == [60, 0, 0, 0, 0, 0, 0, 90, 0, 0, 0, 0, 0, 0]  # billable
    assert rep.chart.series[1].values == [0, 30, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20]  # non-billable
    assert rep.chart.series[2].values == [0, 0, 45, 0, 0, 0, 0, 0, 15, 0, 0, 0, 0, 0]  # no charge
    # Rows only for days with time.
    assert [(row.cells["period"], row.cells["total"]) for row in rep.rows] == [
        ("2025-03-03", 60), ("2025-03-04", 30), ("2025-03-05", 45), ("2025-03-06", 10), ("2025-03-10", 90),
        ("2025-03-11", 15), ("2025-03-16", 20)]


def test_month_buckets_and_empty_months_on_the_axis(agent, manager, ticket):
    for date, minutes in ((datetime.date(2025, 1, 14), 5), (datetime.date(2025, 1, 31), 30),
                          (datetime.date(2025, 2, 1), 45), (datetime.date(2025, 3, 31), 60),
                          (datetime.date(2025, 5, 1), 7)):
        timesheet_log(user=agent, ticket=ticket, date=date, minutes=minutes)

    rep = time_report(user=manager, params=time_params({"from": "2025-01-15", "to": "2025-04-30",
                                                        "group_by": "month"}))

    assert rep.chart.categories == ["2025-01", "2025-02", "2025-03", "2025-04"]
    assert rep.chart.series[0].values == [30, 45, 60, 0]
    assert [(row.cells["period"], row.cells["billable"], row.filters) for row in rep.rows] == [
        ("2025-01", 30, {"from": "2025-01-15", "to": "2025-01-31"}),
        ("2025-02", 45, {"from": "2025-02-01", "to": "2025-02-28"}),
        ("2025-03", 60, {"from": "2025-03-01", "to": "2025-03-31"}),
    ]
    assert rep.totals["total"] == 135


def test_an_empty_period_has_no_rows_and_an_axis_of_zeros(world, manager):
    rep = report(manager, **{"from": "2024-12-02", "to": "2024-12-15"})

    assert rep.rows == [] and rep.totals == dict.fromkeys(
        ("billable", "non_billable", "no_charge", "total", "invoiced", "to_invoice"), 0)
    assert rep.chart.categories == ["2024-W49", "2024-W50"]
    assert [series.values for series in rep.chart.series] == [[0, 0], [0, 0], [0, 0]]


def test_a_task_only_entry_counts_for_its_customer_with_no_ticket(world, manager, agent):
    task = TaskFactory(project=world.north.project, customer=world.customer_a, sale_line=world.line_a)
    timesheet_log(user=agent, task=task, date=day(4), minutes=20)

    rep = report(manager, group_by="ticket")
    assert ("No ticket (task only)", 20, 0, 0, 20, 0, 20, 1) in table(rep, "ticket")
    assert table(report(manager, group_by="customer"), "customer")[0] == ("Acme", 80, 40, 60, 180, 105, 20, 6)
    assert [row.filters for row in rep.rows if row.cells["ticket"] == "No ticket (task only)"] == [{}]


def test_bad_parameters_are_refused_per_parameter(db, manager):
    cases = [
        ({"from": "2025-13-01"}, "from"),
        ({"from": "2025-03-10", "to": "2025-03-01"}, "from"),
        ({"group_by": "colour"}, "group_by"),
        ({"group_by": "customer,team"}, "group_by"),
        ({"group_by": "day", "from": "2020-01-01", "to": "2025-01-01"}, "group_by"),
        ({"customer": "abc"}, "customer"),
        ({"page": "0"}, "page"),
    ]
    for query, key in cases:
        with pytest.raises(ValidationError) as refused:
            time_params(query)
        assert list(refused.value.message_dict) == [key], query


def test_a_second_page(db, manager, agent, line_a):
    tickets = [TicketFactory(customer=line_a.order.customer, sale_line=line_a) for _ in range(51)]
    for n, ticket in enumerate(tickets):
        timesheet_log(user=agent, ticket=ticket, date=day(0), minutes=100 - n)

    first = report(manager, group_by="ticket")
    second = report(manager, group_by="ticket", page="2")

    assert len(first.rows) == 50 and first.has_next is True
    assert [row.cells["total"] for row in second.rows] == [50] and second.has_next is False
    assert first.totals == second.totals and first.totals["total"] == sum(range(50, 101))
