"""Reads of the invoicing app, among them the billing invariant (DESIGN Rule 8)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import NamedTuple

from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, Exists, F, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Round

from core.db import plain_rows
from core.limits import searchable
from core.roles import sees_everything
from core.trigram import in_matching
from sales.models import Rounding, SaleOrder, SaleOrderLine, ServicePolicy
from sales.units import amount, charged_minutes, minutes_to_qty, round_cents
from tickets.models import Ticket
from timesheets.delivered import Minutes, checkpoint_drift, entry_sums, line_minutes
from timesheets.lines import billable_expression
from timesheets.models import TimeEntry
from timesheets.selectors import sale_orders_for

from .models import Invoice, InvoiceLine, TicketCharge
from .payments import balance_drifts


@dataclass(frozen=True)
class Drift:
    """A stored figure that differs from what its entries or invoice lines say; `label` names where."""

    line_id: int
    field: str
    stored: object
    actual: object
    label: str = ""  # the line's order name unless given

    def __str__(self):
        return f"line {self.line_id} ({self.label}): {self.field} stored {self.stored}, entries say {self.actual}"


# How an invoice line counts in its sales order line's invoiced quantity, by its document's kind
# and state: +1 on a live invoice (a draft or posted), -1 on a posted credit note (it gives back,
# from the moment it frees the entries it names), 0 otherwise (a cancelled document, a credit
# note still a draft).
SIGNS = {
    (Invoice.Kind.INVOICE, Invoice.State.DRAFT): 1,
    (Invoice.Kind.INVOICE, Invoice.State.POSTED): 1,
    (Invoice.Kind.CREDIT_NOTE, Invoice.State.POSTED): -1,
}


def in_cents(field: str):
    """Return a decimal column of cents as a whole number of cents: exact on both databases (SQLite keeps
    decimals as floating-point numbers), and cheap to read by the ten thousand."""
    return Cast(Round(F(field) * 100), BigIntegerField())


class Doc(NamedTuple):
    """An invoice line as the checks read it."""

    pk: int
    line_id: int
    origin_id: int | None
    minutes: int
    cents: int  # its quantity in cents
    kind: str  # its document's
    state: str
    rounding: int

    @property
    def sign(self) -> int:
        """How it counts in its sales order line's invoiced figures (SIGNS)."""
        return SIGNS.get((self.kind, self.state), 0)


def _documents(invoice_lines: QuerySet[InvoiceLine]) -> list[Doc]:
    """Return invoice lines as the checks read them, in plain rows (core.db.plain_rows)."""
    return [Doc(*row) for row in plain_rows(invoice_lines.annotate(cents=in_cents("quantity")).values_list(
        "pk", "sale_line_id", "origin_id", "minutes", "cents", "invoice__kind", "invoice__state",
        "rounding_minutes").order_by("pk"))]


def signed_cents(documents: Iterable[Doc]) -> dict[int, int]:
    """Fold invoice lines (`_documents`) into {sales order line id: invoiced quantity in cents}: its
    lines on live invoices less those on posted credit notes."""
    quantities = defaultdict(int)
    for doc in documents:
        if doc.sign:
            quantities[doc.line_id] += doc.sign * doc.cents
    return dict(quantities)


def signed_rounding(documents: Iterable[Doc]) -> dict[int, int]:
    """Fold invoice lines into {sales order line id: rounding minutes} (Rule 14), signed as `signed_cents`."""
    rounding = defaultdict(int)
    for doc in documents:
        if doc.sign and doc.rounding:
            rounding[doc.line_id] += doc.sign * doc.rounding
    return dict(rounding)


def _from_cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def invoiced_figures(*, line_ids: Iterable[int]) -> dict[int, tuple[Decimal, int]]:
    """Return {sales order line id: (invoiced quantity, rounding minutes)} of these lines (those with invoices)."""
    documents = _documents(InvoiceLine.objects.filter(sale_line_id__in=line_ids))
    cents, rounding = signed_cents(documents), signed_rounding(documents)
    return {line_id: (_from_cents(cents.get(line_id, 0)), rounding.get(line_id, 0))
            for line_id in {doc.line_id for doc in documents}}


def _entry_pairs() -> dict[tuple[int | None, int | None], int]:
    """Return `entry_sums` of every entry: the one read of the whole table a check makes."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Summing the entries in the order of the entry_pairs index, which holds every
                # column the sums need, beats hashing a million rows; the planner's estimate does
                # not see it (measured: 59 ms against 110 ms, the raw GROUP BY by line taking 92 ms).
                cursor.execute("SET LOCAL enable_hashagg = off")
        pairs = entry_sums(TimeEntry.objects.all())
        transaction.set_rollback(True)  # undoes the SET LOCAL, inside a caller's transaction too
    return pairs


def billing_drift() -> list[Drift]:
    """Recompute every stored figure from the entries and invoices; return the differences (Rule 8).

    A line's delivered and invoiced minutes against `line_minutes` of its entries, its invoiced
    quantity against `signed_cents` of its invoice lines; entries linked to an invoice line
    that is not live (cancelled, or a credit note); invoice lines whose minutes differ from the
    entries they bill; Delivered checkpoints that differ from the entries they sum. The entries
    are read once, in one GROUP BY (`entry_sums`, the sum Delivered itself is kept by), so the
    check costs little more than that GROUP BY; then the lines and the invoice lines, once each.
    """
    pairs = _entry_pairs()
    billed = defaultdict(int)  # minutes of the entries on each invoice line
    for (_, invoice_line), minutes in pairs.items():
        if invoice_line is not None:
            billed[invoice_line] += minutes
    documents, totals = _documents(InvoiceLine.objects.all()), line_minutes(pairs)
    drifts = _line_drifts(totals, signed_cents(documents), signed_rounding(documents))
    drifts += _dead_links(billed, documents) + _invoice_line_drifts(billed, documents) + _charge_drifts(documents)
    drifts += [Drift(line_id, field, stored, actual) for line_id, field, stored, actual in checkpoint_drift(totals)]
    drifts += _count_drifts()
    drifts += [Drift(0, field, stored, actual, label=number) for number, field, stored, actual in balance_drifts()]
    names = dict(SaleOrderLine.objects.filter(pk__in={d.line_id for d in drifts}).values_list("pk", "order__name"))
    return [replace(d, label=d.label or names[d.line_id]) for d in drifts]


def _line_drifts(by_line: dict[int, Minutes], quantities: dict[int, int], rounding: dict[int, int]) -> list[Drift]:
    """Return the lines' stored figures that differ from their entries and invoice lines (quantities in cents)."""
    drifts, nothing = [], Minutes()
    for pk, delivered, invoiced, qty, rounded in plain_rows(
            SaleOrderLine.objects.annotate(cents=in_cents("qty_invoiced"))
            .values_list("pk", "delivered_minutes", "invoiced_minutes", "cents", "rounding_minutes").order_by("pk")):
        actual = by_line.get(pk, nothing)
        if rounding.get(pk, 0) != rounded:
            drifts.append(Drift(pk, "rounding_minutes", rounded, rounding.get(pk, 0)))
        if actual.delivered != delivered:
            drifts.append(Drift(pk, "delivered_minutes", delivered, actual.delivered))
        if actual.invoiced != invoiced:
            drifts.append(Drift(pk, "invoiced_minutes", invoiced, actual.invoiced))
        if quantities.get(pk, 0) != qty:
            drifts.append(Drift(pk, "qty_invoiced", _from_cents(qty), _from_cents(quantities.get(pk, 0))))
    return drifts


def _count_drifts() -> list[Drift]:
    """Return the unbilled entries whose billable minutes are not what their policy says now (Rules 11, 15):
    counted when they should not be (awaiting approval, rejected, written off), or the other way."""
    wrong = (TimeEntry.objects.filter(invoice_line=None).annotate(expected=billable_expression(joined=True))
             .exclude(billable_minutes=F("expected")).order_by("pk"))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # The planner's estimate for the CASE over every unbilled entry makes it compile the
                # statement (JIT), which costs more than running it (measured: 1.3 s of 3.4 s).
                cursor.execute("SET LOCAL jit = off")
        rows = list(wrong.values_list("pk", "sale_line_id", "billable_minutes", "expected"))
        transaction.set_rollback(True)  # undoes the SET LOCAL, as in _entry_pairs
    return [Drift(line_id, "billable_minutes", stored, expected, label=f"entry {pk}")
            for pk, line_id, stored, expected in rows]


def _dead_links(billed: dict[int, int], documents: list[tuple]) -> list[Drift]:
    """Return the entries linked to an invoice line that is not live: cancelled, or a credit note's."""
    dead = [doc.pk for doc in documents if doc.sign != 1 and doc.pk in billed]
    return [Drift(line_id, "invoice", "not live", "live invoice", label=f"entry {entry_id}")
            for entry_id, line_id in TimeEntry.objects.filter(invoice_line__in=dead).order_by("pk")
            .values_list("pk", "sale_line_id")]


def _invoice_line_drifts(billed: dict[int, int], documents: list[Doc]) -> list[Drift]:
    """Return the invoice lines whose minutes differ from the entries they bill plus their rounding (Rule 14).

    Posted credit notes that gave some entries back, and freed them, account for a difference: the
    invoice, posted, keeps its minutes.
    """
    credited = defaultdict(int)  # the entries' minutes given back, without the rounding
    for doc in documents:
        if doc.sign == -1:
            credited[doc.origin_id] += doc.minutes - doc.rounding
    drifts = []
    for doc in documents:
        if doc.kind != Invoice.Kind.INVOICE or not doc.minutes or doc.state == Invoice.State.CANCELLED:
            continue
        actual = billed.get(doc.pk, 0) + doc.rounding
        if actual != doc.minutes:
            actual += credited[doc.pk]
        if actual != doc.minutes:
            drifts.append(Drift(doc.line_id, "minutes", doc.minutes, actual, label=f"invoice line {doc.pk}"))
    return drifts


def _charge_drifts(documents: list[Doc]) -> list[Drift]:
    """Return the invoice lines whose rounding is not the sum of their tickets' charges (Rule 14)."""
    charged = dict(TicketCharge.objects.values("invoice_line").annotate(
        r=Sum(F("billed") - F("minutes"), output_field=BigIntegerField()))
                   .values_list("invoice_line", "r").order_by())
    return [Drift(doc.line_id, "rounding_minutes", doc.rounding, int(charged.get(doc.pk, 0)),
                  label=f"invoice line {doc.pk}")
            for doc in documents if doc.rounding != int(charged.get(doc.pk, 0))]


def invoices_for(*, user):
    """Return the invoices and credit notes `user` may see: all for managers and accountants; for
    agents, those of the sales orders they see."""
    if sees_everything(user):
        return Invoice.objects.all()
    return Invoice.objects.filter(sale_order__in=sale_orders_for(user=user).values("pk"))


def contact_invoices(*, contact):
    """The invoices and credit notes a customer's contact sees: their customer's posted ones (a draft, and a
    cancelled draft, never reached the customer)."""
    return (Invoice.objects.filter(customer_id=contact.customer_id, state=Invoice.State.POSTED)
            .order_by("-invoice_date", "-pk"))


def invoices_search(invoices: QuerySet[Invoice], text: str) -> QuerySet[Invoice]:
    """Return the `invoices` whose number, customer's name (as on the invoice) or order's number holds `text`
    (whatever the case, `%` and `_` as themselves); all of them for an empty `text`. The orders are read first
    (core.trigram.in_matching), so that PostgreSQL reads every condition from an index of the invoices' table."""
    text = searchable(text)
    if not text:
        return invoices
    orders = SaleOrder.objects.filter(name__icontains=text)
    return invoices.filter(Q(number__icontains=text) | Q(customer_name__icontains=text)
                           | in_matching("sale_order", orders))


def invoice_ids_of(entries: QuerySet[TimeEntry]) -> list[int]:
    """Return the invoices and credit notes that bill these entries or gave them back, cancelled ones aside.

    The ticket page's "Invoices" smart button counts them; the invoice list filters by them.
    """
    ids = set()
    rows = entries.order_by().values_list("invoice_line__invoice_id", "credit_lines__invoice_id",
                                          "credit_lines__invoice__refers_id", "credit_lines__invoice__state")
    for billed, note, credited, note_state in rows.distinct():
        ids.add(billed)
        if note_state not in (None, Invoice.State.CANCELLED):  # a posted credit note freed the entries it gives back
            ids.update((note, credited))
    ids.discard(None)
    return sorted(ids)


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
    entries = TimeEntry.objects.filter(pk__in=line_of).select_related("user", "ticket", "work_type")
    for entry in entries.order_by("date", "pk"):
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
    found = TimeEntry.objects.select_related("user", "ticket", "work_type").in_bulk(ids)
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


# --- To Invoice (the billing run's screen) -------------------------------------------------

def _charged(entries: QuerySet[TimeEntry]) -> dict[int, int]:
    """Return {line id: minutes Create Invoice would bill} for the lines of `entries` whose product rounds per
    ticket or has a minimum (Rule 14): each ticket's sum charged by the rule. One GROUP BY, over those lines."""
    rounded = Q(sale_line__product__rounding=Rounding.TICKET) | Q(sale_line__product__minimum_minutes__gt=0)
    # Keyed as charges.line_fill keys a charge: the ticket, else (time on a task without a ticket) the task.
    alone = Case(When(ticket__isnull=True, then=F("task")), default=Value(None), output_field=BigIntegerField())
    rows = (entries.filter(rounded).annotate(alone=alone)
            .values("sale_line", "ticket", "alone", "sale_line__product__rounding",
                    "sale_line__product__billing_increment_minutes", "sale_line__product__minimum_minutes")
            .annotate(m=Sum("billable_minutes")).order_by())
    billed = defaultdict(int)
    for row in rows:
        billed[row["sale_line"]] += charged_minutes(
            int(row["m"]), increment=row["sale_line__product__billing_increment_minutes"],
            minimum=row["sale_line__product__minimum_minutes"],
            per_ticket=row["sale_line__product__rounding"] == Rounding.TICKET)
    return dict(billed)


def rounded_to_invoice(*, lines: Iterable[SaleOrderLine]) -> dict[int, Decimal]:
    """Return {line id: quantity Create Invoice would bill now} for the timesheet lines (product loaded) whose
    product rounds per ticket or has a minimum (Rule 14): To invoice shows the time as logged, this what it
    bills. One query, and none when no line rounds so."""
    rounded = [line for line in lines if line.is_timesheet_based and line.product.rounds_per_ticket]
    if not rounded:
        return {}
    charged = _charged(TimeEntry.objects.filter(sale_line__in=rounded, invoice_line=None, billable_minutes__gt=0))
    return {line.pk: minutes_to_qty(charged.get(line.pk, 0), line.uom) for line in rounded}


def orders_to_invoice(*, period_end=None, customer=None, team=None, order_ids=None) -> list[dict]:
    """Every confirmed order with something to invoice, as Create Invoice would bill it up to `period_end`.

    One row per order: {"order", "lines": [{"line", "quantity", "minutes", "amount"}], "amount"}; the
    amounts untaxed, each line's at its price as Create Invoice rounds it. `team` keeps the orders billed
    by that team's tickets; `customer`, that customer's.
    """
    orders = SaleOrder.objects.filter(state=SaleOrder.State.SALE)
    if customer is not None:
        orders = orders.filter(customer=customer)
    if team is not None:
        orders = orders.filter(Exists(Ticket.objects.filter(team=team, sale_line__order=OuterRef("pk"))))
    if order_ids is not None:
        orders = orders.filter(pk__in=order_ids)
    entries = TimeEntry.objects.filter(invoice_line__isnull=True, sale_line__order__in=orders, billable_minutes__gt=0,
                                       sale_line__product__service_policy=ServicePolicy.DELIVERED_TIMESHEET)
    if period_end:
        entries = entries.filter(date__lte=period_end)
    minutes = dict(entries.values("sale_line").annotate(m=Sum("billable_minutes")).values_list("sale_line", "m")
                   .order_by())
    minutes.update(_charged(entries))
    quantity_lines = (SaleOrderLine.objects.filter(order__in=orders).select_related("product")
                      .exclude(product__service_policy=ServicePolicy.DELIVERED_TIMESHEET))
    by_order = defaultdict(list)
    lines = SaleOrderLine.objects.filter(pk__in=list(minutes)).select_related("product")
    for line in lines:
        qty = minutes_to_qty(minutes[line.pk], line.uom)
        by_order[line.order_id].append({"line": line, "minutes": minutes[line.pk], "quantity": qty,
                                        "amount": amount(qty, line.price_unit)})
    for line in quantity_lines:
        if (qty := line.to_invoice) > 0:
            by_order[line.order_id].append({"line": line, "minutes": 0, "quantity": qty,
                                            "amount": amount(qty, line.price_unit)})
    rows = []
    for order in SaleOrder.objects.filter(pk__in=list(by_order)).select_related("customer").order_by(
            "customer__name", "pk"):
        order_lines = sorted(by_order[order.pk], key=lambda row: row["line"].pk)
        rows.append({"order": order, "lines": order_lines, "amount": sum(row["amount"] for row in order_lines),
                     "minutes": sum(row["minutes"] for row in order_lines)})
    return rows
