"""A report's chart (reports.tables.Chart) as inline SVG, drawn on the server: no script, no style
attribute (the Content Security Policy allows neither), colours from classes in static/css/app.css.

Stacked bars (one `g.bar` per category, a `rect` per non-empty series) or lines (a `polyline` per run of
points, a `circle` per point); each bar, segment and point has a <title>: the browser's tooltip with the
value, minutes as H:MM, money with its currency.
"""

import math
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.l10n import decimal
from core.money import format_money
from reports.tables import Chart
from sales.units import format_minutes

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 12, 12, 42
MAX_LABELS = 12  # x labels shown at most; the others are thinned out (every bar keeps its tooltip)
TICKS = 5
MAX_BAR = 64  # a bar's width at most, however few the categories


def format_value(value, unit: str, currency: str = "") -> str:
    """A figure as the reader reads it: 90 minutes "1:30", money "€1,089.00", hours "12.50 h" ("12,50 h")."""
    if value is None:
        return "–"
    if unit == "minutes":
        return format_minutes(round(value))
    if unit == "money":
        return format_money(Decimal(str(value)), currency or "EUR")
    return _("{hours} h").format(hours=decimal(Decimal(str(value))))


def nice_step(top: float, unit: str) -> float:
    """A round step for about TICKS ticks up to `top`: 1, 2 or 5 times a power of ten, whole quarter and
    half hours or whole hours for minutes."""
    raw = max(top, 0) / TICKS
    if unit == "minutes":
        if raw <= 60:
            return next(step for step in (1, 5, 10, 15, 30, 60) if step >= raw)
        return nice_step(raw * TICKS / 60, "number") * 60
    if raw <= 0:
        return 1
    power = 10 ** math.floor(math.log10(raw))
    return next(power * factor for factor in (1, 2, 5, 10) if power * factor >= raw)


def _axis(top: float, unit: str) -> tuple[float, list[float]]:
    """The y axis' end and its ticks, from 0."""
    if top <= 0:
        top = 60 if unit == "minutes" else 1
    step = nice_step(top, unit)
    end = step * math.ceil(top / step - 1e-9)
    return end, [step * n for n in range(round(end / step) + 1)]


def _number(value) -> float:
    return float(value or 0)


class _Plot:
    """The drawing area's geometry: category slots along x, values up y."""

    def __init__(self, chart: Chart, top: float):
        self.unit = chart.unit
        self.end, self.ticks = _axis(top, chart.unit)
        self.count = max(len(chart.categories), 1)
        self.slot = (WIDTH - LEFT - RIGHT) / self.count
        self.height = HEIGHT - TOP - BOTTOM

    def y(self, value: float) -> float:
        return TOP + self.height - self.height * value / self.end

    def x(self, index: int) -> float:
        """The middle of category `index`'s slot."""
        return LEFT + self.slot * (index + .5)


def _grid(plot: _Plot, currency: str) -> list[str]:
    parts = []
    for tick in plot.ticks:
        y = round(plot.y(tick), 1)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>'
                     f'<text class="tick" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">'
                     f'{escape(format_value(tick, plot.unit, currency))}</text>')
    return parts


CHAR_WIDTH = 7.5  # a label's character, in the drawing's units, at the chart's font size


def _x_labels(plot: _Plot, categories: list[str]) -> list[str]:
    """As many labels as fit side by side (dates take more room than weeks), MAX_LABELS at most."""
    longest = max((len(category) for category in categories), default=1)
    fit = max(1, int((WIDTH - LEFT - RIGHT) // (longest * CHAR_WIDTH + 12)))
    every = max(1, math.ceil(len(categories) / min(MAX_LABELS, fit)))
    return [f'<text class="label" x="{round(plot.x(n), 1)}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
            f'{escape(category)}</text>'
            for n, category in enumerate(categories) if n % every == 0]


def _point(category: str, series, n: int, chart: Chart, currency: str) -> str:
    """A bar segment's or a point's tooltip: "2026-W49 · Billable: 1:30"."""
    return _("{category} · {series}: {value}").format(
        category=category, series=series.label, value=format_value(series.values[n], chart.unit, currency))


def _bars(plot: _Plot, chart: Chart, currency: str) -> list[str]:
    parts, width = [], min(max(plot.slot * .7, 1), MAX_BAR)
    for n, category in enumerate(chart.categories):
        values = [_number(series.values[n]) for series in chart.series]
        total = sum(values)
        summary = ", ".join(f"{series.label} {format_value(series.values[n] or 0, chart.unit, currency)}"
                            for series in chart.series)
        shown = format_value(total, chart.unit, currency)
        title = (_("{category}: {value} ({detail})").format(category=category, value=shown, detail=summary)
                 if len(chart.series) > 1 else _("{category}: {value}").format(category=category, value=shown))
        parts.append(f'<g class="bar" data-category="{escape(category)}" data-value="{total:g}">'
                     f'<title>{escape(title)}</title>')
        base = 0.0
        for index, (series, value) in enumerate(zip(chart.series, values)):
            if value <= 0:
                continue
            top, bottom = plot.y(base + value), plot.y(base)
            parts.append(f'<rect class="seg s{index}" data-series="{escape(series.key)}" '
                         f'x="{round(plot.x(n) - width / 2, 1)}" y="{round(top, 1)}" width="{round(width, 1)}" '
                         f'height="{round(bottom - top, 1)}">'
                         f'<title>{escape(_point(category, series, n, chart, currency))}</title></rect>')
            base += value
        parts.append("</g>")
    return parts


def _lines(plot: _Plot, chart: Chart, currency: str) -> list[str]:
    parts = []
    for index, series in enumerate(chart.series):
        runs, run = [], []
        for n, value in enumerate(series.values):
            if value is None:
                runs, run = runs + [run] if run else runs, []
            else:
                run.append((n, _number(value)))
        runs += [run] if run else []
        parts.append(f'<g class="series s{index}" data-series="{escape(series.key)}">')
        for points in runs:
            coords = " ".join(f"{round(plot.x(n), 1)},{round(plot.y(max(v, 0)), 1)}" for n, v in points)
            parts.append(f'<polyline class="line s{index}" points="{coords}"/>')
        for n, value in (point for points in runs for point in points):
            parts.append(f'<circle class="point s{index}" cx="{round(plot.x(n), 1)}" '
                         f'cy="{round(plot.y(max(value, 0)), 1)}" r="3">'
                         f'<title>{escape(_point(chart.categories[n], series, n, chart, currency))}</title></circle>')
        parts.append("</g>")
    return parts


def _top(chart: Chart) -> float:
    if chart.kind == "bars":
        return max((sum(_number(s.values[n]) for s in chart.series) for n in range(len(chart.categories))),
                   default=0)
    return max((_number(v) for s in chart.series for v in s.values if v is not None), default=0)


def render_chart(chart: Chart | None, *, currency: str = "", label: str = "") -> SafeString:
    """The chart as a <figure>: the SVG and its legend; "" for no chart."""
    if chart is None:
        return mark_safe("")
    label = label or _("Chart")
    plot = _Plot(chart, _top(chart))
    body = _bars(plot, chart, currency) if chart.kind == "bars" else _lines(plot, chart, currency)
    svg = (f'<svg class="chart-svg {escape(chart.kind)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-label="{escape(label)}" preserveAspectRatio="xMinYMin meet">'
           + "".join(_grid(plot, currency))
           + f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot.height}" y2="{TOP + plot.height}"/>'
           + "".join(body) + "".join(_x_labels(plot, chart.categories)) + "</svg>")
    legend = "".join(f'<li><span class="swatch s{n}"></span>{escape(series.label)}</li>'
                     for n, series in enumerate(chart.series))
    return mark_safe(f'<figure class="chart {escape(chart.kind)}">{svg}'
                     f'<ul class="chart-legend">{legend}</ul></figure>')
