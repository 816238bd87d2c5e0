"""Durations as people type them, and back.

Accepted, whatever the language: `1:30`, `1.5`, `1,5`, `2`, `1h30`, `1 h 30`, `1h 30m`, `2h`, `90m`, `90 min`.
Durations are written H:MM in every language (format_minutes).
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sales.units import format_minutes  # noqa: F401  (durations are read and written here)

MAX_MINUTES = 24 * 60
HINT = gettext_lazy("Enter a duration like 1:30, 1.5, 1h30 or 90m.")

_CLOCK = re.compile(r"^(\d{1,3}):([0-5]\d)$")
_DECIMAL = re.compile(r"^\d{1,3}(?:[.,]\d+)?$|^[.,]\d+$")
_UNITS = re.compile(r"^(?:(\d{1,3})\s*h(?:ours?|rs?)?)?\s*(?:(\d{1,4})\s*m(?:in(?:utes?|s)?)?)?$")
_HOURS_MINUTES = re.compile(r"^(\d{1,3})\s*h\s*(\d{1,2})$")


def parse_duration(text) -> int:
    """Return the minutes in `text`; raise ValidationError with an accepted form otherwise."""
    if isinstance(text, bool) or text is None:
        raise ValidationError(_hinted(_("A duration is required.")), code="invalid")
    value = str(text).strip().lower()
    if not value:
        raise ValidationError(_hinted(_("A duration is required.")), code="required")
    if value.startswith("-"):
        raise ValidationError(_hinted(_("A duration cannot be negative.")), code="min_value")
    minutes = _minutes(value)
    if minutes is None:
        raise ValidationError(_hinted(_("“{text}” is not a duration.").format(text=str(text)[:40])), code="invalid")
    check_minutes(minutes)
    return minutes


def _hinted(message: str) -> str:
    """The refusal, then an accepted form: two sentences."""
    return f"{message} {HINT}"


def check_minutes(minutes: int) -> None:
    """Refuse durations of zero, below zero, or over 24 hours (DESIGN Rule 3)."""
    if minutes <= 0:
        raise ValidationError(_("A duration must be more than 0 minutes."), code="min_value")
    if minutes > MAX_MINUTES:
        raise ValidationError(_("A single time entry cannot exceed 24 hours (24:00)."), code="max_value")


def _minutes(value: str) -> int | None:
    if match := _CLOCK.match(value):
        return int(match[1]) * 60 + int(match[2])
    if _DECIMAL.match(value):
        try:
            hours = Decimal(value.replace(",", "."))
        except InvalidOperation:
            return None
        return int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if match := _HOURS_MINUTES.match(value):
        if int(match[2]) >= 60:
            return None
        return int(match[1]) * 60 + int(match[2])
    if value and (match := _UNITS.match(value)) and (match[1] or match[2]):
        return int(match[1] or 0) * 60 + int(match[2] or 0)
    return None
