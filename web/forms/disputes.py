"""The forms of the customer portal's internal side (issue 18): resolving a dispute, a message on a ticket."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from timesheets.durations import HINT, parse_duration
from timesheets.models import CustomerReview

Resolution = CustomerReview.Resolution
# What the accountant chooses, as verbs (the review then reads "Kept as logged", "Written off", "Corrected").
RESOLUTIONS = [(Resolution.KEPT, _("Keep as logged")), (Resolution.WRITTEN_OFF, _("Write off")),
               (Resolution.CORRECTED, _("Correct the duration"))]


class ResolveForm(forms.Form):
    """Resolve a dispute: keep, write off or correct (a duration typed as anywhere else: 1:30, 1.5, 90m), with
    an answer the customer reads. The page to go back to (`next`) is the view's to check."""

    resolution = forms.ChoiceField(label=_("Resolution"), choices=RESOLUTIONS,
                                   error_messages={"invalid_choice": _("Choose keep, write off or correct."),
                                                   "required": _("Choose keep, write off or correct.")})
    duration = forms.CharField(label=_("Corrected duration"), required=False,
                               widget=forms.TextInput(attrs={"placeholder": "0:45", "title": HINT}))
    # The service says what is missing or too long ("Give the customer an answer."), as the API's does.
    answer = forms.CharField(label=_("Answer to the customer"), required=False, strip=False)

    def clean(self):
        data = super().clean()
        if data.get("resolution") == Resolution.CORRECTED:
            try:
                data["minutes"] = parse_duration(data.get("duration", ""))
            except ValidationError as error:
                self.add_error("duration", error.messages)
        else:
            data["minutes"] = None
        return data


class MessageForm(forms.Form):
    """A reply on a ticket's Messages; the service says what is too long."""

    body = forms.CharField(label=_("Message"), error_messages={"required": _("Write the message first.")},
                           widget=forms.Textarea(attrs={"rows": 3}))
