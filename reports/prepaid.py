"""Prepaid lines: ordered, used, remaining, the last four weeks' rate and the day the block runs out."""

from .params import Params, parse
from .tables import Chart, Report


def prepaid_params(data) -> Params:
    """customer, order (ids), page."""
    return parse(data, filters=("customer", "order"), default_days=1)


def prepaid_report(*, user, params: Params, all_rows: bool = False) -> Report:
    """Rows per prepaid line of a confirmed order (least remaining first): order, customer, line, ordered,
    used, remaining (quantities in the line's unit), used_percent, weekly_rate (minutes per week over the
    last four weeks), runs_out (a date, or None when nothing is being used). Each row's filters: {"line": id}
    (the burn-down)."""
    raise NotImplementedError  # being written by the lead


def burndown(*, line) -> Chart:
    """The line's remaining hours at the end of each week since its first entry (or its order's date), and,
    at the last four weeks' rate, the weeks until it runs out: a "lines" chart of two series,
    `remaining` and `projected` (None where a series has no point)."""
    raise NotImplementedError  # being written by the lead
