"""Time and money at the edges: minutes are stored, hours and days are shown.

A quantity in a line's unit is its minutes divided by the unit's length,
rounded HALF-UP to 0.01; an amount is quantity × price rounded HALF-UP to cents.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext_lazy as _

from core.money import round_money

HOUR = "hour"
DAY = "day"
UOM_CHOICES = [(HOUR, _("Hours")), (DAY, _("Days"))]

CENT = Decimal("0.01")


def minutes_per_unit(uom: str) -> int:
    """Return how many minutes one unit of `uom` holds (1 day = HOURS_PER_DAY hours)."""
    if uom == HOUR:
        return 60
    if uom == DAY:
        return 60 * settings.HOURS_PER_DAY
    raise ValueError(f"Unknown unit {uom!r}")


def minutes_per_unit_expression(prefix: str = ""):
    """`minutes_per_unit` in SQL, of the line's `uom` at `prefix` ("sale_line__" from an entry)."""
    return Case(When(**{f"{prefix}uom": DAY}, then=Value(minutes_per_unit(DAY))), default=Value(minutes_per_unit(HOUR)),
                output_field=IntegerField())


def round_cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def minutes_to_qty(minutes: int, uom: str) -> Decimal:
    """Return `minutes` in `uom`, rounded HALF-UP to 0.01 (400 min -> 6.67 h)."""
    return round_cents(Decimal(minutes) / minutes_per_unit(uom))


def qty_to_minutes(qty: Decimal, uom: str) -> int:
    """Return a quantity in `uom` as whole minutes, rounded HALF-UP."""
    return int((Decimal(qty) * minutes_per_unit(uom)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def amount(qty: Decimal, price: Decimal, currency: str = "EUR") -> Decimal:
    """Quantity × price, rounded HALF-UP to the currency's minor unit (cents; yen are whole)."""
    return round_money(Decimal(qty) * Decimal(price), currency)


def tax_amount(untaxed: Decimal, rate_percent: Decimal, currency: str = "EUR") -> Decimal:
    return round_money(Decimal(untaxed) * Decimal(rate_percent) / 100, currency)


def format_minutes(minutes: int) -> str:
    """Return minutes as H:MM (90 -> "1:30")."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(int(minutes)), 60)
    return f"{sign}{hours}:{rest:02d}"


def charged_minutes(minutes: int, *, increment: int, minimum: int, per_ticket: bool) -> int:
    """Return what a ticket's `minutes` on one invoice are billed (DESIGN Rule 14): rounded up to the
    increment when the rounding is per ticket (per entry, each entry already is), then raised to the
    minimum. Nothing stays nothing: a ticket with no billable minute is charged no minimum."""
    if minutes <= 0:
        return 0
    step = increment if per_ticket else 1
    return max(-(-minutes // step) * step, minimum)
