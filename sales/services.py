"""Writes of the sales app: orders, the stored totals of their lines, and the lock order.

The lock order, everywhere: the links lock (`links_lock`), then an invoice, then a sales order,
then its lines (primary-key order, `sale_lines_lock`), then time entries.

Sales knows nothing of time entries: the timesheets and invoicing apps compute
the totals and hand them over through `sale_lines_set_totals`.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from core.errors import Conflict

from .models import TIMESHEET_POLICIES, Company, Customer, Product, SaleOrder, SaleOrderLine, ServicePolicy, WorkType


@transaction.atomic
def sale_order_confirm(*, order: SaleOrder, actor=None) -> SaleOrder:
    """Turn a quotation into a sales order ("Confirm"); `actor` is who clicked, for the audit log."""
    # Locked so two clicks on Confirm cannot both pass the state check.
    order = SaleOrder.objects.select_for_update().get(pk=order.pk)
    if order.state != SaleOrder.State.DRAFT:
        raise ValidationError(_("Only a quotation can be confirmed; {order} is {state}.").format(
            order=order.name, state=order.get_state_display()))
    if not order.lines.exists():
        raise ValidationError(_("Add at least one order line before confirming."))
    order.state = SaleOrder.State.SALE
    order.confirmed_at = timezone.now()
    order.save(update_fields=["state", "confirmed_at"])
    audit_record(action=AuditEvent.Action.ORDER_CONFIRMED, obj=order, actor=actor,
                 changes={"state": [SaleOrder.State.DRAFT, SaleOrder.State.SALE]})
    return order


@transaction.atomic
def sale_order_cancel(*, order: SaleOrder, actor=None) -> SaleOrder:
    """Cancel a quotation or a sales order that has nothing invoiced and no time on it."""
    order = SaleOrder.objects.select_for_update().get(pk=order.pk)
    if order.state == SaleOrder.State.CANCEL:
        raise ValidationError(_("{order} is already cancelled.").format(order=order.name))
    # Locking the lines waits for agents logging on them, so their time is seen below.
    lines = sale_lines_lock(ids=order.lines.values_list("pk", flat=True))
    if any(line.delivered_minutes or line.qty_invoiced for line in lines):
        raise ValidationError(_("{order} has time logged or invoiced on it and cannot be cancelled.").format(
            order=order.name))
    before = order.state
    order.state = SaleOrder.State.CANCEL
    order.save(update_fields=["state"])
    audit_record(action=AuditEvent.Action.ORDER_CANCELLED, obj=order, actor=actor,
                 changes={"state": [before, SaleOrder.State.CANCEL]})
    return order


def _save_audited(obj, *, fields: tuple[str, ...], action: str, actor):
    """Validate and save `obj`; a change of `fields` goes in the audit log. Saving moves or recounts the
    unbilled time these fields decide (timesheets' receivers, in this transaction)."""
    obj.full_clean()
    before = type(obj).objects.filter(pk=obj.pk).values(*fields).first() if obj.pk else None
    obj.save()
    after = type(obj).objects.filter(pk=obj.pk).values(*fields).first()  # as stored: codes, file names
    if before is not None and (changes := {f: [before[f], after[f]] for f in fields if before[f] != after[f]}):
        audit_record(action=action, obj=obj, actor=actor, changes=changes)
    return obj


@transaction.atomic
def work_type_save(*, work_type: WorkType, actor=None) -> WorkType:
    """Save a work type; a change of its billing is audited (its unbilled time follows, Rule 13)."""
    return _save_audited(work_type, fields=("billing",), action=AuditEvent.Action.WORK_TYPE_CHANGED, actor=actor)


@transaction.atomic
def product_save(*, product: Product, actor=None) -> Product:
    """Save a product; a change of its billing rule is audited (its lines' unbilled time is recounted)."""
    return _save_audited(product, fields=("rounding", "billing_increment_minutes", "minimum_minutes",
                                          "alert_delivered_percent", "alert_remaining_hours"),
                         action=AuditEvent.Action.PRODUCT_RULE_CHANGED, actor=actor)


COMPANY_FIELDS = ("name", "address", "country", "vat_number", "email", "iban", "bic", "currency",
                  "payment_terms_days", "reminder_days", "logo", "invoice_footer", "portal_shows_agents")


@transaction.atomic
def company_save(*, company: Company, actor=None) -> Company:
    """Validate and save the company (numbers checked and compacted); every change is audited.
    Posted invoices keep the company they printed (Invoice.seller)."""
    company.pk = 1
    return _save_audited(company, fields=COMPANY_FIELDS, action=AuditEvent.Action.COMPANY_CHANGED, actor=actor)


@transaction.atomic
def customer_save(*, customer: Customer, actor=None) -> Customer:
    """Validate and save a customer (VAT number checked for its country); a change of what invoices
    print or where they go is audited."""
    return _save_audited(customer, fields=("name", "address", "country", "vat_number", "email", "billing_email",
                                           "payment_terms_days", "language"),
                         action=AuditEvent.Action.CUSTOMER_BILLING_CHANGED, actor=actor)


def sale_line_check_billable(*, line: SaleOrderLine, customer: Customer | None) -> None:
    """Refuse a line that time of `customer` may not bill to (DESIGN Rule 4)."""
    order = line.order
    if order.state != SaleOrder.State.SALE:
        raise ValidationError(_("{order} is not a confirmed sales order: confirm it before billing time to it.")
                              .format(order=order.name))
    if customer is None:
        raise ValidationError(_("{order} belongs to {customer}, not to no customer: choose a line of this "
                                "customer's order.").format(order=order.name, customer=order.customer))
    if order.customer_id != customer.pk:
        raise ValidationError(_("{order} belongs to {customer}, not to {other}: choose a line of this customer's "
                                "order.").format(order=order.name, customer=order.customer, other=customer))
    if line.product.service_policy not in TIMESHEET_POLICIES:
        raise ValidationError(_("{product} is not billed on timesheets: choose a service line.").format(
            product=line.product))


# Rank 0 of the lock order: the links lock. Which line a time entry bills is decided from rows
# that other transactions change: a ticket's, task's and project's Sales Order Items, the ticket's
# customer, the team's Time Reinvoicing and project. Deciding from a row another transaction is
# changing, then writing, loses that change: a ticket unlinked while its task changed line left
# the entries on a line neither pointed at. So whoever changes those links holds this lock alone,
# from before the change until commit; whoever logs or edits time shares it. Relinks are rare
# (configuration); logging time never waits for another agent's logging.
_LINKS_LOCK = 0x68626C6B  # any constant of our own: PostgreSQL keys advisory locks by number


def links_lock(*, exclusive: bool) -> None:
    """Take the transaction's links lock: alone to change where time bills, shared to log or edit time.

    Held until the transaction ends. SQLite, the quick look, runs one writer at a time anyway.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_xact_lock{'' if exclusive else '_shared'}(%s)", [_LINKS_LOCK])


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
    by_fields = defaultdict(list)  # one statement per set of fields written
    for line_id, fields in sorted(totals.items()):
        by_fields[tuple(sorted(fields))].append((line_id, fields))
    for names, rows in by_fields.items():
        if connection.vendor != "postgresql" or len(rows) == 1:
            for line_id, fields in rows:
                SaleOrderLine.objects.filter(pk=line_id).update(**fields)
            continue
        for start in range(0, len(rows), TOTALS_BATCH):
            _set_totals_at_once(names, rows[start:start + TOTALS_BATCH])


TOTALS_BATCH = 5000


def _set_totals_at_once(names: tuple[str, ...], rows: list[tuple[int, Mapping]]) -> None:
    """Write many lines' totals in one UPDATE … FROM (VALUES …): approving time spread over thousands of
    lines costs one statement, not one per line (measured: 3,130 statements took 1 s at the bench's size)."""
    table = SaleOrderLine._meta.db_table
    columns = [SaleOrderLine._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}::{f.db_type(connection)}" for f in columns)
    values = ", ".join(["(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"] * len(rows))
    params = [value for line_id, fields in rows for value in (line_id, *(fields[n] for n in names))]
    names_sql = ", ".join(quote(f.column) for f in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(table)} AS l SET {sets} FROM (VALUES {values}) AS v(id, {names_sql}) "
                       "WHERE l.id = v.id::bigint", params)


@transaction.atomic
def sale_line_set_delivered_manual(*, line: SaleOrderLine, qty: Decimal) -> SaleOrderLine:
    """Type the Delivered quantity of a "Based on Delivered Quantity (Manual)" line."""
    # Locked so Create Invoice, which bills delivered − invoiced from this row, reads one value.
    [line] = sale_lines_lock(ids=[line.pk])
    if line.product.service_policy != ServicePolicy.DELIVERED_MANUAL:
        raise ValidationError({"delivered": _(
            "{product} is {policy}: only lines Based on Delivered Quantity (Manual) have their Delivered typed by "
            "hand.").format(product=line.product, policy=line.product.get_service_policy_display())})
    if line.order.state != SaleOrder.State.SALE:
        raise ValidationError({"delivered": _("{order} is not a confirmed sales order: confirm it first.").format(
            order=line.order.name)})
    if not isinstance(qty, Decimal) or not qty.is_finite() or qty < 0:
        raise ValidationError({"delivered": _("Enter a delivered quantity of 0 or more.")})
    line.qty_delivered_manual = qty
    try:
        line.clean_fields(exclude=[f.name for f in SaleOrderLine._meta.fields if f.name != "qty_delivered_manual"])
    except ValidationError as e:
        raise ValidationError({"delivered": e.message_dict["qty_delivered_manual"]}) from e
    line.save(update_fields=["qty_delivered_manual"])
    return line


@transaction.atomic
def sale_order_save_quotation(*, order: SaleOrder, lines: Iterable[SaleOrderLine] = (),
                              deleted: Iterable[SaleOrderLine] = ()) -> SaleOrder:
    """Save a quotation with its Order Lines: new or changed `lines`, and `deleted` ones.

    Only a quotation's lines change: once confirmed they carry time and invoices
    and stay as they were sold.
    """
    if order.pk is not None:
        # Locked so a Confirm clicked meanwhile is seen: it waits, or we refuse.
        stored = SaleOrder.objects.select_for_update().get(pk=order.pk)
        if stored.state != SaleOrder.State.DRAFT:
            raise Conflict(_("{order} is no longer a quotation: its Order Lines stay as they were sold.").format(
                order=stored.name))
    order.full_clean()
    order.save()
    for line in deleted:
        if line.order_id != order.pk:
            raise ValidationError(_("{line} is not a line of {order}.").format(line=line, order=order.name))
        line.delete()
    for line in lines:
        line.order = order
        line.full_clean()
        line.save()
    return order
