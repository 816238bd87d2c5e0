"""Reports on screen: the index, Time (and its drill-down, the entries a row counts), Unbilled work,
Revenue, Prepaid lines and a prepaid line's burn-down.

Each report page is the same: a filter form (the query string, as the API reads it: reports.params),
the chart (web.charts), the table with its totals, pages, and the exports (`?export=csv|xlsx`: every row,
reports.exports). Refused parameters are shown on the form with a 400, never a 500. Who sees what is the
rules' (reports.see_reports, reports.see_time_report) and the report's selector (an agent's own time).
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from core.l10n import day
from core.money import format_money
from core.roles import sees_everything
from reports import prepaid, revenue, time, unbilled
from reports.exports import export_filename, report_csv, report_xlsx
from reports.params import UNITS
from reports.tables import Report
from sales.models import SaleOrderLine, ServicePolicy, WorkType
from sales.units import format_minutes

from ..charts import format_value, render_chart
from ..lookups import KINDS, lookup_url
from .base import page, paginate, record_id, refuse_unless

REPORTS_ONLY = gettext_lazy("Only managers and accountants see this report.")
TIME_ONLY = gettext_lazy("Only agents, managers and accountants see the Time report.")
EXPORTS = {"csv": ("text/csv; charset=utf-8", report_csv),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", report_xlsx)}
UNIT_LABELS = {"": gettext_lazy("No period"), "day": gettext_lazy("per day"), "week": gettext_lazy("per week"),
               "month": gettext_lazy("per month")}
DIMENSION_LABELS = {"customer": gettext_lazy("Customer"), "team": gettext_lazy("Helpdesk Team"),
                    "agent": gettext_lazy("Agent"), "ticket": gettext_lazy("Ticket"),
                    "order": gettext_lazy("Sales Order"), "work_type": gettext_lazy("Work type")}
STATUS_LABELS = {"all": gettext_lazy("All entries"), "to_invoice": gettext_lazy("To invoice"),
                 "invoiced": gettext_lazy("Invoiced")}


@dataclass(frozen=True)
class Spec:
    """What differs from one report page to the next."""

    name: str  # the url name
    title: str
    permission: str
    refusal: str
    parse: Callable
    build: Callable  # (user=, params=, all_rows=) -> Report
    dimensions: tuple[str, ...] = ()
    default_group_by: str = ""  # as the parser's default, for the form
    filters: tuple[str, ...] = ()
    dates: tuple[str, ...] = ("from", "to")
    extra: dict = field(default_factory=dict)  # {name: {value: label}}
    help: str = ""


SPECS = {
    "time": Spec("report_time", gettext_lazy("Time"), "reports.see_time_report", TIME_ONLY, time.time_params,
                 time.time_report, dimensions=tuple(time.DIMENSIONS), default_group_by="customer,week",
                 filters=time.FILTERS, extra={"status": STATUS_LABELS},
                 help=gettext_lazy("Where the time went: billable, non-billable and no-charge time, invoiced and "
                                   "to invoice.")),
    "unbilled": Spec("report_unbilled", gettext_lazy("Unbilled work"), "reports.see_reports", REPORTS_ONLY,
                     unbilled.unbilled_params, unbilled.unbilled_report, filters=("customer",), dates=("to",),
                     help=gettext_lazy("Billable time not on an invoice yet, by customer, aged from the day chosen, "
                                       "with its amount at each line's price.")),
    "revenue": Spec("report_revenue", gettext_lazy("Revenue"), "reports.see_reports", REPORTS_ONLY,
                    revenue.revenue_params, revenue.revenue_report, dimensions=revenue.DIMENSIONS,
                    default_group_by="month", filters=("customer",),
                    help=gettext_lazy("Posted invoices less posted credit notes, untaxed.")),
    "prepaid": Spec("report_prepaid", gettext_lazy("Prepaid lines"), "reports.see_reports", REPORTS_ONLY,
                    prepaid.prepaid_params, prepaid.prepaid_report, filters=("customer", "order"), dates=(),
                    help=gettext_lazy("Prepaid hours of confirmed orders: used, remaining, and when they run out "
                                      "at the last four weeks' rate.")),
}


def report_data(request):
    """The query string as the report's parser reads it: the form's two "Group by" selects (a dimension and
    a period) joined into one `group_by`."""
    data = request.GET.copy()
    parts = [part for part in data.getlist("group_by") if part.strip()]
    if len(data.getlist("group_by")) > 1:
        data["group_by"] = ",".join(parts)
    return data


def cell_text(value, kind: str, currency: str) -> str:
    """A table cell as the reader reads it."""
    if value is None or value == "":
        return ""
    if kind == "minutes":
        return format_minutes(int(value))
    if kind == "money":
        return format_money(value, currency)
    if kind == "percent":
        return _("{value} %").format(value=_number(value))
    if kind == "date":
        return day(value) if hasattr(value, "isoformat") else str(value)
    return _number(value) if kind in ("quantity", "number") else str(value)


def _number(value) -> str:
    """A figure with the language's separators, its decimals as given: "12.50", "12,50"."""
    if isinstance(value, (Decimal, float)):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    return str(value)


def drill_down(report: Report, filters: dict) -> str:
    """Where a row leads: a prepaid line's burn-down, else the time entries the row counts."""
    if not filters:
        return ""
    if "line" in filters:
        return reverse("report_prepaid_line", args=[filters["line"]])
    query = dict(filters)
    status = report.params.get("status")
    if report.name == "time" and status and status != "all":
        query.setdefault("status", status)
    return f"{reverse('report_time_entries')}?{urlencode(query)}"


def table(report: Report) -> dict:
    """The report's rows and totals, written for the page."""
    kinds = [column.kind for column in report.columns]
    rows = [{"cells": [(cell_text(value, kind, report.currency), kind)
                       for value, kind in zip(report.values(row), kinds)],
             "link": drill_down(report, row.filters)} for row in report.rows]
    totals = [(cell_text(report.totals.get(column.key), column.kind, report.currency), column.kind)
              for column in report.columns]
    first = next((n for n, (text, _) in enumerate(totals) if text == ""), None)
    if first is not None:
        totals[first] = (_("Total"), "text")
    return {"columns": report.columns, "rows": rows, "totals": totals}


# --- The filter form -----------------------------------------------------------------------------------

# The filters whose choices grow with the data: the page holds the chosen one, the others are asked of the
# server as one types (web.lookups; the same rows are what the filter accepts).
LOOKUPS = {"customer": "report-customers", "team": "report-teams", "agent": "report-agents",
           "order": "report-orders", "ticket": "report-tickets"}


def filter_choices(name: str, user, chosen) -> list[tuple[str, str]]:
    """The choices a filter's <select> holds: every work type (a few); of the others the chosen one only, named
    when the user may see it."""
    if name == "work_type":
        return [(str(pk), label) for pk, label in WorkType.objects.order_by("name").values_list("pk", "name")]
    if not chosen:
        return []
    kind = KINDS[LOOKUPS[name]]
    found = [(str(row.pk), kind.label(row)) for row in kind.rows(user=user).filter(pk=chosen)[:1]]
    return found or [(str(chosen), f"#{chosen}")]


def _choice_field(name, label, options, value, errors, empty, lookup=""):
    return {"name": name, "label": label, "kind": "select", "value": value, "lookup": lookup,
            "options": ([("", empty)] if empty is not None else []) + list(options), "error": errors.get(name, "")}


def form_fields(spec: Spec, request, errors: dict, shown: dict | None = None) -> list[dict]:
    """The filter form's fields, with the values as given (the dates the report is for when none were given)
    and the refusals under them."""
    data, user, shown = request.GET, request.user, shown or {}
    labels = {"from": _("From"), "to": _("To")}
    fields = [{"name": name, "label": _("As of") if spec.dates == ("to",) else labels[name],
               "kind": "date", "value": data.get(name) or shown.get(name, ""), "error": errors.get(name, "")}
              for name in spec.dates]
    if spec.dimensions:
        given = [part.strip() for value in data.getlist("group_by") for part in value.split(",")]
        dimension = next((part for part in given if part in spec.dimensions), "" if given else None)
        unit = next((part for part in given if part in UNITS), "" if given else None)
        default_dimension, _comma, default_unit = spec.default_group_by.rpartition(",")
        fields.append(_choice_field("group_by", _("Group by"), [(d, DIMENSION_LABELS[d]) for d in spec.dimensions],
                                    default_dimension if dimension is None else dimension, errors, _("Nothing")))
        fields.append(_choice_field("group_by", _("Period"), [(u, UNIT_LABELS[u]) for u in UNITS],
                                    default_unit if unit is None else unit, {}, UNIT_LABELS[""]))
    for name, labels in spec.extra.items():
        fields.append(_choice_field(name, _("Status"), labels.items(), data.get(name, ""), errors, None))
    for name in spec.filters:
        chosen = record_id(data.get(name, "").strip())
        if name == "agent" and not sees_everything(user) or name == "order" and not (sees_everything(user) or chosen):
            continue  # an agent's report is their own time; orders are not theirs to list
        lookup = lookup_url(LOOKUPS[name]) if name in LOOKUPS else ""
        fields.append(_choice_field(name, DIMENSION_LABELS.get(name, name.title()),
                                    filter_choices(name, user, chosen), data.get(name, ""), errors,
                                    pgettext("a filter's choice", "All"), lookup))
    return fields


# --- The pages ------------------------------------------------------------------------------------------

def export_response(report: Report, kind: str) -> HttpResponse:
    content_type, write = EXPORTS[kind]
    response = HttpResponse(write(report), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{export_filename(report, kind)}"'
    return response


def report_page(request, spec: Spec):
    """The report with its form, or its export; refused parameters on the form with a 400."""
    refuse_unless(request.user.has_perm(spec.permission), spec.refusal)
    export = request.GET.get("export", "")
    errors, report = {}, None
    try:
        params = spec.parse(report_data(request))
    except ValidationError as error:
        errors = {key: " ".join(messages) for key, messages in error.message_dict.items()}
    if export and export not in EXPORTS:
        errors["export"] = _("Export as csv or xlsx.")
    if not errors and export:
        return export_response(spec.build(user=request.user, params=params, all_rows=True), export)
    if not errors:
        report = spec.build(user=request.user, params=params)
    context = {"spec": spec, "fields": form_fields(spec, request, errors, report.params if report else None),
               "errors": errors, "report": report,
               "own_time_only": spec.name == "report_time" and not sees_everything(request.user)}
    if report is not None:
        context.update(table(report), chart=render_chart(report.chart, currency=report.currency,
                                                         label=_("{report} chart").format(report=report.title)))
    return page(request, "web/reports/report.html", context, status=400 if errors else 200)


@login_required
def report_index(request):
    user = request.user
    refuse_unless(user.has_perm("reports.see_time_report"), TIME_ONLY)
    shown = [spec for spec in SPECS.values() if user.has_perm(spec.permission)]
    return page(request, "web/reports/index.html", {"specs": shown})


@login_required
def report_time(request):
    return report_page(request, SPECS["time"])


@login_required
def report_unbilled(request):
    return report_page(request, SPECS["unbilled"])


@login_required
def report_revenue(request):
    return report_page(request, SPECS["revenue"])


@login_required
def report_prepaid(request):
    return report_page(request, SPECS["prepaid"])


ENTRIES_PER_PAGE = 100


@login_required
def report_time_entries(request):
    """The drill-down: the entries a row of the Time report counts, with their total."""
    spec = SPECS["time"]
    refuse_unless(request.user.has_perm(spec.permission), spec.refusal)
    try:
        params = time.time_params(report_data(request))
    except ValidationError as error:
        errors = {key: " ".join(messages) for key, messages in error.message_dict.items()}
        return page(request, "web/reports/time_entries.html",
                    {"errors": errors, "fields": form_fields(spec, request, errors)}, status=400)
    entries = time.time_entries(user=request.user, params=params)
    total = entries.order_by().aggregate(minutes=Sum("minutes"), billable=Sum("billable_minutes"))
    back = {key: value for key, value in request.GET.items() if key != "page"}
    return page(request, "web/reports/time_entries.html", {
        "page_obj": paginate(request, entries, ENTRIES_PER_PAGE), "params": params,
        "total_minutes": total["minutes"] or 0, "total_billable": total["billable"] or 0,
        "chosen": _chosen(params, request.user), "report_url": f"{reverse('report_time')}?{urlencode(back)}",
    })


def _chosen(params, user) -> list[tuple[str, str]]:
    """The filters a drill-down applies, named: [("Customer", "Acme")]."""
    chosen = []
    for name, pk in params.filters.items():
        options = dict(filter_choices(name, user, pk))
        chosen.append((DIMENSION_LABELS[name], options.get(str(pk), f"#{pk}")))
    status = params.extra.get("status", "all")
    if status != "all":
        chosen.append((_("Status"), STATUS_LABELS[status]))
    return chosen


@login_required
def report_prepaid_line(request, pk):
    """A prepaid line's burn-down: remaining hours week by week, and where the last four weeks' rate leads."""
    refuse_unless(request.user.has_perm("reports.see_reports"), REPORTS_ONLY)
    line = get_object_or_404(SaleOrderLine.objects.select_related("order__customer", "product"), pk=pk,
                             product__service_policy=ServicePolicy.ORDERED_PREPAID)
    chart = prepaid.burndown(line=line)
    points = [{"week": category, "values": [format_value(series.values[n], chart.unit) if series.values[n] is not None
                                            else "" for series in chart.series]}
              for n, category in enumerate(chart.categories)]
    return page(request, "web/reports/prepaid_line.html", {
        "line": line, "series": chart.series, "points": points,
        "chart": render_chart(chart, label=_("Burn-down of {order} – {line}").format(order=line.order,
                                                                                    line=line.name or line.product)),
    })

