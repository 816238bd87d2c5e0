"""The form of the Timesheets tab, to log an entry or change one."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sales.models import WorkType
from timesheets.durations import HINT, parse_duration


def work_type_label(work_type: WorkType) -> str:
    """"On-site", "Internal (non-billable)", "Goodwill (no charge)": what the agent picks from."""
    if work_type.billing == WorkType.Billing.BILLABLE:
        return work_type.name
    return _("{work_type} ({billing})").format(work_type=work_type.name,
                                               billing=work_type.get_billing_display().lower())


class TimeEntryForm(forms.Form):
    """A line of the Timesheets tab: the duration is typed as people type it (1:30, 1.5, 1h30, 90m).

    `work_types` are the choices of Work type, read once by the view for both forms of the tab;
    `empty_label` names what the empty choice means: the team's default when logging, none when editing.
    """

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    duration = forms.CharField(
        label=_("Duration"),
        required=False,  # an empty duration gets parse_duration's message, which shows an accepted form
        widget=forms.TextInput(attrs={"placeholder": "1:30", "autocomplete": "off", "required": True,
                                      "inputmode": "text", "size": 7, "title": HINT}),
    )
    description = forms.CharField(label=_("Description"), required=False, max_length=500,
                                  widget=forms.TextInput(attrs={"placeholder": _("What did you do?")}))
    work_type = forms.ChoiceField(label=_("Work type"), required=False)

    def __init__(self, *args, work_types: list[WorkType] = (), empty_label: str = _("Team default"), **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and "date" not in self.initial:
            self.initial["date"] = timezone.localdate()
        self.work_types = {str(work_type.pk): work_type for work_type in work_types}
        self.fields["work_type"].choices = [("", empty_label), *(
            (pk, work_type_label(work_type)) for pk, work_type in self.work_types.items())]

    def clean_duration(self) -> int:
        """Return the duration in minutes."""
        try:
            return parse_duration(self.cleaned_data["duration"])
        except ValidationError as error:
            raise ValidationError(error.messages) from error

    def clean_work_type(self) -> WorkType | None:
        """Return the work type chosen, or None for the empty choice."""
        return self.work_types.get(self.cleaned_data["work_type"])
