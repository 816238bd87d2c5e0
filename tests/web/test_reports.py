"""The report screens (issue 15): the Time report's figures, chart and drill-down, its CSV and XLSX exports
read back with the same figures, refused parameters shown on the form (400), who sees which report,
"Dealt with" on an alert, and the other reports' pages."""

import csv
import datetime
import io
import re
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.money import format_money
from invoicing.services import invoice_create_from_order, invoice_post
from reports.alerts import alerts_scan
from reports.models import Alert
from reports.tables import Chart, Series
from timesheets.services import timesheet_log
from web.charts import nice_step, render_chart

from ..factories import TicketFactory, UserFactory, confirmed_line

MONDAY = datetime.date(2025, 3, 3)  # 2025-W10; the period is it and the next week
PERIOD = {"from": "2025-03-03", "to": "2025-03-16"}


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def table_rows(html: str, table_id: str = "report-table") -> list[list[str]]:
    """The table's rows (header, body and totals) as the reader reads their cells."""
    body = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    return [[text_of(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def bars(html: str) -> list[tuple[str, str]]:
    """The chart's bars: (category, the bar's tooltip)."""
    return re.findall(r'<g class="bar" data-category="([^"]+)"[^>]*><title>([^<]*)</title>', html)


@pytest.fixture
def logged(member, ticket, kinds):
    """1:30 billable and 0:45 non-billable by the agent in W10; Bob's 0:30 billable in W11, same team."""
    bob = UserFactory(username="bob", first_name="Bob", last_name="Builder", role="Agents")
    ticket.team.members.add(bob)
    timesheet_log(user=member, ticket=ticket, date=MONDAY + datetime.timedelta(days=1), minutes=90,
                  description="Reset the spooler")
    timesheet_log(user=member, ticket=ticket, date=MONDAY + datetime.timedelta(days=2), minutes=45,
                  description="Team meeting", work_type=kinds["Internal"])
    timesheet_log(user=bob, ticket=ticket, date=MONDAY + datetime.timedelta(days=8), minutes=30,
                  description="Checked the toner")
    return bob


def get(client, name, expect=200, **query):
    response = client.get(reverse(name), query)
    assert response.status_code == expect, response.content.decode()[:2000]
    return response


HEADER = ["Customer", "Week", "Billable", "Non-billable", "No charge", "Total", "Invoiced", "To invoice", "Entries",
          "Details"]


def test_the_time_report_shows_each_kind_of_time_with_its_totals_and_chart(manager_client, logged, ticket):
    html = get(manager_client, "report_time", **PERIOD).content.decode()

    customer = ticket.customer.name
    assert table_rows(html) == [
        HEADER,
        [customer, "2025-W10", "1:30", "0:45", "0:00", "2:15", "0:00", "1:30", "2", "Entries"],
        [customer, "2025-W11", "0:30", "0:00", "0:00", "0:30", "0:00", "0:30", "1", "Entries"],
        ["Total", "", "2:00", "0:45", "0:00", "2:45", "0:00", "2:00", "", ""],
    ]
    # One stacked bar per week, its tooltip the week's total and its parts; a segment per kind of time.
    assert bars(html) == [
        ("2025-W10", "2025-W10: 2:15 (Billable 1:30, Non-billable 0:45, No charge 0:00)"),
        ("2025-W11", "2025-W11: 0:30 (Billable 0:30, Non-billable 0:00, No charge 0:00)"),
    ]
    assert re.findall(r'<rect class="seg (s\d)"[^>]*><title>([^<]*)</title>', html) == [
        ("s0", "2025-W10 · Billable: 1:30"), ("s1", "2025-W10 · Non-billable: 0:45"),
        ("s0", "2025-W11 · Billable: 0:30")]
    assert '<ul class="chart-legend"><li><span class="swatch s0"></span>Billable</li>' in html
    # The y axis ticks are round: whole quarter hours up to the highest bar (2:15).
    assert re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', html) == ["0:00", "0:30", "1:00", "1:30", "2:00",
                                                                           "2:30"]
    assert 'style="' not in html.split('<figure class="chart')[1].split("</figure>")[0]  # the CSP allows none


def test_the_grouping_changes_the_rows_and_the_form_keeps_it(manager_client, logged, member):
    html = get(manager_client, "report_time", **PERIOD, group_by=["agent", ""]).content.decode()

    rows = table_rows(html)
    assert rows[0][:3] == ["Agent", "Billable", "Non-billable"]
    assert [row[:6] for row in rows[1:]] == [
        ["agent", "1:30", "0:45", "0:00", "2:15", "0:00"],
        ["Bob Builder", "0:30", "0:00", "0:00", "0:30", "0:00"],
        ["Total", "2:00", "0:45", "0:00", "2:45", "0:00"],
    ]
    assert '<option value="agent" selected>Agent</option>' in html
    assert '<option value="" selected>No period</option>' in html
    # With no period the chart is still weekly.
    assert [category for category, _ in bars(html)] == ["2025-W10", "2025-W11"]


def test_a_row_leads_to_the_entries_it_counts(manager_client, logged, ticket, member):
    html = get(manager_client, "report_time", **PERIOD, group_by="agent").content.decode()
    links = re.findall(r'<a href="([^"]+)" class="drill">', html)
    assert len(links) == 2

    entries = manager_client.get(unescape(links[0])).content.decode()
    rows = table_rows(entries, "time-entries")
    assert [[row[0], row[1], row[4], row[7], row[8]] for row in rows[1:-1]] == [
        ["2025-03-05", "agent", "Team meeting", "0:45", "0:00"],
        ["2025-03-04", "agent", "Reset the spooler", "1:30", "1:30"],
    ]
    assert rows[-1] == ["Total", "2:15", "1:30", ""]
    assert "Agent: agent" in text_of(entries)


def test_the_exports_hold_the_same_figures_as_the_page(manager_client, logged, ticket):
    response = get(manager_client, "report_time", **PERIOD, export="csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="time-report-2025-03-03-2025-03-16.csv"'
    customer = ticket.customer.name
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        HEADER[:-1],
        [customer, "2025-W10", "1:30", "0:45", "0:00", "2:15", "0:00", "1:30", "2"],
        [customer, "2025-W11", "0:30", "0:00", "0:00", "0:30", "0:00", "0:30", "1"],
        ["Total", "", "2:00", "0:45", "0:00", "2:45", "0:00", "2:00", ""],
    ]

    response = get(manager_client, "report_time", **PERIOD, export="xlsx")
    assert response["Content-Disposition"] == 'attachment; filename="time-report-2025-03-03-2025-03-16.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["Time"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == HEADER[:-1]
    # A duration cell reads back as a timedelta (its format is "[h]:mm").
    minutes = [[round(v / datetime.timedelta(minutes=1)) if isinstance(v, datetime.timedelta) else v for v in row]
               for row in values[1:]]
    assert minutes == [
        [customer, "2025-W10", 90, 45, 0, 135, 0, 90, 2],
        [customer, "2025-W11", 30, 0, 0, 30, 0, 30, 1],
        ["Total", None, 120, 45, 0, 165, 0, 120, None],
    ]
    assert sheet["C2"].number_format == "[h]:mm" and sheet["A1"].font.bold and sheet["C4"].font.bold
    assert [[cell.value for cell in row] for row in book["Parameters"].iter_rows()] == [
        ["Parameter", "Value"], ["from", "2025-03-03"], ["to", "2025-03-16"], ["group_by", "customer,week"],
        ["status", "all"]]


@pytest.mark.parametrize("query, param, message", [
    ({"from": "2025-13-01"}, "from", "Enter a date as YYYY-MM-DD"),
    ({"from": "2025-03-16", "to": "2025-03-01"}, "from", "The period starts after it ends"),
    ({"group_by": "planet"}, "group_by", "Group by one of customer, team"),
    ({"customer": "abc"}, "customer", "Enter a whole number from 1"),
    ({"status": "paid"}, "status", "Choose one of all, to_invoice, invoiced."),
    ({"page": "0"}, "page", "Enter a whole number from 1 to 100000."),
    ({"export": "pdf"}, "export", "Export as csv or xlsx."),
    ({"group_by": "day", "from": "2020-01-01", "to": "2025-01-01"}, "group_by", "That is more than 550 days"),
])
def test_refused_parameters_are_shown_on_the_form(manager_client, logged, query, param, message):
    html = get(manager_client, "report_time", 400, **query).content.decode()
    assert re.search(rf'<li data-param="{param}">[^<]*{re.escape(message)}', unescape(html)), html
    assert 'id="report-table"' not in html
    assert 'id="report-form"' in html


def test_refused_parameters_of_the_drill_down_and_the_export_are_a_400(manager_client, logged):
    assert get(manager_client, "report_time_entries", 400, **{"to": "yesterday"}).status_code == 400
    html = get(manager_client, "report_time", 400, export="csv", page="x").content.decode()
    assert "Enter a whole number from 1 to 100000." in html


def test_an_agent_sees_only_their_own_time(agent_client, logged, member):
    html = get(agent_client, "report_time", **PERIOD, group_by="agent").content.decode()
    assert [row[:6] for row in table_rows(html)[1:]] == [
        ["agent", "1:30", "0:45", "0:00", "2:15", "0:00"],
        ["Total", "1:30", "0:45", "0:00", "2:15", "0:00"],
    ]
    assert "You see your own time." in html
    assert 'name="agent"' not in html  # no choice of agent: it is theirs
    # Asking for Bob's time gives none.
    assert table_rows(get(agent_client, "report_time", **PERIOD, agent=logged.pk).content.decode())[-1][2:4] == \
        ["0:00", "0:00"]
    entries = get(agent_client, "report_time_entries", **PERIOD).content.decode()
    assert "Checked the toner" not in entries and "Reset the spooler" in entries
    rows = list(csv.reader(io.StringIO(get(agent_client, "report_time", **PERIOD, export="csv").content.decode())))
    assert rows[-1][:6] == ["Total", "", "1:30", "0:45", "0:00", "2:15"]


@pytest.mark.parametrize("name", ["report_unbilled", "report_revenue", "report_prepaid"])
def test_an_agent_may_not_see_the_money_reports(agent_client, name):
    response = agent_client.get(reverse(name))
    assert response.status_code == 403
    assert "Only managers and accountants see this report." in response.content.decode()


def test_the_reports_index_and_top_bar_offer_what_the_role_may_see(agent_client, client, accountant):
    html = get(agent_client, "reports").content.decode()
    assert re.findall(r'class="card report-link" href="([^"]+)"', html) == [reverse("report_time")]
    assert f'<a href="{reverse("reports")}" aria-current="page">Reports</a>' in html
    client.force_login(accountant)
    html = get(client, "reports").content.decode()
    assert re.findall(r'class="card report-link" href="([^"]+)"', html) == [
        reverse(name) for name in ("report_time", "report_unbilled", "report_revenue", "report_prepaid")]
    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("reports")).status_code == 403
    assert ">Reports</a>" not in client.get(reverse("ticket_list")).content.decode()


def test_unbilled_work_shows_the_amounts_at_the_lines_price(accountant_client, logged, ticket):
    html = get(accountant_client, "report_unbilled", to="2025-03-31").content.decode()
    rows = table_rows(html)
    # 1:30 + 0:30 billable on line A at 90.00 an hour, 15 to 28 days old: €180.00.
    assert rows[0][:3] == ["Customer", "0-30 days", "0-30 days amount"]
    assert rows[1][:3] == [ticket.customer.name, "2:00", "€180.00"]
    assert rows[-1][:3] == ["Total", "2:00", "€180.00"]
    assert [title for _, title in bars(html)][0] == "0-30 days: €180.00"
    drill = unescape(re.findall(r'<a href="([^"]+)" class="drill">', html)[0])
    entries = accountant_client.get(drill).content.decode()
    assert table_rows(entries, "time-entries")[-1] == ["Total", "2:00", "2:00", ""]


def test_revenue_shows_the_posted_invoices_net(accountant_client, logged, line_a):
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    html = get(accountant_client, "report_revenue", group_by="customer").content.decode()
    net = format_money(invoice.amount_untaxed, invoice.currency)
    # 2:00 on line A at 90.00 an hour, untaxed.
    assert net == "€180.00"
    assert table_rows(html)[1:] == [[line_a.order.customer.name, net, "€0.00", net, "1", ""],
                                    ["Total", net, "€0.00", net, "", ""]]
    assert get(accountant_client, "report_revenue", 400, group_by="agent").status_code == 400
    rows = list(csv.reader(io.StringIO(get(accountant_client, "report_revenue", group_by="customer",
                                           export="csv").content.decode())))
    assert rows[-1] == ["Total", "180.00", "0.00", "180.00", ""]


def test_a_prepaid_line_has_its_burn_down(accountant_client, member):
    line = confirmed_line(quantity=10, price_unit=90, product__service_policy="ordered_prepaid",
                          product__name="Prepaid support")
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    ticket.team.members.add(member)
    timesheet_log(user=member, ticket=ticket, date=datetime.date.today() - datetime.timedelta(days=8), minutes=120)
    html = get(accountant_client, "report_prepaid").content.decode()
    # 2:00 used of 10 hours.
    assert table_rows(html)[1][4:8] == ["10.00", "2.00", "8.00", "20.0 %"]
    links = re.findall(r'<a href="([^"]+)" class="drill">', html)
    assert links == [reverse("report_prepaid_line", args=[line.pk])]
    page = accountant_client.get(links[0]).content.decode()
    assert '<figure class="chart lines">' in page
    assert "<polyline" in page and "<circle" in page
    assert table_rows(page, "burndown")[0][0] == "Date"


# --- Alerts: "Dealt with" -----------------------------------------------------------------------------

@pytest.fixture
def alert(member, db):
    """Line of 1 hour with 1:00 delivered: Delivered reached 100% of the ordered quantity."""
    line = confirmed_line(quantity=1, price_unit=90)
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    ticket.team.members.add(member)
    timesheet_log(user=member, ticket=ticket, date=datetime.date.today(), minutes=60)
    (raised,) = alerts_scan()
    return raised


def test_an_accountant_marks_an_alert_dealt_with(accountant_client, alert):
    home = get(accountant_client, "home").content.decode()
    assert f'action="{reverse("alert_clear", args=[alert.pk])}"' in home
    assert "Delivered 1:00 reached 100% of the 1:00 ordered." in home

    response = accountant_client.post(reverse("alert_clear", args=[alert.pk]), {"note": "Upsell sent"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Alert marked dealt with."]
    alert.refresh_from_db()
    assert alert.cleared_at is not None and alert.note == "Upsell sent"
    assert f'id="alert-{alert.pk}"' not in response.content.decode()

    again = accountant_client.post(reverse("alert_clear", args=[alert.pk]), follow=True)
    assert [str(m) for m in again.context["messages"]] == [
        f"This alert was already dealt with on {alert.cleared_at:%Y-%m-%d}."]


def test_an_agent_may_not_clear_an_alert(agent_client, alert):
    response = agent_client.post(reverse("alert_clear", args=[alert.pk]))
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.cleared_at is None
    assert agent_client.get(reverse("alert_clear", args=[alert.pk])).status_code == 405
    assert Alert.objects.filter(cleared_at__isnull=True).count() == 1


def test_the_chart_thins_its_labels_and_keeps_a_tooltip_per_bar():
    days = [f"2025-01-{n:02d}" for n in range(1, 32)]
    chart = Chart(kind="bars", unit="money", categories=days,
                  series=[Series("amount", "Net", [Decimal("12.50")] * 31)])
    svg = str(render_chart(chart, currency="EUR"))
    assert len(bars(svg)) == 31 and bars(svg)[0] == ("2025-01-01", "2025-01-01: €12.50")
    # ISO dates: 7 fit side by side in the 678 units of the plot (87 each), so every 5th of 31 is shown.
    assert re.findall(r'<text class="label"[^>]*>([^<]*)</text>', svg) == days[::5]
    assert re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', svg) == [
        "€0.00", "€5.00", "€10.00", "€15.00"]
    assert (nice_step(135, "minutes"), nice_step(600, "minutes"), nice_step(7300, "money")) == (30, 120, 2000)


@pytest.mark.parametrize("query", [
    {"from": "\x00"}, {"to": "2025-02-30"}, {"team": "9" * 30}, {"page": "9" * 30},
    {"group_by": "customer," * 200}, {"status": "\x00"}, {"agent": "-1"},
    {"customer": "²"},
])
@pytest.mark.parametrize("name", ["report_time", "report_time_entries", "report_unbilled", "report_revenue",
                                  "report_prepaid"])
def test_hostile_parameters_are_refused_never_a_server_error(manager_client, name, query):
    response = manager_client.get(reverse(name), query)
    assert response.status_code in (200, 400)  # a parameter a report does not take is ignored


def test_a_line_that_is_not_prepaid_has_no_burn_down(accountant_client, line_a):
    assert accountant_client.get(reverse("report_prepaid_line", args=[line_a.pk])).status_code == 404
