"""Template filters for the units: minutes as H:MM or decimal hours, quantities in their unit, money with two
decimals.

The convention (README, Formats): durations are H:MM on every time screen, in every language; quantities on
orders and invoices are in the line's unit with two decimals, written for the reader's language ("4.50 h",
"1.25 d"; in French "4,50 h", "1,25 j", a no-break space before the unit).
"""

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.l10n import decimal
from sales.units import DAY, HOUR, format_minutes, minutes_to_qty, round_cents

register = template.Library()

# A unit as written after a quantity: short, so that a column of figures stays readable.
UNIT_SYMBOLS = {HOUR: pgettext_lazy("unit symbol: hours", "h"), DAY: pgettext_lazy("unit symbol: days", "d")}


@register.filter
def hmm(minutes) -> str:
    """90 -> "1:30"."""
    return "" if minutes in (None, "") else format_minutes(int(minutes))


@register.filter
def hours(minutes) -> Decimal:
    """90 -> Decimal("1.50")."""
    return minutes_to_qty(int(minutes or 0), "hour")


@register.filter
def quantity(value, uom: str = "") -> str:
    """Decimal("4.5") -> "4.50"; with the line's unit, "hour" -> "4.50 h", "day" -> "4.50 d" (French: "4,50 h")."""
    if value in (None, ""):
        return ""
    number = number_format(round_cents(Decimal(value)), decimal_pos=2)
    symbol = UNIT_SYMBOLS.get(uom, "")
    # Translators: a quantity and its unit symbol ("4.50 h"); French puts a no-break space between them.
    return _("{quantity} {unit}").format(quantity=number, unit=symbol) if symbol else number


@register.filter
def unit_symbol(uom: str) -> str:
    """"hour" -> "h": the unit as written after a quantity."""
    return str(UNIT_SYMBOLS.get(uom, ""))


@register.filter
def money(value) -> str:
    """Decimal("1234.5") -> "1,234.50" (French: "1 234,50")."""
    if value in (None, ""):
        return ""
    return decimal(round_cents(Decimal(value)))
