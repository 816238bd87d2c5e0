"""Dates and numbers written for the reader's language (the active one): what messages and documents
put in their sentences. Templates do the same with |date:"SHORT_DATE_FORMAT" and |floatformat.

English keeps ISO dates (2026-12-02) and 1,234.50; French writes 02/12/2026 and 1 234,50
(helpdesk_billing/formats). Stored values (audit changes, CSV, the API, e-invoices) stay ISO.
"""

import datetime
from decimal import Decimal

from django.utils import formats, timezone


def day(value: datetime.date | None) -> str:
    """A date as the language writes it short: "2026-12-02", "02/12/2026"; "" for None."""
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else ""


def moment(value: datetime.datetime | None) -> str:
    """A time of day with its date, in the site's time zone: "2026-12-02 14:05", "02/12/2026 14:05"."""
    if not value:
        return ""
    return formats.date_format(timezone.localtime(value) if timezone.is_aware(value) else value,
                               "SHORT_DATETIME_FORMAT")


def decimal(value, places: int = 2) -> str:
    """A number with `places` decimals and the language's separators: "1,234.50", "1 234,50"."""
    return formats.number_format(Decimal(value), places, use_l10n=True, force_grouping=True)
