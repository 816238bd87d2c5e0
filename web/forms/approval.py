"""Forms of the To Approve screen: its filters."""

from django import forms
from django.contrib.auth import get_user_model

from sales.models import Customer
from tickets.models import HelpdeskTeam

from .tickets import PlainSelect


def _choices(field, rows, label) -> None:
    """Fill `field`'s options from plain rows: a manager's filters list every team, agent and customer."""
    field.widget.choices = [("", field.empty_label), *((pk, label(*rest)) for pk, *rest in rows)]


class ApprovalFilter(forms.Form):
    """Which timesheets To Approve lists: a team, an agent, a customer, a period."""

    team = forms.ModelChoiceField(HelpdeskTeam.objects.order_by("name", "pk"), required=False,
                                  empty_label="All teams", widget=PlainSelect)
    agent = forms.ModelChoiceField(get_user_model().objects.filter(is_active=True).order_by("username"),
                                   required=False, empty_label="All agents", widget=PlainSelect)
    customer = forms.ModelChoiceField(Customer.objects.order_by("name", "pk"), required=False,
                                      empty_label="All customers", widget=PlainSelect)
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _choices(self.fields["team"], self.fields["team"].queryset.values_list("pk", "name"), str)
        _choices(self.fields["agent"], self.fields["agent"].queryset.values_list("pk", "username", "first_name",
                                                                                 "last_name"),
                 lambda username, first, last: f"{first} {last}".strip() or username)
        _choices(self.fields["customer"], self.fields["customer"].queryset.values_list("pk", "name"), str)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "The period ends on or after its first day.")
        return data

    def chosen(self) -> dict | None:
        """The filters as to_approve_for takes them: none when unbound, None when a value is wrong."""
        if not self.is_bound:
            return {}
        if not self.is_valid():
            return None
        return {name: value for name, value in self.cleaned_data.items() if value is not None}
