"""The portal's home: the customer's open tickets, time not yet billed, prepaid hours left, invoices to pay,
and their disputes awaiting an answer. A few queries, whatever the customer's history holds."""

from django.db.models import Q, Sum

from core.trigram import in_matching
from invoicing.models import Invoice
from sales.models import ServicePolicy, WorkType
from sales.selectors import contact_lines
from tickets.selectors import contact_tickets
from timesheets.selectors import contact_entries

from .base import page, portal_view, shown_invoices
from .tickets import CLOSED, spent

LATEST = 5

# The timesheets the Timesheets tables total as "Not yet billed" (tickets.billing_state: invoicing, to_invoice):
# on a draft invoice, or on none yet. Two sums rather than one OR, which would join every entry to its invoice.
ON_A_DRAFT = Q(invoice_line__invoice__state=Invoice.State.DRAFT)
TO_INVOICE = (Q(invoice_line__isnull=True, held=False, written_off=False,
                sale_line__product__service_policy=ServicePolicy.DELIVERED_TIMESHEET)
              & ~Q(work_type__billing=WorkType.Billing.NO_CHARGE))


def not_yet_billed(contact) -> int:
    """The minutes of the customer's time not yet on a posted invoice. The customer's tickets are read first, as
    a list (core.trigram.in_matching): joined, PostgreSQL would scan every ticket to find them (bench, target 2)."""
    entries = contact_entries(contact=contact).filter(in_matching("ticket", contact_tickets(contact=contact)))
    return sum(entries.filter(q).aggregate(minutes=Sum("minutes"))["minutes"] or 0 for q in (TO_INVOICE, ON_A_DRAFT))


@portal_view
def home(request):
    contact = request.contact
    open_tickets = contact_tickets(contact=contact).exclude(status__in=CLOSED)
    entries = contact_entries(contact=contact)
    unpaid = (shown_invoices(contact).filter(kind=Invoice.Kind.INVOICE, amount_residual__gt=0)
              .order_by("due_date", "pk"))
    return page(request, "portal/home.html", {
        "open_count": open_tickets.count(),
        "latest": open_tickets.annotate(minutes_spent=spent(contact)).order_by("-pk")[:LATEST],
        "not_billed": not_yet_billed(contact),
        "prepaid": list(contact_lines(contact=contact).filter(product__service_policy=ServicePolicy.ORDERED_PREPAID)),
        "unpaid": list(unpaid),
        "disputes": list(entries.filter(review__state="disputed").order_by("review__at", "pk")),
    })
