"""Template filters for the units: minutes as H:MM or decimal hours, money with two decimals."""

from decimal import Decimal

from django import template

from sales.units import format_minutes, minutes_to_qty

register = template.Library()


@register.filter
def hmm(minutes) -> str:
    """90 -> "1:30"."""
    return "" if minutes in (None, "") else format_minutes(int(minutes))


@register.filter
def hours(minutes) -> Decimal:
    """90 -> Decimal("1.50")."""
    return minutes_to_qty(int(minutes or 0), "hour")


@register.filter
def money(value) -> str:
    """Decimal("1234.5") -> "1,234.50"."""
    if value in (None, ""):
        return ""
    return f"{Decimal(value):,.2f}"
