"""Reports, the overview and alerts in the API (issue 15): the selectors' figures as JSON, exports, refusals.

A small world of fixed dates in March 2025 (weeks 2025-W10 and W11):

    a0  agent  ticket A  01-15  45  billable, to invoice (aged 61-90 days at 03-31)
    a1  agent  ticket A  03-03  60  billable, on the posted invoice (90.00), dated 03-05
    a2  agent  ticket A  03-04  30  Internal: non-billable
    a3  agent  ticket A  03-05  15  Goodwill: no charge
    b1  bob    ticket B  03-10  90  billable, to invoice (60.00 an hour)
    p1  bob    ticket P  03-12  540 on Bolt's prepaid block of 10 h (alert below 2 h left): one alert
"""

import csv
import datetime
import io
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest

from invoicing.models import Invoice
from invoicing.services import invoice_create_from_order, invoice_post
from reports.alerts import alerts_scan
from reports.models import Alert
from reports.prepaid import burndown, prepaid_params, prepaid_report
from reports.revenue import revenue_params, revenue_report
from reports.time import time_params, time_report
from reports.unbilled import unbilled_params, unbilled_report
from sales.models import ServicePolicy
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, ProductFactory, TeamFactory, TicketFactory, UserFactory, confirmed_line
from .conftest import API, client_for

pytestmark = pytest.mark.django_db

PERIOD = {"from": "2025-03-03", "to": "2025-03-16"}


@pytest.fixture
def world(agent, manager, accountant, kinds):
    bob = UserFactory(username="bob", first_name="Bob", last_name="Builder", role="Agents")
    acme, bolt = CustomerFactory(name="Acme"), CustomerFactory(name="Bolt")
    line_a = confirmed_line(order__customer=acme, quantity=50, price_unit=90)
    line_b = confirmed_line(order__customer=bolt, quantity=50, price_unit=60)
    block = ProductFactory(name="Prepaid block", service_policy=ServicePolicy.ORDERED_PREPAID,
                           alert_remaining_hours=Decimal("2.00"))
    line_p = confirmed_line(order__customer=bolt, product=block, quantity=10, price_unit=80)
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    north.members.add(agent)
    south.members.add(bob)
    ticket_a = TicketFactory(team=north, customer=acme, sale_line=line_a, title="Printer jams")
    ticket_b = TicketFactory(team=south, customer=bolt, sale_line=line_b, title="Router down")
    ticket_p = TicketFactory(team=south, customer=bolt, sale_line=line_p, title="Migration")

    def log(user, ticket, date, minutes, **kwargs):
        return timesheet_log(user=user, ticket=ticket, date=datetime.date.fromisoformat(date), minutes=minutes,
                             description=f"{user.username} on {date}", **kwargs)

    log(agent, ticket_a, "2025-01-15", 45)
    log(agent, ticket_a, "2025-03-03", 60)
    log(agent, ticket_a, "2025-03-04", 30, work_type=kinds["Internal"])
    log(agent, ticket_a, "2025-03-05", 15, work_type=kinds["Goodwill"])
    log(bob, ticket_b, "2025-03-10", 90)
    log(bob, ticket_p, "2025-03-12", 540)
    invoice = invoice_create_from_order(order=line_a.order, period_start=datetime.date(2025, 3, 1),
                                        period_end=datetime.date(2025, 3, 5), actor=accountant)
    invoice_post(invoice=invoice, actor=accountant)
    Invoice.objects.filter(pk=invoice.pk).update(invoice_date=datetime.date(2025, 3, 5))
    [alert] = alerts_scan()
    return {"bob": bob, "acme": acme, "bolt": bolt, "line_a": line_a, "line_b": line_b, "line_p": line_p,
            "north": north, "south": south, "invoice": invoice, "alert": alert}


def get(user, path, **query):
    client = client_for(user) if user is not None else client_for()
    return client.get(f"{API}/{path}", query)


def address(url: str) -> tuple[str, dict]:
    """An absolute URL's path and query."""
    parts = urlsplit(url)
    assert parts.netloc == "testserver"
    return parts.path, {key: value for key, [value] in parse_qs(parts.query).items()}


def cells_equal(data: dict, report) -> None:
    """The JSON rows and totals say the selector's figures: minutes as integers, money and quantities as
    strings of the same Decimal, dates ISO."""
    assert len(data["rows"]) == len(report.rows)
    for got, row in zip(data["rows"], report.rows):
        for column in report.columns:
            value = row.cells.get(column.key)
            if isinstance(value, Decimal) or column.kind == "money":
                assert Decimal(got[column.key]) == value, column.key
            elif isinstance(value, datetime.date):
                assert got[column.key] == value.isoformat()
            else:
                assert got[column.key] == value, column.key
        assert got["filters"] == row.filters
    assert {key: (Decimal(value) if isinstance(value, str) else value) for key, value in data["totals"].items()} == \
        report.totals


# --- The Time report -----------------------------------------------------------------------------

def test_the_time_report_in_json(world, manager):
    response = get(manager, "reports/time/", **PERIOD)

    assert response.status_code == 200
    data = response.json()
    acme, bolt = world["acme"].pk, world["bolt"].pk
    assert {key: data[key] for key in ("report", "title", "params", "currency", "page", "next", "previous")} == {
        "report": "time", "title": "Time", "currency": "", "page": 1, "next": None, "previous": None,
        "params": {"from": "2025-03-03", "to": "2025-03-16", "group_by": "customer,week", "status": "all"}}
    assert [(column["key"], column["kind"]) for column in data["columns"]] == [
        ("customer", "text"), ("period", "text"), ("billable", "minutes"), ("non_billable", "minutes"),
        ("no_charge", "minutes"), ("total", "minutes"), ("invoiced", "minutes"), ("to_invoice", "minutes"),
        ("entries", "number")]
    # W10: Acme's 1:00 invoiced, 0:30 Internal, 0:15 Goodwill (on the invoice at 0.00); W11: Bolt's 1:30 and
    # the 9:00 on its prepaid block, billable but never to invoice (the block bills its ordered quantity).
    assert data["rows"] == [
        {"customer": "Acme", "period": "2025-W10", "billable": 60, "non_billable": 30, "no_charge": 15, "total": 105,
         "invoiced": 75, "to_invoice": 0, "entries": 3,
         "filters": {"customer": acme, "from": "2025-03-03", "to": "2025-03-09"}},
        {"customer": "Bolt", "period": "2025-W11", "billable": 630, "non_billable": 0, "no_charge": 0, "total": 630,
         "invoiced": 0, "to_invoice": 90, "entries": 2,
         "filters": {"customer": bolt, "from": "2025-03-10", "to": "2025-03-16"}}]
    assert data["totals"] == {"billable": 690, "non_billable": 30, "no_charge": 15, "total": 735, "invoiced": 75,
                              "to_invoice": 90}
    assert data["chart"] == {"kind": "bars", "unit": "minutes", "categories": ["2025-W10", "2025-W11"], "series": [
        {"key": "billable", "label": "Billable", "values": [60, 630]},
        {"key": "non_billable", "label": "Non-billable", "values": [30, 0]},
        {"key": "no_charge", "label": "No charge", "values": [15, 0]}]}
    cells_equal(data, time_report(user=manager, params=time_params(PERIOD)))


@pytest.mark.parametrize("group_by", ["team", "agent", "ticket", "order", "work_type", "month", "agent,day"])
def test_each_grouping_answers_the_selectors_figures(world, accountant, group_by):
    data = get(accountant, "reports/time/", **PERIOD, group_by=group_by).json()

    cells_equal(data, time_report(user=accountant, params=time_params({**PERIOD, "group_by": group_by})))
    assert data["totals"]["total"] == 735


def test_a_rows_filters_list_its_entries(world, manager):
    row = get(manager, "reports/time/", **PERIOD, group_by="agent").json()["rows"][0]
    assert (row["agent"], row["total"], row["entries"]) == ("Bob Builder", 630, 2)

    entries = get(manager, "reports/time/entries/", **row["filters"]).json()

    assert entries["count"] == 2 and entries["next"] is None
    assert [(e["date"], e["minutes"], e["sale_line"]) for e in entries["results"]] == [
        ("2025-03-12", 540, world["line_p"].pk), ("2025-03-10", 90, world["line_b"].pk)]
    invoiced = get(manager, "reports/time/entries/", **PERIOD, status="invoiced").json()
    assert [(e["date"], e["minutes"], e["invoice"]) for e in invoiced["results"]] == [
        ("2025-03-05", 15, world["invoice"].pk), ("2025-03-03", 60, world["invoice"].pk)]


def test_an_agent_sees_only_their_own_time(world, agent):
    data = get(agent, "reports/time/", **{"from": "2025-01-01", "to": "2025-03-31"}, group_by="agent").json()

    assert [(row["agent"], row["total"]) for row in data["rows"]] == [("agent", 150)]
    assert data["totals"]["total"] == 150
    entries = get(agent, "reports/time/entries/", **{"from": "2025-01-01", "to": "2025-03-31"}).json()
    assert entries["count"] == 4
    assert {e["user"] for e in entries["results"]} == {agent.pk}
    # Asking for Bob's time by his id finds none of it.
    bobs = get(agent, "reports/time/entries/", **PERIOD, agent=world["bob"].pk).json()
    assert bobs["count"] == 0
    assert get(agent, "reports/time/", **PERIOD, agent=world["bob"].pk).json()["totals"]["total"] == 0


def test_pages_link_to_the_next_and_the_previous(world, manager):
    # 51 days with time: one row per day, 50 a page.
    for n in range(51):
        timesheet_log(user=world["bob"], ticket=world["bob"].helpdesk_teams.get().tickets.first(),
                      date=datetime.date(2024, 1, 1) + datetime.timedelta(days=n), minutes=10)
    query = {"from": "2024-01-01", "to": "2024-02-20", "group_by": "day"}

    first = get(manager, "reports/time/", **query).json()

    assert len(first["rows"]) == 50 and first["previous"] is None
    assert address(first["next"]) == ("/api/v1/reports/time/", {**query, "page": "2"})
    second = client_for(manager).get(first["next"]).json()
    assert [row["period"] for row in second["rows"]] == ["2024-02-20"]
    assert second["next"] is None
    assert address(second["previous"]) == ("/api/v1/reports/time/", query)
    assert second["totals"]["total"] == first["totals"]["total"] == 510
    entries = get(manager, "reports/time/entries/", **query).json()
    assert entries["count"] == 51
    assert address(entries["next"]) == ("/api/v1/reports/time/entries/", {**query, "page": "2"})


@pytest.mark.parametrize("query, errors", [
    ({"from": "2026-13-45"}, {"from": [f"Enter a date as YYYY-MM-DD, for example {datetime.date.today()}."]}),
    ({"from": "2025-03-16", "to": "2025-03-01"},
     {"from": ["The period starts after it ends: choose a start on or before the end."]}),
    ({"from": "1900-01-01", "to": "2025-01-01"}, {"from": ["Choose a period of ten years at most."]}),
    ({"group_by": "drop table"}, {"group_by": [
        "Group by one of customer, team, agent, ticket, order, work_type and/or one of day, week, month, separated "
        "by a comma, for example customer,month."]}),
    ({"from": "2020-01-01", "to": "2025-01-01", "group_by": "day"},
     {"group_by": ["That is more than 550 days: choose a longer unit or a shorter period."]}),
    ({"customer": "-1"}, {"customer": ["Enter a whole number from 1 to 2147483647."]}),
    ({"page": "abc"}, {"page": ["Enter a whole number from 1 to 100000."]}),
    ({"page": "-2"}, {"page": ["Enter a whole number from 1 to 100000."]}),
    ({"status": "paid"}, {"status": ["Choose one of all, to_invoice, invoiced."]}),
    ({"export": "exe"}, {"export": ["Choose csv or xlsx."]}),
])
def test_bad_parameters_are_refused_with_why(world, manager, query, errors):
    for path in ("reports/time/", "reports/time/entries/"):
        if path.endswith("entries/") and "export" in query:
            continue
        response = get(manager, path, **query)
        assert (response.status_code, response.json()) == (400, errors)


@pytest.mark.parametrize("path", ["reports/unbilled/", "reports/revenue/", "reports/prepaid/", "alerts/"])
def test_the_other_reports_refuse_bad_parameters_too(world, manager, path):
    response = get(manager, path, page="0", customer="x", to="yesterday")

    assert response.status_code == 400
    assert response.json()["page"] == ["Enter a whole number from 1 to 100000."]


# --- Exports -------------------------------------------------------------------------------------

def test_the_time_report_as_csv_and_xlsx(world, manager):
    response = get(manager, "reports/time/", **PERIOD, export="csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="time-report-2025-03-03-2025-03-16.csv"'
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["Customer", "Week", "Billable", "Non-billable", "No charge", "Total", "Invoiced", "To invoice", "Entries"],
        ["Acme", "2025-W10", "1:00", "0:30", "0:15", "1:45", "1:15", "0:00", "3"],
        ["Bolt", "2025-W11", "10:30", "0:00", "0:00", "10:30", "0:00", "1:30", "2"],
        ["Total", "", "11:30", "0:30", "0:15", "12:15", "1:15", "1:30", ""]]

    response = get(manager, "reports/time/", **PERIOD, export="xlsx")

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="time-report-2025-03-03-2025-03-16.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("Customer", "Week", "Billable", "Non-billable", "No charge", "Total", "Invoiced",
                       "To invoice", "Entries")
    # Durations ("[h]:mm"), which openpyxl reads back as timedeltas.
    assert [value // datetime.timedelta(minutes=1) if isinstance(value, datetime.timedelta) else value
            for value in rows[2]] == ["Bolt", "2025-W11", 630, 0, 0, 630, 0, 90, 2]
    assert rows[-1][0] == "Total" and rows[-1][5] == datetime.timedelta(minutes=735)
    assert book.worksheets[0]["C2"].number_format == "[h]:mm"


def test_the_unbilled_report_exports_its_money(world, accountant):
    response = get(accountant, "reports/unbilled/", to="2025-03-31", export="csv")

    assert response["Content-Disposition"].startswith('attachment; filename="unbilled-report-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][:3] == ["Bolt", "1:30", "90.00"] and rows[-1][0] == "Total"
    assert rows[-1][-2:] == ["2:15", "157.50"]
    book = openpyxl.load_workbook(io.BytesIO(get(accountant, "reports/unbilled/", to="2025-03-31",
                                                 export="xlsx").content))
    assert list(book.worksheets[0].iter_rows(values_only=True))[-1][-1] == 157.5


# --- Unbilled, revenue, prepaid ------------------------------------------------------------------

def test_the_unbilled_report_ages_the_time_to_invoice(world, accountant):
    data = get(accountant, "reports/unbilled/", to="2025-03-31").json()

    ages = ("d0_30", "d31_60", "d61_90", "over_90", "total")
    # Bolt's 1:30 at 60.00 (20 days old); Acme's 0:45 at 90.00 (75 days). The prepaid block bills its quantity.
    assert [(row["customer"], *[(row[age], row[f"{age}_amount"]) for age in ages]) for row in data["rows"]] == [
        ("Bolt", (90, "90.00"), (0, "0.00"), (0, "0.00"), (0, "0.00"), (90, "90.00")),
        ("Acme", (0, "0.00"), (0, "0.00"), (45, "67.50"), (0, "0.00"), (45, "67.50"))]
    assert (data["totals"]["total"], data["totals"]["total_amount"], data["currency"]) == (135, "157.50", "EUR")
    assert data["chart"]["series"][0]["values"] == ["90.00", "0.00", "67.50", "0.00"]
    cells_equal(data, unbilled_report(user=accountant, params=unbilled_params({"to": "2025-03-31"})))
    # A row's filters list its entries to invoice.
    entries = get(accountant, "reports/time/entries/", **data["rows"][1]["filters"]).json()
    assert [(e["date"], e["minutes"]) for e in entries["results"]] == [("2025-01-15", 45)]


def test_the_revenue_report(world, manager):
    query = {"from": "2025-03-01", "to": "2025-03-31"}
    data = get(manager, "reports/revenue/", **query).json()

    assert data["rows"] == [{"period": "2025-03", "invoiced": "90.00", "credited": "0.00", "net": "90.00",
                             "documents": 1, "filters": {}}]
    assert data["totals"] == {"invoiced": "90.00", "credited": "0.00", "net": "90.00"}
    assert data["chart"]["series"] == [{"key": "net", "label": "Net revenue", "values": ["90.00"]}]
    cells_equal(data, revenue_report(user=manager, params=revenue_params(query)))
    by_team = get(manager, "reports/revenue/", **query, group_by="team").json()
    assert [(row["team"], row["net"]) for row in by_team["rows"]] == [("North", "90.00")]
    assert get(manager, "reports/revenue/", **query, currency="XYZ").status_code == 400


def test_the_prepaid_report_and_a_lines_burn_down(world, manager):
    line = world["line_p"]
    data = get(manager, "reports/prepaid/").json()

    assert [{key: row[key] for key in ("order", "customer", "line", "ordered", "used", "remaining", "used_percent",
                                       "weekly_rate", "runs_out", "filters")} for row in data["rows"]] == [
        {"order": line.order.name, "customer": "Bolt", "line": "Prepaid block", "ordered": "10.00", "used": "9.00",
         "remaining": "1.00", "used_percent": "90.0", "weekly_rate": 0, "runs_out": None,
         "filters": {"line": line.pk}}]
    cells_equal(data, prepaid_report(user=manager, params=prepaid_params({})))
    assert get(manager, "reports/prepaid/", customer=world["acme"].pk).json()["rows"] == []

    chart = get(manager, f"reports/prepaid/{line.pk}/burndown/").json()

    expected = burndown(line=line)
    assert (chart["line"], chart["name"]) == (line.pk, str(line))
    assert chart["chart"]["kind"] == "lines" and chart["chart"]["unit"] == "hours"
    assert chart["chart"]["categories"] == [str(category) for category in expected.categories]
    assert chart["chart"]["series"][0]["key"] == "remaining"
    assert chart["chart"]["series"][0]["values"][0] == "1.00"
    # A line that is not prepaid has no burn-down.
    assert get(manager, f"reports/prepaid/{world['line_b'].pk}/burndown/").status_code == 404
    assert get(manager, "reports/prepaid/999999999999999999/burndown/").status_code == 404


# --- The overview and alerts ---------------------------------------------------------------------

def test_the_overview(world, accountant, agent):
    data = get(accountant, "overview/").json()

    assert data["teams"] == [
        {"team": world["north"].pk, "name": "North", "open_tickets": 1, "my_open_tickets": 0, "my_week_minutes": 0,
         "team_week_minutes": 0, "unbilled_minutes": 45},
        {"team": world["south"].pk, "name": "South", "open_tickets": 2, "my_open_tickets": 0, "my_week_minutes": 0,
         "team_week_minutes": 0, "unbilled_minutes": 90}]
    # 67.50 + 90.00 of time, and the prepaid block's 10 h at 80.00, not invoiced yet.
    assert data["to_invoice"] == [{"currency": "EUR", "amount": "957.50"}]
    assert (data["overdue_count"], data["overdue"]) == (0, [])
    assert [alert["id"] for alert in data["alerts"]] == [world["alert"].pk]
    # An agent: their teams' cards, nothing of the receivable.
    mine = get(agent, "overview/").json()
    assert [card["name"] for card in mine["teams"]] == ["North"]
    assert (mine["to_invoice"], mine["alerts"]) == ([], [])


def test_alerts_listed_then_cleared_once(world, accountant, manager):
    alert = world["alert"]
    listed = get(manager, "alerts/").json()
    assert listed["count"] == 1 and listed["next"] is None
    assert listed["results"][0] == {
        "id": alert.pk, "kind": "remaining", "sale_line": world["line_p"].pk, "order": world["line_p"].order_id,
        "order_name": world["line_p"].order.name, "customer": "Bolt",
        "message": f"{world['line_p'].order.name} – Prepaid block: 1:00 left of the 10:00 prepaid, below 2.00 hours.",
        "raised_at": listed["results"][0]["raised_at"], "delivered_minutes": 540, "ordered_minutes": 600,
        "threshold": "2.00", "recipient": None, "emailed_at": None, "cleared_at": None, "cleared_by": None,
        "note": "", "ended_at": None, "is_open": True}

    cleared = client_for(accountant).post(f"{API}/alerts/{alert.pk}/clear/", {"note": "Sold 10 more hours"})

    assert cleared.status_code == 200
    body = cleared.json()
    assert (body["cleared_by"], body["note"], body["is_open"]) == (accountant.pk, "Sold 10 more hours", False)
    again = client_for(manager).post(f"{API}/alerts/{alert.pk}/clear/", {})
    assert again.status_code == 409
    assert again.json() == {"detail": f"This alert was already dealt with on {datetime.date.today():%Y-%m-%d}."}
    assert get(manager, "alerts/").json()["count"] == 0
    assert get(manager, "alerts/", state="all").json()["count"] == 1
    assert get(manager, "alerts/", state="closed").json() == {"state": ["Choose one of open, all."]}
    assert client_for(manager).post(f"{API}/alerts/999999/clear/", {}).status_code == 404
    assert client_for(manager).post(f"{API}/alerts/{alert.pk}/clear/", {"note": "x" * 501}).status_code == 400


# --- Who may ---------------------------------------------------------------------------------------

ROUTES = ["reports/time/", "reports/time/entries/", "reports/unbilled/", "reports/revenue/", "reports/prepaid/",
          "reports/prepaid/{line}/burndown/", "overview/", "alerts/"]


@pytest.mark.parametrize("persona, expected", [
    ("agent", [200, 200, 403, 403, 403, 403, 200, 403]),
    ("manager", [200] * 8),
    ("accountant", [200] * 8),
    ("nobody", [403] * 6 + [403, 403]),
    ("anonymous", [401] * 8),
])
def test_who_may_read_which_report(world, agent, manager, accountant, persona, expected):
    user = {"agent": agent, "manager": manager, "accountant": accountant, "nobody": UserFactory(username="nobody"),
            "anonymous": None}[persona]

    got = [get(user, path.format(line=world["line_p"].pk)).status_code for path in ROUTES]

    assert got == expected


@pytest.mark.parametrize("persona, status", [("agent", 403), ("manager", 200), ("accountant", 200),
                                             ("anonymous", 401)])
def test_who_may_clear_an_alert(world, agent, manager, accountant, persona, status):
    user = {"agent": agent, "manager": manager, "accountant": accountant, "anonymous": None}[persona]

    response = (client_for(user) if user else client_for()).post(f"{API}/alerts/{world['alert'].pk}/clear/", {})

    assert response.status_code == status
    assert Alert.objects.get().is_open is (status != 200)


def test_the_schema_documents_the_reports(anonymous_api):
    schema = anonymous_api.get(f"{API}/schema/?format=json").json()

    paths = {path for path in schema["paths"] if path.split("/")[3] in ("reports", "overview", "alerts")}
    assert paths == {f"{API}/{path}" for path in ["reports/time/", "reports/time/entries/", "reports/unbilled/",
                                                  "reports/revenue/", "reports/prepaid/",
                                                  "reports/prepaid/{line_id}/burndown/", "overview/", "alerts/",
                                                  "alerts/{id}/clear/"]}
    time = schema["paths"][f"{API}/reports/time/"]["get"]
    assert sorted(parameter["name"] for parameter in time["parameters"]) == [
        "agent", "customer", "export", "from", "group_by", "order", "page", "status", "team", "ticket", "to",
        "work_type"]
    assert sorted(time["responses"]["200"]["content"]) == [
        "application/json", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv"]
    assert sorted(time["responses"]) == ["200", "400", "401", "403"]
    clear = schema["paths"][f"{API}/alerts/{{id}}/clear/"]["post"]
    assert sorted(clear["responses"]) == ["200", "400", "401", "403", "404", "409"]
    assert sorted(schema["components"]["schemas"]["Report"]["properties"]) == [
        "chart", "columns", "currency", "next", "page", "params", "previous", "report", "rows", "title", "totals"]
