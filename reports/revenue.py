"""Revenue: posted invoices less posted credit notes (untaxed), per month, customer, team or sales order."""

from .params import Params, parse
from .tables import Report

DIMENSIONS = ("customer", "team", "order")


def revenue_params(data) -> Params:
    """from, to (the last 12 months by default), group_by (customer, team or order and/or month; month by
    default), customer (an id), currency (the company's by default), page."""
    return parse(data, dimensions=DIMENSIONS, filters=("customer",), default_group_by="month",
                 default_days=365)


def revenue_report(*, user, params: Params, all_rows: bool = False) -> Report:
    """Rows: `invoiced`, `credited`, `net` (money, in the report's currency), `documents`; a team's share of an
    invoice line follows its entries' minutes. Chart: net per month (bars). Totals over every row."""
    raise NotImplementedError  # being written by the lead
