"""The form of the Timesheets tab, to log an entry or change one."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from timesheets.durations import HINT, parse_duration


class TimeEntryForm(forms.Form):
    """A line of the Timesheets tab: the duration is typed as people type it (1:30, 1.5, 1h30, 90m)."""

    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    duration = forms.CharField(
        required=False,  # an empty duration gets parse_duration's message, which shows an accepted form
        widget=forms.TextInput(attrs={"placeholder": "1:30", "autocomplete": "off", "required": True,
                                      "inputmode": "text", "size": 7, "title": HINT}),
    )
    description = forms.CharField(required=False, max_length=500,
                                  widget=forms.TextInput(attrs={"placeholder": "What did you do?"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and "date" not in self.initial:
            self.initial["date"] = timezone.localdate()

    def clean_duration(self) -> int:
        """Return the duration in minutes."""
        try:
            return parse_duration(self.cleaned_data["duration"])
        except ValidationError as error:
            raise ValidationError(error.messages) from error
