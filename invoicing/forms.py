from django import forms


class CreateInvoiceForm(forms.Form):
    """"Create Invoice", with an optional period: only the Timesheets dated within it are billed."""

    period_start = forms.DateField(required=False, label="Timesheets from",
                                   widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    period_end = forms.DateField(required=False, label="to",
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
