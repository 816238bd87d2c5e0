"""The Payment panel's actions on the invoice page: Register Payment (a refund on a credit note), Reverse,
and a draft's due date. Accountants only (the rule invoicing.register_payment): others get the 403 page,
and an invoice out of the user's sight is a 404 before that.

Each POST that succeeds comes back to the invoice page with a message; a refusal (invoicing.payments)
shows the invoice page again with the message on the field it concerns.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import Conflict
from core.l10n import day
from core.money import format_money
from invoicing.models import Invoice, Payment
from invoicing.payments import invoice_due_date_set, payment_register, payment_reverse

from ..forms.payments import DueDateForm, PaymentForm, ReverseForm
from .base import add_service_error, refuse_unless, show_refusal
from .invoices import invoice_page, invoice_shown

ACCOUNTANTS_ONLY = gettext_lazy("Only accountants register and reverse payments and set due dates.")


def _invoice_to_pay(request, pk) -> Invoice:
    invoice = get_object_or_404(invoice_shown(request.user), pk=pk)
    refuse_unless(request.user.has_perm("invoicing.register_payment"), ACCOUNTANTS_ONLY)
    return invoice


def _sent_back(request, invoice: Invoice, name: str, form):
    """The invoice page again, `form` (refused) in the Payment panel with its messages: nothing changed."""
    return invoice_page(request, invoice, {name: form}, status=400)


def _submit(request, invoice, form, which: str, act):
    """For a valid form, run `act(cleaned_data)`: a service call that returns the success message. A refusal
    of the document's state (Conflict) is said above the page; one of the input goes on the form's fields
    (the form is shown again); either way nothing changed."""
    if form.is_valid():
        try:
            message = act(form.cleaned_data)
        except Conflict as error:
            show_refusal(request, error)
            return redirect("invoice_detail", pk=invoice.pk)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, message)
            return redirect("invoice_detail", pk=invoice.pk)
    return _sent_back(request, invoice, which, form)


@login_required
@require_POST
def payment_register_view(request, pk):
    invoice = _invoice_to_pay(request, pk)

    def register(data):
        payment = payment_register(invoice=invoice, actor=request.user, **data)
        invoice.refresh_from_db()
        text = (_("Refund of {amount} registered on {invoice}: {state}, {balance} left to settle.")
                if invoice.is_credit_note else
                _("Payment of {amount} registered on {invoice}: {state}, {balance} left to settle."))
        return text.format(amount=format_money(payment.amount, invoice.currency), invoice=invoice,
                           state=invoice.get_payment_state_display().lower(),
                           balance=format_money(invoice.amount_residual, invoice.currency))

    return _submit(request, invoice, PaymentForm(request.POST, invoice=invoice), "payment", register)


@login_required
@require_POST
def payment_reverse_view(request, pk):
    invoice = _invoice_to_pay(request, pk)

    def reverse(data):
        payment = get_object_or_404(Payment, pk=data["payment"], invoice=invoice)
        payment_reverse(payment=payment, reason=data["reason"], actor=request.user)
        invoice.refresh_from_db()
        return _("Payment of {amount} of {date} reversed: {balance} left to settle.").format(
            amount=format_money(payment.amount, invoice.currency), date=day(payment.date),
            balance=format_money(invoice.amount_residual, invoice.currency))

    return _submit(request, invoice, ReverseForm(request.POST), "reverse", reverse)


@login_required
@require_POST
def invoice_due_date_view(request, pk):
    invoice = _invoice_to_pay(request, pk)

    def set_due(data):
        due_date = data["due_date"]
        invoice_due_date_set(invoice=invoice, due_date=due_date, actor=request.user)
        if due_date:
            return _("{invoice} is due on {date}.").format(invoice=invoice, date=day(due_date))
        return _("{invoice}'s due date will come from the payment terms when it is posted.").format(invoice=invoice)

    return _submit(request, invoice, DueDateForm(request.POST, invoice=invoice), "due", set_due)
