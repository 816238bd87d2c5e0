"""The receivable on screen: the invoice page's Payment panel and the Overdue list.

Managers and accountants (the rule invoicing.see_receivables) see payments, balances and what is
overdue; only accountants (invoicing.register_payment) register and reverse payments and set a
draft's due date (web.views.payments). Agents see neither: the panel is left out, the list answers 403.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from invoicing.models import Invoice, Reminder
from invoicing.payments import overdue_invoices, terms_days
from sales.models import Company

from ..forms.payments import DueDateForm, PaymentForm
from .base import page, paginate, refuse_unless

RECEIVABLES_ONLY = gettext_lazy("Only managers and accountants see payments, balances and overdue invoices.")
OVERDUE_PER_PAGE = 100


def receivable_panel(user, invoice: Invoice, forms: dict) -> dict | None:
    """Return what the Payment panel shows `user` of `invoice`, or None when it shows nothing.

    `forms` holds a form sent back with its errors ("payment", "reverse" or "due"); the others are blank.
    """
    if not user.has_perm("invoicing.see_receivables"):
        return None
    can_pay = user.has_perm("invoicing.register_payment")
    if invoice.state == Invoice.State.DRAFT and not invoice.is_credit_note:
        return {"draft": True, "can_pay": can_pay, "terms": _terms(invoice),
                "due_form": forms.get("due") or DueDateForm(invoice=invoice)}
    if invoice.state != Invoice.State.POSTED:
        return None
    # One query each, however many payments and reminders: who registered a row and whether it was reversed.
    payments = list(invoice.payments.select_related("created_by", "reversal").order_by("pk"))
    return {
        "draft": False, "can_pay": can_pay, "payments": payments,
        "reminders": [] if invoice.is_credit_note else list(invoice.reminders.all()),
        "payment_form": forms.get("payment") or PaymentForm(invoice=invoice),
        "reverse_form": forms.get("reverse"),
        # The payment whose Reverse was refused: its reason box opens again with the message under it.
        "reverse_pk": getattr(forms.get("reverse"), "cleaned_data", {}).get("payment"),
        "open": invoice.amount_residual > 0,
    }


def _terms(invoice: Invoice) -> str:
    """Say which payment terms a draft's posting will apply."""
    days = terms_days(invoice)
    if invoice.customer.payment_terms_days is None:
        return ngettext("{count} day after the invoice date (the company's payment terms)",
                        "{count} days after the invoice date (the company's payment terms)", days).format(count=days)
    return ngettext("{count} day after the invoice date ({customer}'s payment terms)",
                    "{count} days after the invoice date ({customer}'s payment terms)", days).format(
        count=days, customer=invoice.customer_name)


@login_required
def overdue_list(request):
    """Posted invoices past their due date with something left to pay, the oldest due first."""
    refuse_unless(request.user.has_perm("invoicing.see_receivables"), RECEIVABLES_ONLY)
    today = timezone.localdate()
    invoices = overdue_invoices(today)
    totals = list(invoices.order_by().values("currency").annotate(
        count=Count("pk"), total=Sum("amount_total"), balance=Sum("amount_residual")).order_by("currency"))
    latest_first = Reminder.objects.order_by("-step_days")
    page_obj = paginate(request, invoices.select_related("sale_order").prefetch_related(
        Prefetch("reminders", queryset=latest_first, to_attr="reminders_latest")), OVERDUE_PER_PAGE)
    for invoice in page_obj:
        invoice.days_late = (today - invoice.due_date).days
        invoice.last_reminder = invoice.reminders_latest[0] if invoice.reminders_latest else None
    return page(request, "web/invoices/overdue_list.html", {
        "page_obj": page_obj, "totals": totals, "today": today,
        "steps": Company.current().reminder_steps,
    })
