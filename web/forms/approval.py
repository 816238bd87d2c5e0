"""Forms of the To Approve screen: its filters."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sales.models import Customer
from tickets.models import HelpdeskTeam

from ..lookups import active_users, person
from .widgets import Lookup


class ApprovalFilter(forms.Form):
    """Which timesheets To Approve lists: a team, an agent, a customer, a period."""

    # Every team, agent and customer is a choice; the page lists none of them (web.lookups).
    team = forms.ModelChoiceField(HelpdeskTeam.objects.all(), required=False, label=_("Team"),
                                  empty_label=_("All teams"), widget=Lookup("approval-teams"))
    agent = forms.ModelChoiceField(active_users(), required=False, label=_("Agent"), empty_label=_("All agents"),
                                   widget=Lookup("approval-agents"))
    customer = forms.ModelChoiceField(Customer.objects.all(), required=False, label=_("Customer"),
                                      empty_label=_("All customers"), widget=Lookup("approval-customers"))
    # ISO in the input whatever the language: a date input shows it as the browser's language writes dates.
    start = forms.DateField(required=False, label=_("From"),
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(required=False, label=_("To"),
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].label_from_instance = person

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The period ends on or after its first day."))
        return data

    def chosen(self) -> dict | None:
        """The filters as to_approve_for takes them: none when unbound, None when a value is wrong."""
        if not self.is_bound:
            return {}
        if not self.is_valid():
            return None
        return {name: value for name, value in self.cleaned_data.items() if value is not None}
