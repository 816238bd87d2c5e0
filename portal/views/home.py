"""The portal's home: the customer's open tickets, time not yet billed, prepaid hours left, invoices to pay,
and their disputes awaiting an answer. A few queries, whatever the customer's history holds."""

from django.db.models import Q, Sum

from invoicing.models import Invoice
from sales.models import ServicePolicy, WorkType
from sales.selectors import contact_lines
from tickets.selectors import contact_tickets
from timesheets.selectors import contact_entries

from .base import page, portal_view, shown_invoices
from .tickets import CLOSED, spent

LATEST = 5

# The timesheets the Timesheets tables total as "Not yet billed" (tickets.billing_state: invoicing, to_invoice).
NOT_YET_BILLED = Q(invoice_line__invoice__state=Invoice.State.DRAFT) | (
    Q(invoice_line__isnull=True, held=False, written_off=False,
      sale_line__product__service_policy=ServicePolicy.DELIVERED_TIMESHEET)
    & ~Q(work_type__billing=WorkType.Billing.NO_CHARGE))


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
        "not_billed": entries.filter(NOT_YET_BILLED).aggregate(minutes=Sum("minutes"))["minutes"] or 0,
        "prepaid": list(contact_lines(contact=contact).filter(product__service_policy=ServicePolicy.ORDERED_PREPAID)),
        "unpaid": list(unpaid),
        "disputes": list(entries.filter(review__state="disputed").order_by("review__at", "pk")),
    })
