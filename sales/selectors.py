from django.db.models import QuerySet

from core.limits import searchable

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


def customers_search(customers: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """Return the `customers` whose name holds `text` (whatever the case, `%` and `_` as themselves); all of them
    for an empty `text`. PostgreSQL reads the trigram index of the names (sales migration 0005)."""
    text = searchable(text)
    return customers.filter(name__icontains=text) if text else customers
