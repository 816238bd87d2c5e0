"""Forms of the invoice page's Payment panel: Register Payment (or Refund), Reverse, a draft's due date.

They read the input's types only; what may be paid, when and how much is invoicing.payments' to say,
and its refusals are shown on these forms' fields (web.views.base.add_service_error).
"""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from core.limits import MAX_ID
from invoicing.models import Invoice, Payment

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PaymentForm(forms.Form):
    """Register Payment: the date received, the amount (the balance by default), the method, the payer's reference.

    The amount is text: "12,50", "abc" or "-5" reach the service, which answers with an example of an amount.
    """

    date = forms.DateField(label=_("Date"), widget=DATE,
                           error_messages={"invalid": _("Enter a date, e.g. 2026-03-31.")})
    amount = forms.CharField(label=_("Amount"), max_length=30,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12}))
    method = forms.ChoiceField(label=_("Method"), choices=Payment.Method.choices, initial=Payment.Method.BANK_TRANSFER)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False,
                                widget=forms.TextInput(attrs={"placeholder": _("e.g. the bank statement line")}))

    def __init__(self, *args, invoice: Invoice, **kwargs):
        # The balance as the reader writes amounts: 202.50, 202,50.
        balance = formats.number_format(invoice.amount_residual, 2, use_l10n=True)
        kwargs.setdefault("initial", {"date": timezone.localdate(), "amount": balance})
        super().__init__(*args, prefix="payment", **kwargs)

    def clean_amount(self) -> str:
        """The amount as the service reads it: in French, "1 234,50" (or "1.234,50") is 1234.50; in English
        "12,50" stays what it is, which the service refuses with an example."""
        return plain_amount(self.cleaned_data["amount"])


def plain_amount(text: str) -> str:
    """`text` with the language's separators made Python's, when that reads as a number; else as typed."""
    if formats.get_format("DECIMAL_SEPARATOR") != ",":
        return text
    plain = re.sub(r"[\s\u00a0\u202f]", "", text)
    if "," in plain:
        plain = plain.replace(".", "").replace(",", ".")
    try:
        Decimal(plain)
    except InvalidOperation:
        return text
    return plain


class ReverseForm(forms.Form):
    """Reverse a payment: why (returned by the bank, registered on the wrong invoice); the service requires it."""

    payment = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID, error_messages={
        key: _("Choose the payment to reverse in the list.") for key in ("required", "invalid", "min_value",
                                                                          "max_value")})
    reason = forms.CharField(label=_("Reason"), max_length=100, required=False,
                             widget=forms.TextInput(attrs={"placeholder": _("e.g. returned by the bank"), "size": 28}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="reverse", **kwargs)


class DueDateForm(forms.Form):
    """A draft's due date: blank takes the payment terms when it is posted."""

    due_date = forms.DateField(required=False, widget=DATE, label=_("New due date"),
                               error_messages={"invalid": _("Enter a date, e.g. 2026-03-31, or leave it blank.")})

    def __init__(self, *args, invoice: Invoice, **kwargs):
        kwargs.setdefault("initial", {"due_date": invoice.due_date})
        super().__init__(*args, prefix="due", **kwargs)
