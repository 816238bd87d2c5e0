import pytest
from django.core.exceptions import ValidationError

from timesheets.durations import format_minutes, parse_duration


@pytest.mark.parametrize("text, minutes", [
    ("1:30", 90), ("1.5", 90), ("1,5", 90), ("1h30", 90), ("90m", 90), ("2h", 120), ("2", 120),
    ("1h 30m", 90), ("90 min", 90), ("0:05", 5), (".25", 15), (" 24:00 ", 1440), ("0.333", 20),
])
def test_accepted_forms(text, minutes):
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text, message", [
    ("abc", "“abc” is not a duration. Enter a duration like 1:30, 1.5, 1h30 or 90m."),
    ("1:75", "is not a duration"),
    ("", "A duration is required."),
    (None, "A duration is required."),
    ("-1:00", "A duration cannot be negative."),
    ("0", "A duration must be more than 0 minutes."),
    ("0:00", "A duration must be more than 0 minutes."),
    ("24:01", "A single time entry cannot exceed 24 hours (24:00)."),
    ("25h", "A single time entry cannot exceed 24 hours"),
    ("1e3", "is not a duration"),
    ("NaN", "is not a duration"),
])
def test_refused_forms_say_what_is_accepted(text, message):
    with pytest.raises(ValidationError) as e:
        parse_duration(text)
    assert message in e.value.messages[0]


@pytest.mark.parametrize("minutes, text", [(90, "1:30"), (5, "0:05"), (1440, "24:00"), (630, "10:30")])
def test_format_round_trips(minutes, text):
    assert format_minutes(minutes) == text
    assert parse_duration(text) == minutes
