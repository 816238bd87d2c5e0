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
from django.views.decorators.http import require_POST

from core.errors import Conflict
from core.money import format_money
from invoicing.models import Invoice, Payment
from invoicing.payments import invoice_due_date_set, payment_register, payment_reverse

from ..forms.payments import DueDateForm, PaymentForm, ReverseForm
from .base import add_service_error, refuse_unless, show_refusal
from .invoices import invoice_page, invoice_shown

ACCOUNTANTS_ONLY = "Only accountants register and reverse payments and set due dates."


def _invoice_to_pay(request, pk) -> Invoice:
    invoice = get_object_or_404(invoice_shown(request.user), pk=pk)
    refuse_unless(request.user.has_perm("invoicing.register_payment"), ACCOUNTANTS_ONLY)
    return invoice


def _sent_back(request, invoice: Invoice, name: str, form):
    """The invoice page again, `form` (refused) in the Payment panel with its messages: nothing changed."""
    return invoice_page(request, invoice, {name: form}, status=400)


@login_required
@require_POST
def payment_register_view(request, pk):
    invoice = _invoice_to_pay(request, pk)
    form = PaymentForm(request.POST, invoice=invoice)
    if form.is_valid():
        try:
            payment = payment_register(invoice=invoice, actor=request.user, **form.cleaned_data)
        except Conflict as error:  # the document's state, not the input: said above the page
            show_refusal(request, error)
            return redirect("invoice_detail", pk=invoice.pk)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            invoice.refresh_from_db()
            what = "Refund" if invoice.is_credit_note else "Payment"
            messages.success(request, f"{what} of {format_money(payment.amount, invoice.currency)} registered on "
                                      f"{invoice}: {invoice.get_payment_state_display().lower()}, "
                                      f"{format_money(invoice.amount_residual, invoice.currency)} left to settle.")
            return redirect("invoice_detail", pk=invoice.pk)
    return _sent_back(request, invoice, "payment", form)


@login_required
@require_POST
def payment_reverse_view(request, pk):
    invoice = _invoice_to_pay(request, pk)
    form = ReverseForm(request.POST)
    if form.is_valid():
        payment = get_object_or_404(Payment, pk=form.cleaned_data["payment"], invoice=invoice)
        try:
            payment_reverse(payment=payment, reason=form.cleaned_data["reason"], actor=request.user)
        except Conflict as error:  # the document's state, not the input: said above the page
            show_refusal(request, error)
            return redirect("invoice_detail", pk=invoice.pk)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            invoice.refresh_from_db()
            messages.success(request, f"Payment of {format_money(payment.amount, invoice.currency)} of "
                                      f"{payment.date:%Y-%m-%d} reversed: "
                                      f"{format_money(invoice.amount_residual, invoice.currency)} left to settle.")
            return redirect("invoice_detail", pk=invoice.pk)
    return _sent_back(request, invoice, "reverse", form)


@login_required
@require_POST
def invoice_due_date_view(request, pk):
    invoice = _invoice_to_pay(request, pk)
    form = DueDateForm(request.POST, invoice=invoice)
    if form.is_valid():
        due_date = form.cleaned_data["due_date"]
        try:
            invoice_due_date_set(invoice=invoice, due_date=due_date, actor=request.user)
        except Conflict as error:  # the document's state, not the input: said above the page
            show_refusal(request, error)
            return redirect("invoice_detail", pk=invoice.pk)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"{invoice} is due on {due_date:%Y-%m-%d}." if due_date else
                             f"{invoice}'s due date will come from the payment terms when it is posted.")
            return redirect("invoice_detail", pk=invoice.pk)
    return _sent_back(request, invoice, "due", form)
