"""Create Invoice's preview: what it would create, and what it would leave out and why, before anything is created.

The lines are Create Invoice's own: it runs, inside a savepoint that is then rolled back, so the
preview cannot say anything else than what the click will do (rates, rounding, minimums, approval,
the period). The entries left out are read beside it, one GROUP BY for the reasons and one page of
examples, whatever their number.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, CharField, Count, Q, Sum, Value, When
from django.utils.translation import gettext as _

from core.errors import error_message
from sales.models import SaleOrder, WorkType
from timesheets.lines import no_charge_q
from timesheets.models import TimeEntry

from .models import Invoice
from .services import check_period, invoice_create_from_order

EXAMPLES = 50


def _reasons(period_start, period_end) -> list[tuple[Q, str]]:
    """Why an entry of the order is not billed now, first match first."""
    reasons = [
        (Q(approval=TimeEntry.Approval.REJECTED), _("rejected")),
        (Q(written_off=True), _("written off (no charge)")),
        (Q(held=True), _("disputed by the customer (held until resolved)")),
        (Q(work_type__billing=WorkType.Billing.NON_BILLABLE), _("non-billable work type")),
        (Q(invoice_line__invoice__state=Invoice.State.DRAFT), _("on another invoice (a draft)")),
    ]
    if period_start:
        reasons.append((Q(date__lt=period_start), _("before the period")))
    if period_end:
        reasons.append((Q(date__gt=period_end), _("after the period")))
    reasons.append((Q(invoice_line=None, billable_minutes=0) & ~no_charge_q()
                    & Q(approval=TimeEntry.Approval.TO_APPROVE), _("not approved yet")))
    return reasons


def left_out(*, order: SaleOrder, period_start=None, period_end=None) -> dict:
    """Return {"reasons": [{"reason", "entries", "minutes"}], "examples": [entries, with .reason]}: the
    order's time that Create Invoice would not bill now, and why."""
    reasons = _reasons(period_start, period_end)
    # Non-billable time bills no line: it is the order's by its ticket's, else its task's, Sales Order Item.
    on_order = (Q(sale_line__order=order) | Q(sale_line=None, ticket__sale_line__order=order)
                | Q(sale_line=None, ticket=None, task__sale_line__order=order))
    entries = (TimeEntry.objects.filter(on_order)
               .filter(Q(invoice_line=None) | Q(invoice_line__invoice__state=Invoice.State.DRAFT))
               .annotate(reason=Case(*[When(q, then=Value(text)) for q, text in reasons], default=Value(""),
                                     output_field=CharField()))
               .exclude(reason=""))
    totals = {row["reason"]: row for row in entries.values("reason").annotate(n=Count("pk"), m=Sum("minutes"))
              .order_by()}
    order_of = [text for _q, text in reasons]
    rows = [{"reason": reason, "entries": totals[reason]["n"], "minutes": int(totals[reason]["m"])}
            for reason in order_of if reason in totals]
    examples = list(entries.select_related("user", "ticket", "work_type").order_by("date", "pk")[:EXAMPLES])
    return {"reasons": rows, "examples": examples}


def invoice_preview(*, order: SaleOrder, period_start: datetime.date | None = None,
                    period_end: datetime.date | None = None, actor=None) -> dict:
    """Return what Create Invoice would do now, changing nothing: {"lines": [invoice lines as they were
    read before the rollback: their ids name rows that no longer exist], "amount_untaxed", "amount_tax",
    "amount_total", "error": the refusal it would give or "", "left_out": `left_out`}. A period that is not
    one is refused, as Create Invoice refuses it."""
    check_period(period_start, period_end)
    preview = {"lines": [], "amount_untaxed": None, "amount_tax": None, "amount_total": None, "error": ""}
    with transaction.atomic():
        try:
            invoice = invoice_create_from_order(order=order, period_start=period_start, period_end=period_end,
                                                actor=actor)
        except ValidationError as error:
            preview["error"] = error_message(error)
        else:
            preview["lines"] = list(invoice.lines.select_related("sale_line").order_by("pk"))
            preview.update(amount_untaxed=invoice.amount_untaxed, amount_tax=invoice.amount_tax,
                           amount_total=invoice.amount_total)
        transaction.set_rollback(True)  # nothing was created: the savepoint is undone
    preview["left_out"] = left_out(order=order, period_start=period_start, period_end=period_end)
    return preview
