"""The choices a report is asked for, read from a query string (the screens' and the API's alike).

Bad input is refused with a message per parameter (ValidationError({"from": ...})), never a server error.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

UNITS = ("day", "week", "month")
# A chart has at most this many bars: a year of days, ten years of weeks or months.
MAX_BUCKETS = 550
MAX_DAYS = 3660
MAX_PAGE = 100_000
EARLIEST, LATEST = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)


@dataclass
class Params:
    start: datetime.date
    end: datetime.date
    unit: str = "week"
    dimension: str = ""
    filters: dict[str, int] = field(default_factory=dict)
    page: int = 1
    extra: dict[str, str] = field(default_factory=dict)

    def echo(self) -> dict:
        """The parameters as the report gives them back (and the links to pages and exports repeat them)."""
        group_by = ",".join(part for part in (self.dimension, self.unit) if part)
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "group_by": group_by,
                **{key: value for key, value in self.filters.items()}, **self.extra}


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def bucket_start(day: datetime.date, unit: str) -> datetime.date:
    return {"day": lambda d: d, "week": week_start, "month": month_start}[unit](day)


def bucket_end(start: datetime.date, unit: str) -> datetime.date:
    """The last day of the bucket that begins on `start`."""
    if unit == "day":
        return start
    if unit == "week":
        return start + datetime.timedelta(days=6)
    return (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def buckets(start: datetime.date, end: datetime.date, unit: str) -> list[datetime.date]:
    """Every bucket's first day from the one holding `start` to the one holding `end`: the chart's x axis,
    empty periods included."""
    found, day = [], bucket_start(start, unit)
    while day <= end:
        found.append(day)
        if unit == "day":
            day += datetime.timedelta(days=1)
        elif unit == "week":
            day += datetime.timedelta(days=7)
        else:
            day = (day + datetime.timedelta(days=32)).replace(day=1)
    return found


def bucket_label(day: datetime.date, unit: str) -> str:
    if unit == "month":
        return day.strftime("%Y-%m")
    if unit == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


def _date(data, key: str, default: datetime.date, errors: dict) -> datetime.date:
    text = (data.get(key) or "").strip()
    if not text:
        return default
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        errors[key] = _("Enter a date as YYYY-MM-DD, for example {date}.").format(date=timezone.localdate().isoformat())
        return default
    if not EARLIEST <= day <= LATEST:  # a period's default length or its last bucket would leave the calendar
        errors[key] = _("Enter a date from {start} to {end}.").format(start=EARLIEST.isoformat(),
                                                                      end=LATEST.isoformat())
        return default
    return day


def _whole(data, key: str, errors: dict, *, default=None, low=1, high=2**31 - 1):
    text = (data.get(key) or "").strip()
    if not text:
        return default
    # "²" is a digit to isdigit(), and int() refuses thousands of digits: ASCII, and at most 12 of them.
    if not (text.isascii() and text.isdigit() and len(text) <= 12) or not low <= int(text) <= high:
        errors[key] = _("Enter a whole number from {low} to {high}.").format(low=low, high=high)
        return default
    return int(text)


def _group_by(data, dimensions: tuple[str, ...], default: str, errors: dict) -> tuple[str, str]:
    parts = [part.strip() for part in (data.get("group_by") or default).split(",") if part.strip()]
    dimension = [part for part in parts if part in dimensions]
    unit = [part for part in parts if part in UNITS]
    unknown = [part for part in parts if part not in dimensions and part not in UNITS]
    if unknown or len(dimension) > 1 or len(unit) > 1 or not parts:
        errors["group_by"] = _("Group by one of {dimensions} and/or one of {units}, separated by a comma, for example "
                               "customer,month.").format(dimensions=", ".join(dimensions), units=", ".join(UNITS))
        return "", "week"
    return (dimension or [""])[0], (unit or [""])[0]


def _too_many(unit: str) -> str:
    text = {"day": _("That is more than {n} days: choose a longer unit or a shorter period."),
            "week": _("That is more than {n} weeks: choose a longer unit or a shorter period."),
            "month": _("That is more than {n} months: choose a longer unit or a shorter period.")}[unit]
    return text.format(n=MAX_BUCKETS)


def parse(data, *, dimensions: tuple[str, ...] = (), filters: tuple[str, ...] = (), default_group_by: str = "",
          default_days: int = 84, extra: dict[str, tuple[str, ...]] | None = None) -> Params:
    """Read `data` (a QueryDict or a dict): from, to, group_by, page, the filters (ids) and the `extra`
    choices ({name: allowed values}, the first the default). Defaults: the last `default_days` days."""
    errors: dict[str, str] = {}
    today = timezone.localdate()
    end = _date(data, "to", today, errors)
    start = _date(data, "from", end - datetime.timedelta(days=default_days - 1), errors)
    if not errors and start > end:
        errors["from"] = _("The period starts after it ends: choose a start on or before the end.")
    elif not errors and (end - start).days > MAX_DAYS:
        errors["from"] = _("Choose a period of ten years at most.")
    dimension, unit = _group_by(data, dimensions, default_group_by, errors) if dimensions or default_group_by \
        else ("", "")
    if unit and not errors and len(buckets(start, end, unit)) > MAX_BUCKETS:
        errors["group_by"] = _too_many(unit)
    chosen = {key: value for key in filters
              if (value := _whole(data, key, errors)) is not None}
    page = _whole(data, "page", errors, default=1, high=MAX_PAGE)
    picked = {}
    for name, allowed in (extra or {}).items():
        value = (data.get(name) or allowed[0]).strip()
        if value not in allowed:
            errors[name] = _("Choose one of {values}.").format(values=", ".join(allowed))
        picked[name] = value
    if errors:
        raise ValidationError(errors)
    return Params(start=start, end=end, unit=unit, dimension=dimension, filters=chosen, page=page, extra=picked)
