"""Reads of the invoicing app, among them the billing invariant (DESIGN Rule 8)."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, Sum

from sales.models import SaleOrderLine
from timesheets.models import TimeEntry

from .models import ZERO, Invoice, InvoiceLine


@dataclass(frozen=True)
class Drift:
    line_id: int
    label: str
    field: str
    stored: object
    actual: object

    def __str__(self):
        return f"line {self.line_id} ({self.label}): {self.field} stored {self.stored}, entries say {self.actual}"


def billing_drift() -> list[Drift]:
    """Recompute every stored total from the entries and invoices, set-based; return the differences.

    Also reports entries linked to an invoice that is not live (cancelled, or a credit note),
    and invoice lines whose minutes differ from the entries they bill.
    """
    time = defaultdict(lambda: (0, 0))
    for row in (TimeEntry.objects.filter(sale_line__isnull=False).values("sale_line_id")
                .annotate(d=Sum("billable_minutes"), i=Sum("billable_minutes", filter=Q(invoice_line__isnull=False)))
                .order_by()):
        time[row["sale_line_id"]] = (row["d"], row["i"] or 0)
    qty = defaultdict(lambda: ZERO)
    for row in (InvoiceLine.objects
                .filter(Q(invoice__kind=Invoice.Kind.INVOICE, invoice__state__in=[Invoice.State.DRAFT, Invoice.State.POSTED])
                        | Q(invoice__kind=Invoice.Kind.CREDIT_NOTE, invoice__state=Invoice.State.POSTED))
                .values("sale_line_id", "invoice__kind").annotate(q=Sum("quantity")).order_by()):
        sign = -1 if row["invoice__kind"] == Invoice.Kind.CREDIT_NOTE else 1
        qty[row["sale_line_id"]] += sign * row["q"]

    drifts = []
    lines = (SaleOrderLine.objects.select_related("order")
             .values_list("pk", "order__name", "delivered_minutes", "invoiced_minutes", "qty_invoiced")
             .order_by("pk"))
    for pk, order_name, delivered, invoiced, qty_invoiced in lines.iterator(chunk_size=5000):
        actual_delivered, actual_invoiced = time[pk]
        for field, stored, actual in (("delivered_minutes", delivered, actual_delivered),
                                      ("invoiced_minutes", invoiced, actual_invoiced),
                                      ("qty_invoiced", qty_invoiced, qty[pk])):
            if stored != actual:
                drifts.append(Drift(pk, order_name, field, stored, actual))

    dead = TimeEntry.objects.filter(invoice_line__isnull=False).exclude(
        invoice_line__invoice__kind=Invoice.Kind.INVOICE,
        invoice_line__invoice__state__in=[Invoice.State.DRAFT, Invoice.State.POSTED])
    for entry_id, line_id in dead.values_list("pk", "sale_line_id"):
        drifts.append(Drift(line_id, f"entry {entry_id}", "invoice", "not live", "live invoice"))

    billed = (InvoiceLine.objects.filter(invoice__kind=Invoice.Kind.INVOICE, minutes__gt=0)
              .exclude(invoice__state=Invoice.State.CANCELLED)
              .annotate(entries=Sum("timesheets__billable_minutes")))
    for inv_line in billed.values("pk", "sale_line_id", "minutes", "entries", "invoice_id"):
        credited = 0
        if inv_line["entries"] != inv_line["minutes"]:
            # Entries given back by posted credit notes account for the difference.
            credited = (InvoiceLine.objects.filter(origin_id=inv_line["pk"], invoice__state=Invoice.State.POSTED)
                        .aggregate(m=Sum("minutes"))["m"] or 0)
        if (inv_line["entries"] or 0) + credited != inv_line["minutes"]:
            drifts.append(Drift(inv_line["sale_line_id"], f"invoice line {inv_line['pk']}", "minutes",
                                inv_line["minutes"], (inv_line["entries"] or 0) + credited))
    return drifts


def invoice_entries(*, invoice: Invoice) -> dict[int, list[TimeEntry]]:
    """Return, per invoice line, the time entries it bills (or, on a credit note, gives back).

    An invoice line keeps listing entries that a posted credit note gave back:
    a posted document does not change.
    """
    credited = InvoiceLine.credited_timesheets.through.objects
    if invoice.is_credit_note:
        line_of = dict(credited.filter(invoiceline__invoice=invoice).values_list("timeentry_id", "invoiceline_id"))
    else:
        line_of = dict(credited.filter(invoiceline__origin__invoice=invoice,
                                       invoiceline__invoice__state=Invoice.State.POSTED)
                       .values_list("timeentry_id", "invoiceline__origin_id"))
        line_of.update(TimeEntry.objects.filter(invoice_line__invoice=invoice).values_list("pk", "invoice_line_id"))
    by_line = defaultdict(list)
    for entry in TimeEntry.objects.filter(pk__in=line_of).select_related("user", "ticket").order_by("date", "pk"):
        by_line[line_of[entry.pk]].append(entry)
    return dict(by_line)


def taxes_by_rate(*, invoice: Invoice) -> list[dict]:
    """Return [{"rate", "base", "tax"}] per tax rate, from the rounded lines."""
    return list(invoice.lines.values("tax_rate").annotate(base=Sum("amount_untaxed"), tax=Sum("amount_tax"))
                .order_by("tax_rate"))
