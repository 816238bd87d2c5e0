"""Forms of the billing run: the "To Invoice" filters."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sales.models import Customer
from tickets.models import HelpdeskTeam

from .widgets import Lookup


class ToInvoiceFilter(forms.Form):
    """Which orders "To Invoice" lists, and the period end a run bills up to."""

    customer = forms.ModelChoiceField(Customer.objects.all(), required=False, label=_("Customer"),
                                      empty_label=pgettext_lazy("a filter's choice", "All"),
                                      widget=Lookup("to-invoice-customers"))
    team = forms.ModelChoiceField(HelpdeskTeam.objects.all(), required=False, label=_("Team"),
                                  empty_label=pgettext_lazy("a filter's choice", "All"),
                                  widget=Lookup("to-invoice-teams"))
    up_to = forms.DateField(required=False, label=_("Up to"),
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                            help_text=_("Timesheets up to this date (the period end); empty means all."))

    def clean_up_to(self):
        up_to = self.cleaned_data["up_to"]
        if up_to and up_to > timezone.localdate():
            raise forms.ValidationError(_("The period ends today at the latest: no time is logged in the future."))
        return up_to

    def chosen(self) -> dict:
        """The filters as run_start and orders_to_invoice take them; none when the form is invalid."""
        if not self.is_valid():
            return {"customer": None, "team": None, "period_end": None}
        data = self.cleaned_data
        return {"customer": data["customer"], "team": data["team"], "period_end": data["up_to"]}
