from django.db.models import QuerySet

from .models import TIMESHEET_POLICIES, Customer, SaleOrder, SaleOrderLine


def sale_lines_billable_for(*, customer: Customer | None) -> QuerySet[SaleOrderLine]:
    """Return the lines time of `customer` may bill to: confirmed orders, service products."""
    return (
        SaleOrderLine.objects.filter(
            order__customer=customer,
            order__state=SaleOrder.State.SALE,
            product__service_policy__in=TIMESHEET_POLICIES,
        )
        .select_related("order", "product")
        .order_by("order_id", "pk")
    )
