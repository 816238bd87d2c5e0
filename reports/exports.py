"""A report as a file: CSV and XLSX with the same rows, totals and figures as the screen.

Used by the screens and the API alike (`?export=csv|xlsx`): every row the report has (`all_rows`), the
column labels as the header, a last "Total" row. Minutes are H:MM in the CSV and durations in the XLSX
(a number of days formatted "[h]:mm", so that a spreadsheet sums them); money is a plain number with two
decimals in the CSV and a number formatted "#,##0.00" in the XLSX.

The CSV is read by programs: its header and its "Total" stay English whatever the language. The XLSX is read
by people: its labels are in the reader's language (the figures are numbers either way).
"""

import csv
import datetime
import io
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from sales.units import format_minutes

from .tables import Column, Report

TOTAL = object()  # where a total row writes its label
XLSX_FORMATS = {"minutes": "[h]:mm", "money": "#,##0.00", "quantity": "#,##0.00", "number": "0",
                "percent": "0.00", "date": "yyyy-mm-dd"}
MINUTES_PER_DAY = 24 * 60


def export_filename(report: Report, ext: str) -> str:
    """"time-report-2026-09-07-2026-12-01.csv": the report and its period."""
    period = "-".join(str(report.params[key]) for key in ("from", "to") if report.params.get(key))
    return f"{report.name}-report-{period}.{ext}" if period else f"{report.name}-report.{ext}"


def _text(value, kind: str) -> str:
    """A value as the CSV writes it."""
    if value is None or value == "":
        return ""
    if kind == "minutes":
        return format_minutes(int(value))
    if kind == "money":
        return f"{Decimal(value):.2f}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _total_row(report: Report) -> list:
    """The totals under their columns, TOTAL in the first column that has none."""
    cells = [report.totals.get(column.key) for column in report.columns]
    first = next((n for n, value in enumerate(cells) if value is None), None)
    if first is not None:
        cells[first] = TOTAL
    return cells


def report_csv(report: Report) -> bytes:
    """The report as CSV (UTF-8): a header of labels (English), a line per row, the totals last."""
    out = io.StringIO()
    writer = csv.writer(out)
    with translation.override("en"):
        writer.writerow([str(column.label) for column in report.columns])
    for row in report.rows:
        writer.writerow([_text(value, column.kind) for column, value in zip(report.columns, report.values(row))])
    writer.writerow(["Total" if value is TOTAL else _text(value, column.kind)
                     for column, value in zip(report.columns, _total_row(report))])
    return out.getvalue().encode("utf-8")


def _number(value, kind: str):
    """A value as the spreadsheet stores it: minutes as days (its durations), money and quantities as numbers."""
    if value is None or value == "":
        return None
    if kind == "minutes":
        return int(value) / MINUTES_PER_DAY
    if kind in ("money", "quantity", "percent"):
        try:
            return float(Decimal(value))  # a cell holds a float: exact for cents up to 2**53
        except ArithmeticError:
            return str(value)
    return value


def _cell(sheet, value, column: Column, *, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=_("Total") if value is TOTAL else _number(value, column.kind))
    if column.kind in XLSX_FORMATS and value is not TOTAL:
        cell.number_format = XLSX_FORMATS[column.kind]
    if bold:
        cell.font = Font(bold=True)
    return cell


def report_xlsx(report: Report) -> bytes:
    """The report as an XLSX workbook: a sheet of rows under a bold header with the totals last, and a
    second sheet with the parameters the figures are for. Its labels are in the active language."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(report.title)[:31] or _("Report"))
    header = []
    for column in report.columns:
        cell = WriteOnlyCell(sheet, value=str(column.label))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in report.rows:
        sheet.append([_cell(sheet, value, column) for column, value in zip(report.columns, report.values(row))])
    sheet.append([_cell(sheet, value, column, bold=True)
                  for column, value in zip(report.columns, _total_row(report))])
    params = book.create_sheet(_("Parameters"))
    params.append([_("Parameter"), _("Value")])
    for key, value in report.params.items():
        params.append([key, str(value)])
    if report.currency:
        params.append(["currency", report.currency])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
