"""Unbilled work: every timesheet line's time to invoice, by customer, aged by entry date
(0-30, 31-60, 61-90, over 90 days before the `to` date), with its amount at the line's price."""

from .params import Params, parse
from .tables import Report

AGES = (("d0_30", "0-30 days", 0, 30), ("d31_60", "31-60 days", 31, 60), ("d61_90", "61-90 days", 61, 90),
        ("over_90", "Over 90 days", 91, None))


def unbilled_params(data) -> Params:
    """to (the day ages count from; today by default), customer (an id), page."""
    return parse(data, filters=("customer",), default_days=1)


def unbilled_report(*, user, params: Params, all_rows: bool = False) -> Report:
    """Rows per customer (most money first): for each age, minutes (`d0_30`) and amount (`d0_30_amount`),
    then `total` and `total_amount`; totals over every customer; a bar chart of the amount per age.
    Each row's filters list its entries to invoice (the Time report's drill-down, status=to_invoice)."""
    raise NotImplementedError  # being written by the lead
