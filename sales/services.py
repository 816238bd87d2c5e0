"""Writes of the sales app: orders, and the stored totals of their lines.

Sales knows nothing of time entries: the timesheets and invoicing apps compute
the totals and hand them over through `sale_lines_set_totals`.
"""

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import TIMESHEET_POLICIES, Customer, SaleOrder, SaleOrderLine


@transaction.atomic
def sale_order_confirm(*, order: SaleOrder) -> SaleOrder:
    """Turn a quotation into a sales order ("Confirm")."""
    # Locked so two clicks on Confirm cannot both pass the state check.
    order = SaleOrder.objects.select_for_update().get(pk=order.pk)
    if order.state != SaleOrder.State.DRAFT:
        raise ValidationError(f"Only a quotation can be confirmed; {order.name} is {order.get_state_display()}.")
    if not order.lines.exists():
        raise ValidationError("Add at least one order line before confirming.")
    order.state = SaleOrder.State.SALE
    order.confirmed_at = timezone.now()
    order.save(update_fields=["state", "confirmed_at"])
    return order


@transaction.atomic
def sale_order_cancel(*, order: SaleOrder) -> SaleOrder:
    """Cancel a quotation or a sales order that has nothing invoiced and no time on it."""
    order = SaleOrder.objects.select_for_update().get(pk=order.pk)
    if order.state == SaleOrder.State.CANCEL:
        raise ValidationError(f"{order.name} is already cancelled.")
    # Locking the lines waits for agents logging on them, so their time is seen below.
    lines = sale_lines_lock(ids=order.lines.values_list("pk", flat=True))
    if any(line.delivered_minutes or line.qty_invoiced for line in lines):
        raise ValidationError(f"{order.name} has time logged or invoiced on it and cannot be cancelled.")
    order.state = SaleOrder.State.CANCEL
    order.save(update_fields=["state"])
    return order


def sale_line_check_billable(*, line: SaleOrderLine, customer: Customer | None) -> None:
    """Refuse a line that time of `customer` may not bill to (DESIGN Rule 4)."""
    order = line.order
    if order.state != SaleOrder.State.SALE:
        raise ValidationError(f"{order.name} is not a confirmed sales order: confirm it before billing time to it.")
    if customer is None or order.customer_id != customer.pk:
        raise ValidationError(
            f"{order.name} belongs to {order.customer}, not to {customer or 'no customer'}: "
            "choose a line of this customer's order."
        )
    if line.product.service_policy not in TIMESHEET_POLICIES:
        raise ValidationError(f"{line.product} is not billed on timesheets: choose a service line.")


def sale_lines_lock(*, ids: Iterable[int]) -> list[SaleOrderLine]:
    """Lock the lines in primary-key order.

    Every writer of line totals locks through here, in the same order, so two
    transactions touching the same lines cannot deadlock, and a recomputation
    done after the lock sees every committed entry.
    """
    ids = sorted(set(i for i in ids if i is not None))
    if not ids:
        return []
    return list(
        SaleOrderLine.objects.select_for_update(of=("self",)).select_related("order", "product")
        .filter(pk__in=ids).order_by("pk")
    )


def sale_lines_set_totals(*, totals: Mapping[int, Mapping[str, object]]) -> None:
    """Store recomputed totals, e.g. {line_id: {"delivered_minutes": 90, "invoiced_minutes": 0}}.

    Callers hold the lines' locks (`sale_lines_lock`).
    """
    for line_id, fields in sorted(totals.items()):
        SaleOrderLine.objects.filter(pk=line_id).update(**fields)
