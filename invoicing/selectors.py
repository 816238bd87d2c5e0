"""Reads of the invoicing app, among them the billing invariant (DESIGN Rule 8)."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import Sum

from core.roles import sees_everything
from sales.models import SaleOrderLine
from sales.units import CENT, round_cents
from timesheets.models import TimeEntry
from timesheets.selectors import delivered_checkpoint_drift, sale_orders_for

from .models import Invoice, InvoiceLine


@dataclass(frozen=True)
class Drift:
    line_id: int
    label: str
    field: str
    stored: object
    actual: object

    def __str__(self):
        return f"line {self.line_id} ({self.label}): {self.field} stored {self.stored}, entries say {self.actual}"


# Every figure `billing_drift` checks, recomputed in one statement that reads the time entries
# once (`pairs`: a parallel, ordered read of the entry_by_line index) and returns only what
# differs. Rows: (1, line, stored and actual delivered, invoiced, quantity) for a line's
# totals; (2, invoice line, its sales order line) for an invoice line that is not live yet bills
# entries; (3, invoice line, sales order line, its minutes, its entries' minutes, minutes given
# back by posted credit notes, invoice) for an invoice line's minutes.
_DRIFT_SQL = """
WITH pairs AS (
    SELECT sale_line_id, invoice_line_id, SUM(billable_minutes) AS minutes
    FROM timesheets_timeentry GROUP BY sale_line_id, invoice_line_id
), doc AS (
    -- sign: 1 on a live invoice, -1 on a posted credit note, 0 otherwise (cancelled, draft note)
    SELECT il.id, il.invoice_id, il.sale_line_id, il.origin_id, il.minutes, il.quantity, i.kind, i.state,
           CASE WHEN i.kind = 'invoice' AND i.state IN ('draft', 'posted') THEN 1
                WHEN i.kind = 'credit_note' AND i.state = 'posted' THEN -1 ELSE 0 END AS sign
    FROM invoicing_invoiceline il JOIN invoicing_invoice i ON i.id = il.invoice_id
), by_line AS (
    SELECT sale_line_id, CAST(SUM(minutes) AS bigint) AS delivered,
           CAST(SUM(CASE WHEN invoice_line_id IS NULL THEN 0 ELSE minutes END) AS bigint) AS invoiced
    FROM pairs WHERE sale_line_id IS NOT NULL GROUP BY sale_line_id
), qty AS (
    SELECT sale_line_id, SUM(sign * quantity) AS quantity FROM doc WHERE sign <> 0 GROUP BY sale_line_id
), by_invoice_line AS (
    SELECT invoice_line_id, CAST(SUM(minutes) AS bigint) AS minutes FROM pairs
    WHERE invoice_line_id IS NOT NULL GROUP BY invoice_line_id
), credited AS (
    SELECT origin_id, SUM(minutes) AS minutes FROM doc WHERE sign = -1 GROUP BY origin_id
)
SELECT 1, l.id, l.delivered_minutes, COALESCE(t.delivered, 0), l.invoiced_minutes, COALESCE(t.invoiced, 0),
       l.qty_invoiced, COALESCE(q.quantity, 0)
FROM sales_saleorderline l LEFT JOIN by_line t ON t.sale_line_id = l.id LEFT JOIN qty q ON q.sale_line_id = l.id
WHERE l.delivered_minutes <> COALESCE(t.delivered, 0) OR l.invoiced_minutes <> COALESCE(t.invoiced, 0)
   OR ROUND(l.qty_invoiced, 2) <> ROUND(COALESCE(q.quantity, 0), 2)
UNION ALL
SELECT 2, d.id, d.sale_line_id, NULL, NULL, NULL, NULL, NULL FROM doc d
WHERE d.sign <> 1 AND EXISTS (SELECT 1 FROM timesheets_timeentry e WHERE e.invoice_line_id = d.id)
UNION ALL
-- From the tables, not `doc`: the planner estimates a filtered CTE at a few rows, and would loop.
SELECT 3, il.id, il.sale_line_id, il.minutes, COALESCE(b.minutes, 0), COALESCE(c.minutes, 0), il.invoice_id, NULL
FROM invoicing_invoiceline il JOIN invoicing_invoice i ON i.id = il.invoice_id
LEFT JOIN by_invoice_line b ON b.invoice_line_id = il.id LEFT JOIN credited c ON c.origin_id = il.id
WHERE i.kind = 'invoice' AND i.state <> 'cancelled' AND il.minutes > 0
  AND COALESCE(b.minutes, 0) + CASE WHEN COALESCE(b.minutes, 0) <> il.minutes THEN COALESCE(c.minutes, 0) ELSE 0 END
      <> il.minutes
"""


def _quantity(value) -> Decimal:
    """A quantity as a plain cursor reads it: a Decimal on PostgreSQL, a float on SQLite."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP) if isinstance(value, float) else Decimal(value)


def billing_drift() -> list[Drift]:
    """Recompute every stored total from the entries and invoices, set-based; return the differences.

    Also reports entries linked to an invoice that is not live (cancelled, or a credit note),
    invoice lines whose minutes differ from the entries they bill, and Delivered checkpoints
    that differ from the entries they sum. One statement reads the entries once, so the check
    costs little more than one GROUP BY over the table, and returns only what differs.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Summing the entries in the order of the entry_by_line index, which holds every
                # column the sums need, beats hashing a million rows; the planner's estimate does
                # not see it (measured: 143 ms against 178 ms, the raw GROUP BY taking 135 ms).
                cursor.execute("SET LOCAL enable_hashagg = off")
            cursor.execute(_DRIFT_SQL)
            rows = cursor.fetchall()
        transaction.set_rollback(True)  # undoes the SET LOCAL, inside a caller's transaction too
    lines = sorted(row[1:] for row in rows if row[0] == 1)
    names = dict(SaleOrderLine.objects.filter(pk__in=[row[0] for row in lines]).values_list("pk", "order__name"))
    drifts = []
    for line_id, delivered, actual_delivered, invoiced, actual_invoiced, qty, actual_qty in lines:
        for field, stored, actual in (("delivered_minutes", int(delivered), int(actual_delivered)),
                                      ("invoiced_minutes", int(invoiced), int(actual_invoiced)),
                                      ("qty_invoiced", _quantity(qty), _quantity(actual_qty))):
            if stored != actual:
                drifts.append(Drift(line_id, names[line_id], field, stored, actual))

    dead = sorted(row[1] for row in rows if row[0] == 2)
    for entry_id, line_id in (TimeEntry.objects.filter(invoice_line__in=dead).order_by("pk")
                              .values_list("pk", "sale_line_id")):
        drifts.append(Drift(line_id, f"entry {entry_id}", "invoice", "not live", "live invoice"))

    # Entries given back by posted credit notes account for a difference.
    for _, pk, line_id, minutes, billed, credited, _, _ in sorted((row for row in rows if row[0] == 3),
                                                                  key=lambda row: (row[6], row[1])):
        actual = int(billed) + (int(credited) if billed != minutes else 0)
        drifts.append(Drift(line_id, f"invoice line {pk}", "minutes", int(minutes), actual))

    for line_id, order_name, field, stored, actual in delivered_checkpoint_drift():
        drifts.append(Drift(line_id, order_name, field, stored, actual))
    return drifts


def invoices_for(*, user):
    """Return the invoices and credit notes `user` may see: all for managers and accountants; for
    agents, those of the sales orders they see."""
    if sees_everything(user):
        return Invoice.objects.all()
    return Invoice.objects.filter(sale_order__in=sale_orders_for(user=user).values("pk"))


def invoice_line_entry_ids(*, invoice_ids) -> dict[int, list[int]]:
    """Return {invoice line id: [time entry ids]} for these invoices, in three queries.

    A credit note's line lists the entries it gives back; an invoice's line the entries
    it bills, and keeps listing those a posted credit note gave back: a posted document
    does not change.
    """
    credited = InvoiceLine.credited_timesheets.through.objects
    pairs = [
        *credited.filter(invoiceline__invoice__in=invoice_ids, invoiceline__invoice__kind=Invoice.Kind.CREDIT_NOTE)
        .values_list("invoiceline_id", "timeentry_id"),
        *credited.filter(invoiceline__origin__invoice__in=invoice_ids, invoiceline__invoice__state=Invoice.State.POSTED)
        .values_list("invoiceline__origin_id", "timeentry_id"),
        *TimeEntry.objects.filter(invoice_line__invoice__in=invoice_ids).values_list("invoice_line_id", "pk"),
    ]
    by_line = defaultdict(set)
    for line_id, entry_id in pairs:
        by_line[line_id].add(entry_id)
    return {line_id: sorted(ids) for line_id, ids in by_line.items()}


def invoice_entries(*, invoice: Invoice) -> dict[int, list[TimeEntry]]:
    """Return, per invoice line, the time entries it bills (or, on a credit note, gives back), by date."""
    line_of = {entry_id: line_id for line_id, ids in invoice_line_entry_ids(invoice_ids=[invoice.pk]).items()
               for entry_id in ids}
    by_line = defaultdict(list)
    for entry in TimeEntry.objects.filter(pk__in=line_of).select_related("user", "ticket").order_by("date", "pk"):
        by_line[line_of[entry.pk]].append(entry)
    return dict(by_line)


ENTRIES_PER_PAGE = 100


def invoice_entries_page(*, invoice: Invoice, lines: list[InvoiceLine], number=None,
                         per_page: int = ENTRIES_PER_PAGE) -> tuple[Page, dict[int, list[TimeEntry]]]:
    """Return one page of the entries `invoice_entries` lists, by date, and that page's entries per line.

    The page costs the same whether the invoice bills ten entries or a hundred thousand, and
    whatever the table holds: the entries billed and those given back are two indexed reads,
    counted and sliced in the database; only the page's entries are then fetched.
    """
    credited = InvoiceLine.credited_timesheets.through.objects
    if invoice.is_credit_note:
        given_back = credited.filter(invoiceline__invoice=invoice)
        origin = "invoiceline_id"
    else:
        given_back = credited.filter(invoiceline__origin__invoice=invoice,
                                     invoiceline__invoice__state=Invoice.State.POSTED)
        origin = "invoiceline__origin_id"
    # (date, pk) of each entry: a UNION ALL, not an OR, which would make PostgreSQL scan the table.
    # Its parts drop TimeEntry's default ordering: SQLite refuses an ORDER BY inside a compound
    # statement, and PostgreSQL has no use for one there; the page orders the whole.
    keys = TimeEntry.objects.filter(pk__in=given_back.values("timeentry_id")).order_by().values_list("date", "pk")
    billing = {line.pk for line in lines} if not invoice.is_credit_note else set()
    if billing:
        billed = TimeEntry.objects.filter(invoice_line__in=billing).order_by().values_list("date", "pk")
        keys = billed.union(keys, all=True)
    page = Paginator(keys.order_by("date", "pk"), per_page).get_page(number)
    ids = [pk for _, pk in page]
    found = TimeEntry.objects.select_related("user", "ticket").in_bulk(ids)
    page.object_list = [found[pk] for pk in ids]  # the page holds its entries, in order
    line_of = dict(given_back.filter(timeentry_id__in=ids).values_list("timeentry_id", origin))
    by_line = defaultdict(list)
    for entry in page.object_list:
        by_line[entry.invoice_line_id if entry.invoice_line_id in billing else line_of[entry.pk]].append(entry)
    return page, dict(by_line)


def taxes_by_rate(*, invoice: Invoice) -> list[dict]:
    """Return [{"rate", "base", "tax"}] per tax rate, from the rounded lines."""
    rows = (invoice.lines.values("tax_rate").annotate(base=Sum("amount_untaxed"), tax=Sum("amount_tax"))
            .order_by("tax_rate"))
    # Rounded although the lines are: SQLite sums decimals as floats and drops their places (Decimal("90")).
    return [{**row, "base": round_cents(row["base"]), "tax": round_cents(row["tax"])} for row in rows]
