"""What every report is: columns, a page of rows, totals and a chart, the same for the screen, the CSV and
XLSX exports and the API, so that all of them show the same figures.

Values are raw: minutes as integers, money as Decimal, dates as dates; each interface writes them its
way (H:MM and "€1,089.00" on the screen, numbers in the XLSX, strings in JSON).
"""

from dataclasses import dataclass, field
from typing import Any

PAGE_SIZE = 50
# An export holds every row, up to this many (a spreadsheet's sheet holds a million).
EXPORT_ROWS = 100_000


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, minutes, money, quantity, number, percent, date


@dataclass
class Row:
    cells: dict[str, Any]
    # The filters that list this row's time entries (the drill-down), or none.
    filters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: list  # one per category of the chart


@dataclass(frozen=True)
class Chart:
    kind: str  # "bars" (stacked) or "lines"
    unit: str  # what the values are: "minutes", "money" or "hours"
    categories: list[str]  # the x axis: periods, or dates
    series: list[Series]


@dataclass
class Report:
    name: str  # time, unbilled, revenue, prepaid
    title: str
    columns: list[Column]
    rows: list[Row]
    totals: dict[str, Any]
    chart: Chart | None = None
    params: dict[str, Any] = field(default_factory=dict)  # the choices the figures are for, as given back
    currency: str = ""
    page: int = 1
    has_next: bool = False

    def values(self, row: Row) -> list:
        return [row.cells.get(column.key) for column in self.columns]
