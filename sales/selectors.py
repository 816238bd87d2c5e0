from django.db.models import Q, QuerySet

from core.limits import searchable
from core.trigram import in_matching

from .models import TIMESHEET_POLICIES, Contact, Customer, SaleOrder, SaleOrderLine


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


def sale_orders_search(orders: QuerySet[SaleOrder], text: str) -> QuerySet[SaleOrder]:
    """Return the `orders` whose number or customer's name holds `text` (whatever the case, `%` and `_` as
    themselves); all of them for an empty `text`. The customers are read first (core.trigram.in_matching), so
    that PostgreSQL reads both conditions from indexes of the orders' table."""
    text = searchable(text)
    if not text:
        return orders
    customers = Customer.objects.filter(name__icontains=text)
    return orders.filter(Q(name__icontains=text) | in_matching("customer", customers))


# --- The customer portal (issue 18) --------------------------------------------------------------

def contact_lines(*, contact) -> QuerySet[SaleOrderLine]:
    """The lines a customer's contact follows: their customer's confirmed orders' lines (Hours)."""
    return (SaleOrderLine.objects.filter(order__customer_id=contact.customer_id, order__state=SaleOrder.State.SALE)
            .select_related("order", "product").order_by("-order_id", "pk"))


def contact_of(user):
    """The Contact of a signed-in customer's contact, with their customer; None for anyone else."""
    if not user.is_authenticated:
        return None
    return Contact.objects.select_related("customer", "user").filter(user=user, user__is_active=True).first()
