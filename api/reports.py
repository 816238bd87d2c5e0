"""Reports, the Helpdesk overview and alerts: the same figures as the screens (the reports app builds them).

Every report answers one shape: {"report", "title", "params", "currency", "columns", "rows", "totals",
"chart", "page", "next", "previous"}; minutes are integers, money "123.45", quantities strings, dates ISO.
The query string is the screens': a parameter it refuses is a 400 naming it ({"from": ["message"]}).
`?export=csv` or `?export=xlsx` answers the report as a file instead: every row, the same parameters.

The Time report and its entries are for agents too (their own time only: the selector sees to it); the
other reports and the alerts are for managers and accountants; accountants and managers clear alerts.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from core.http import attachment
from reports.alerts import alert_clear, describe, open_alerts
from reports.models import Alert
from reports.overview import overview
from reports.params import parse
from reports.prepaid import burndown, prepaid_params, prepaid_report
from reports.revenue import revenue_params, revenue_report
from reports.tables import PAGE_SIZE, Chart, Report
from reports.time import DIMENSIONS, STATUSES, time_entries, time_params, time_report
from reports.unbilled import unbilled_params, unbilled_report
from sales.models import SaleOrder, SaleOrderLine, ServicePolicy

from .parsers import ReadsItsBody
from .permissions import RolePermission, needs
from .schema import REFUSED, conflict
from .timesheets import TimeEntrySerializer

EXPORTS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


SeesTimeReport = needs("reports.see_time_report", RolePermission.message)
SeesReports = needs("reports.see_reports", gettext_lazy("Only managers and accountants see this report."))
ClearsAlerts = needs("reports.clear_alert", gettext_lazy("Only accountants and managers mark alerts dealt with."))


# --- Values as JSON ----------------------------------------------------------------------------

def json_value(value, kind: str = "text"):
    """A cell, a total or a chart's value as JSON: minutes as integers, money "123.45", quantities and other
    decimals as strings, dates ISO."""
    if value is None or isinstance(value, bool):
        return value
    if kind == "money":
        return f"{Decimal(value):.2f}"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


def chart_data(chart: Chart | None) -> dict | None:
    if chart is None:
        return None
    kind = "money" if chart.unit == "money" else "text"
    return {"kind": chart.kind, "unit": chart.unit, "categories": [json_value(c) for c in chart.categories],
            "series": [{"key": series.key, "label": series.label,
                        "values": [json_value(value, kind) for value in series.values]} for series in chart.series]}


def report_data(report: Report, request) -> dict:
    """The report as the API answers it, with the addresses of the next and previous pages."""
    kinds = {column.key: column.kind for column in report.columns}
    url = request.build_absolute_uri()
    previous = None
    if report.page > 1:
        previous = (remove_query_param(url, "page") if report.page == 2
                    else replace_query_param(url, "page", report.page - 1))
    return {
        "report": report.name, "title": report.title,
        "params": {key: json_value(value) for key, value in report.params.items()},
        "currency": report.currency,
        "columns": [{"key": column.key, "label": column.label, "kind": column.kind} for column in report.columns],
        "rows": [{**{key: json_value(value, kinds.get(key, "text")) for key, value in row.cells.items()},
                  "filters": {key: json_value(value) for key, value in row.filters.items()}}
                 for row in report.rows],
        "totals": {key: json_value(value, kinds.get(key, "text")) for key, value in report.totals.items()},
        "chart": chart_data(report.chart),
        "page": report.page,
        "next": replace_query_param(url, "page", report.page + 1) if report.has_next else None,
        "previous": previous,
    }


# --- Documentation -----------------------------------------------------------------------------

class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The key of the rows' and totals' cell.")
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["text", "minutes", "money", "quantity", "number", "percent", "date"],
                                   help_text="minutes: an integer; money, quantity: a string like \"123.45\".")


class SeriesSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    values = serializers.ListField(child=serializers.JSONField(allow_null=True),
                                   help_text="One per category; null where the series has no point.")


class ChartSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["bars", "lines"], help_text="bars are stacked.")
    unit = serializers.ChoiceField(choices=["minutes", "money", "hours"])
    categories = serializers.ListField(child=serializers.CharField(), help_text="The x axis: periods or dates.")
    series = SeriesSerializer(many=True)


CELLS_HELP = ("Each row: one cell per column key, and `filters`: the query parameters that list its time entries "
              "(GET /reports/time/entries/) or its line, {} when it has none.")


class ReportSerializer(serializers.Serializer):
    """A page of a report: its columns, rows, totals over every row, and its chart."""

    report = serializers.CharField(help_text="time, unbilled, revenue or prepaid.")
    title = serializers.CharField()
    params = serializers.DictField(help_text="The parameters the figures are for, defaults filled in.")
    currency = serializers.CharField(allow_blank=True, help_text="The money columns' currency (ISO 4217).")
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.DictField(), help_text=CELLS_HELP)
    totals = serializers.DictField(help_text="Per column key: the total over every row, not only this page.")
    chart = ChartSerializer(allow_null=True)
    page = serializers.IntegerField()
    next = serializers.URLField(allow_null=True, help_text="The next page's address, or null on the last.")
    previous = serializers.URLField(allow_null=True)


def _ids(*names: str, what: str = "") -> list[OpenApiParameter]:
    return [OpenApiParameter(name, int, description=f"Only this {what or name.replace('_', ' ')} (its id).")
            for name in names]


DATE_FROM = OpenApiParameter("from", OpenApiTypes.DATE, description="The first day (YYYY-MM-DD).")
DATE_TO = OpenApiParameter("to", OpenApiTypes.DATE, description="The last day (YYYY-MM-DD); today by default.")
AGES_TO = OpenApiParameter("to", OpenApiTypes.DATE, description="The day ages count from (YYYY-MM-DD); today by "
                                                               "default.")
PAGE = OpenApiParameter("page", int, description=f"The page of {PAGE_SIZE} rows; 1 by default.")
EXPORT = OpenApiParameter("export", str, enum=list(EXPORTS),
                          description="Answer the report as a CSV or XLSX file: every row, the same parameters.")
TIME_PARAMETERS = [
    DATE_FROM, DATE_TO,
    OpenApiParameter("group_by", str, description=f"One of {', '.join(DIMENSIONS)} and/or one of day, week, month, "
                                                  "separated by a comma; customer,week by default."),
    *_ids(*DIMENSIONS), OpenApiParameter("status", str, enum=list(STATUSES),
                                         description="to_invoice: billable and on no invoice; invoiced: on one."),
    PAGE,
]
FILE = {(200, "text/csv"): OpenApiTypes.BINARY,
        (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY}
REPORT_ANSWERS = {(200, "application/json"): ReportSerializer, **FILE, 400: REFUSED}


# --- Reports -----------------------------------------------------------------------------------

def export_format(request) -> str:
    """The file asked for with ?export=, or "" for JSON."""
    value = request.query_params.get("export", "").strip()
    if value and value not in EXPORTS:
        raise ValidationError({"export": _("Choose csv or xlsx.")})
    return value


class ReportView(APIView):
    """A report: JSON, or its export (`?export=csv|xlsx`)."""

    permission_classes = [SeesReports]
    read_params = None  # the reports module's params function (a staticmethod)
    build = None  # the reports module's report function (a staticmethod)

    def get(self, request, *args, **kwargs):
        export = export_format(request)
        params = self.read_params(request.query_params)
        report = self.build(user=request.user, params=params, all_rows=bool(export))
        if export:
            from reports.exports import export_filename, report_csv, report_xlsx

            content = report_csv(report) if export == "csv" else report_xlsx(report)
            return attachment(content, export_filename(report, export), EXPORTS[export])
        return Response(report_data(report, request))


class TimeReportView(ReportView):
    """The Time report: where the time went, grouped by customer, team, agent, ticket, sales order or work type
    and/or per day, week or month; billable, non-billable and no-charge minutes, invoiced and to invoice.

    Agents see their own time only; managers and accountants everyone's. Each row's `filters` list its entries
    (GET /reports/time/entries/ with them)."""

    permission_classes = [SeesTimeReport]
    read_params = staticmethod(time_params)
    build = staticmethod(time_report)

    @extend_schema(parameters=[*TIME_PARAMETERS, EXPORT], responses=REPORT_ANSWERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class UnbilledReportView(ReportView):
    """Unbilled work: every line's time to invoice per customer, aged 0-30, 31-60, 61-90 and over 90 days
    before `to` by entry date, in minutes and in money at the line's price (managers and accountants)."""

    read_params = staticmethod(unbilled_params)
    build = staticmethod(unbilled_report)

    @extend_schema(parameters=[AGES_TO, *_ids("customer"), PAGE, EXPORT], responses=REPORT_ANSWERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class RevenueReportView(ReportView):
    """Revenue: posted invoices less posted credit notes, untaxed, in one currency, per month, customer, team
    or sales order, over a period of invoice dates (managers and accountants)."""

    read_params = staticmethod(revenue_params)
    build = staticmethod(revenue_report)

    @extend_schema(parameters=[
        OpenApiParameter("from", OpenApiTypes.DATE, description="The first invoice date (YYYY-MM-DD); a year ago "
                                                                "by default."),
        DATE_TO,
        OpenApiParameter("group_by", str, description="One of customer, team, order and/or one of day, week, month, "
                                                      "separated by a comma; month by default."),
        *_ids("customer"),
        OpenApiParameter("currency", str, description="ISO 4217; the company's currency by default."),
        PAGE, EXPORT], responses=REPORT_ANSWERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PrepaidReportView(ReportView):
    """Prepaid lines: ordered, used, remaining, the last four weeks' rate and the day each block runs out
    (managers and accountants). Each row's `filters` name its line: GET /reports/prepaid/{line_id}/burndown/."""

    read_params = staticmethod(prepaid_params)
    build = staticmethod(prepaid_report)

    @extend_schema(parameters=[*_ids("customer"), *_ids("order", what="sales order"), PAGE, EXPORT],
                   responses=REPORT_ANSWERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class BurndownSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The prepaid Sales Order Item.")
    name = serializers.CharField()
    chart = ChartSerializer(help_text="`remaining` hours at the end of each week, and `projected` at the last "
                                      "four weeks' rate until it runs out.")


def prepaid_lines():
    return SaleOrderLine.objects.filter(order__state=SaleOrder.State.SALE,
                                        product__service_policy=ServicePolicy.ORDERED_PREPAID)


class BurndownView(APIView):
    """A prepaid line's burn-down: its remaining hours week by week, and where they run out at the last four
    weeks' rate (managers and accountants). Only prepaid lines of confirmed orders have one (404 otherwise)."""

    permission_classes = [SeesReports]

    @extend_schema(parameters=[OpenApiParameter("line_id", int, OpenApiParameter.PATH,
                                                description="The prepaid line's id.")],
                   responses={200: BurndownSerializer})
    def get(self, request, line_id):
        line = generics.get_object_or_404(prepaid_lines().select_related("order", "product"), pk=line_id)
        return Response({"line": line.pk, "name": str(line), "chart": chart_data(burndown(line=line))})


# --- Time entries: a row's drill-down ----------------------------------------------------------

class EntriesPage(PageNumberPagination):
    page_size = PAGE_SIZE


class TimeEntriesView(generics.ListAPIView):
    """The time entries a Time report row counts: the report's parameters (its row's `filters`), `status`
    all, to_invoice or invoiced; newest first. Agents see their own."""

    serializer_class = TimeEntrySerializer
    permission_classes = [SeesTimeReport]
    pagination_class = EntriesPage
    filterset_class = None
    filter_backends = []

    def get_queryset(self):
        return time_entries(user=self.request.user, params=time_params(self.request.query_params))

    @extend_schema(parameters=TIME_PARAMETERS, responses={200: TimeEntrySerializer(many=True), 400: REFUSED})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- The overview ------------------------------------------------------------------------------

class TeamCardSerializer(serializers.Serializer):
    team = serializers.IntegerField(source="team.pk")
    name = serializers.CharField(source="team.name")
    open_tickets = serializers.IntegerField()
    my_open_tickets = serializers.IntegerField()
    my_week_minutes = serializers.IntegerField(help_text="Your time on the team's tickets since Monday.")
    team_week_minutes = serializers.IntegerField()
    unbilled_minutes = serializers.IntegerField(help_text="The team's billable time on no invoice yet.")


class CurrencyAmountSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class AlertSerializer(serializers.ModelSerializer):
    """A sales order line that crossed its product's threshold: Delivered reached a share of the ordered
    quantity (`delivered`), or a prepaid line's remaining hours fell below a number (`remaining`). The
    figures are those it was raised with."""

    order = serializers.IntegerField(source="sale_line.order_id", help_text="The sales order.")
    order_name = serializers.CharField(source="sale_line.order.name")
    customer = serializers.CharField(source="sale_line.order.customer.name")
    message = serializers.SerializerMethodField(help_text="What crossed, in one sentence.")
    is_open = serializers.BooleanField(read_only=True, help_text="Not dealt with, and still crossing.")

    class Meta:
        model = Alert
        fields = ["id", "kind", "sale_line", "order", "order_name", "customer", "message", "raised_at",
                  "delivered_minutes", "ordered_minutes", "threshold", "recipient", "emailed_at", "cleared_at",
                  "cleared_by", "note", "ended_at", "is_open"]
        read_only_fields = fields

    def get_message(self, alert) -> str:
        return describe(alert)


class OverviewSerializer(serializers.Serializer):
    """The Helpdesk overview: a card per team (yours; every team for managers and accountants), and for
    those who see receivables what is to invoice and overdue, and the open alerts."""

    teams = TeamCardSerializer(many=True)
    to_invoice = CurrencyAmountSerializer(many=True, help_text="Untaxed, per currency (managers and accountants).")
    overdue_count = serializers.IntegerField()
    overdue = CurrencyAmountSerializer(many=True, help_text="The overdue invoices' balance, per currency.")
    alerts = AlertSerializer(many=True)


class OverviewView(APIView):
    """The Helpdesk overview (the home page's figures), for every role."""

    permission_classes = [RolePermission]  # a read: every role

    @extend_schema(responses={200: OverviewSerializer})
    def get(self, request):
        data = overview(user=request.user)
        return Response({
            "teams": TeamCardSerializer(data.teams, many=True).data,
            "to_invoice": [{"currency": currency, "amount": json_value(amount, "money")}
                           for currency, amount in data.to_invoice],
            "overdue_count": data.overdue_count,
            "overdue": [{"currency": currency, "amount": json_value(amount, "money")}
                        for currency, amount in data.overdue],
            "alerts": AlertSerializer(data.alerts, many=True).data,
        })


# --- Alerts ------------------------------------------------------------------------------------

ALERT_STATES = ("open", "all")


class AlertsPage(PageNumberPagination):
    page_size = PAGE_SIZE


class AlertListView(generics.ListAPIView):
    """Alerts, newest first: `state=open` (by default) lists those not dealt with whose line still crosses;
    `all`, every one, ended and cleared included (managers and accountants)."""

    serializer_class = AlertSerializer
    permission_classes = [SeesReports]
    pagination_class = AlertsPage
    filterset_class = None
    filter_backends = []

    def get_queryset(self):
        state = parse(self.request.query_params, extra={"state": ALERT_STATES}).extra["state"]
        if state == "open":
            return open_alerts()
        return Alert.objects.select_related("sale_line__order__customer", "sale_line__product", "recipient")

    @extend_schema(parameters=[OpenApiParameter("state", str, enum=list(ALERT_STATES),
                                                description="open by default."), PAGE],
                   responses={200: AlertSerializer(many=True), 400: REFUSED})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AlertClearSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                 help_text="What was done, e.g. upsold 10 more hours.")


class AlertClearView(ReadsItsBody, APIView):
    """Mark an alert dealt with (accountants and managers): it leaves the overview; the line raises a new one
    only when it crosses again. An alert dealt with or ended already is a 409."""

    permission_classes = [ClearsAlerts]

    @extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The alert's id.")],
                   request=AlertClearSerializer, responses={
                       200: AlertSerializer, 400: REFUSED,
                       409: conflict("The alert was dealt with already, or has ended.")})
    def post(self, request, pk):
        alert = generics.get_object_or_404(Alert.objects.all(), pk=pk)
        serializer = AlertClearSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = alert_clear(alert_id=alert.pk, actor=request.user, note=serializer.validated_data["note"])
        alert = Alert.objects.select_related("sale_line__order__customer", "sale_line__product").get(pk=alert.pk)
        return Response(AlertSerializer(alert).data)
