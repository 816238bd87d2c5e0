"""Delivered: a line's delivered and invoiced minutes, always the sums of its entries (DESIGN Rule 5).

`entry_sums` is the reference: one GROUP BY of the entries, folded by `line_minutes` into each
line's delivered minutes (every billable minute) and invoiced minutes (those on an invoice
line). `sale_lines_recompute` stores it for the lines it locks. On PostgreSQL,
`sale_lines_recompute_after_save` reaches the same figures faster after one entry changed, from a
checkpoint (`DeliveredCheckpoint`, itself such a sum). The checkers (`check_billing`,
`checkpoint_drift`) compare what is stored with `entry_sums`, never with sums of their own.
"""

from collections import defaultdict
from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Q, QuerySet, Sum

from core.db import plain_rows
from sales.services import sale_lines_lock, sale_lines_set_totals

from .models import DeliveredCheckpoint, TimeEntry


class Minutes(NamedTuple):
    """A line's delivered minutes and, of those, the invoiced ones."""

    delivered: int = 0
    invoiced: int = 0

    def stored(self) -> dict[str, int]:
        """Return the figures as a line stores them (sales.services.sale_lines_set_totals)."""
        return {"delivered_minutes": self.delivered, "invoiced_minutes": self.invoiced}


def entry_sums(entries: QuerySet[TimeEntry]) -> dict[tuple[int | None, int | None], int]:
    """Return {(sale line id, invoice line id): billable minutes} of `entries`, in one GROUP BY."""
    sums = entries.values_list("sale_line_id", "invoice_line_id").annotate(minutes=Sum("billable_minutes")).order_by()
    return {(line, invoice_line): int(minutes) for line, invoice_line, minutes in plain_rows(sums)}


def line_minutes(sums: dict[tuple[int | None, int | None], int]) -> dict[int, Minutes]:
    """Fold `entry_sums` into {sale line id: Minutes}: delivered counts every billable minute of the
    line's entries, invoiced those whose entry is on an invoice line."""
    delivered, invoiced = defaultdict(int), defaultdict(int)
    for (line, invoice_line), minutes in sums.items():
        if line is not None:
            delivered[line] += minutes
            if invoice_line is not None:
                invoiced[line] += minutes
    return {line: Minutes(minutes, invoiced.get(line, 0)) for line, minutes in delivered.items()}


def _summed(line_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Return every one of these lines' figures, summed over all their entries."""
    ids = list(line_ids)
    sums = line_minutes(entry_sums(TimeEntry.objects.filter(sale_line_id__in=ids)))
    return {pk: sums.get(pk, Minutes()).stored() for pk in ids}


@transaction.atomic
def sale_lines_recompute(*, line_ids: Iterable[int | None]) -> None:
    """Recompute Delivered and invoiced minutes of these lines from all their entries.

    Locks first, then sums: the sum then sees every entry committed before the
    lock was granted, so concurrent loggers cannot lose each other's time the
    way a `delivered += minutes` would (DESIGN Rule 5).
    """
    lines = sale_lines_lock(ids=line_ids)
    if not lines:
        return
    totals = _summed(line.pk for line in lines)
    # The set-based writes that call this may have changed entries a checkpoint sums.
    DeliveredCheckpoint.objects.filter(sale_line_id__in=totals).delete()
    sale_lines_set_totals(totals=totals)


# --- PostgreSQL's fast path: from a checkpoint ---------------------------------

# Entries left after a line's checkpoint: saving one of a line's newest entries stays cheap.
CHECKPOINT_KEEP = 250

# One statement for one line, given %(line)s, the saved or deleted %(entry)s and %(keep)s:
# the checkpoint's sums (unless it sums the entry itself: then from zero) plus the entries
# after it; once more than 2 × keep entries follow it, the checkpoint moves up to leave `keep`.
# It stores the line's totals itself (what sales.services.sale_lines_set_totals writes), in the
# same round trip: logging time is the hot path.
_SUM_AFTER_CHECKPOINT = """
WITH stored AS (
    SELECT last_entry_id, delivered_minutes, invoiced_minutes, last_entry_id < %(entry)s AS valid
    FROM timesheets_deliveredcheckpoint WHERE sale_line_id = %(line)s
), base AS (
    SELECT COALESCE(MAX(last_entry_id) FILTER (WHERE valid), 0) AS after,
           COALESCE(MAX(delivered_minutes) FILTER (WHERE valid), 0) AS delivered,
           COALESCE(MAX(invoiced_minutes) FILTER (WHERE valid), 0) AS invoiced,
           COALESCE(bool_or(NOT valid), false) AS stale
    FROM stored
), tail AS (
    SELECT e.id, e.billable_minutes, e.invoice_line_id IS NOT NULL AS invoiced
    FROM timesheets_timeentry e, base WHERE e.sale_line_id = %(line)s AND e.id > base.after
), cut AS (
    SELECT COALESCE((SELECT id FROM tail ORDER BY id DESC OFFSET %(keep)s LIMIT 1), 0) AS upto
), totals AS (
    SELECT b.stale, c.upto, COUNT(t.id) AS n,
           b.delivered + COALESCE(SUM(t.billable_minutes), 0) AS delivered,
           b.invoiced + COALESCE(SUM(t.billable_minutes) FILTER (WHERE t.invoiced), 0) AS invoiced,
           b.delivered + COALESCE(SUM(t.billable_minutes) FILTER (WHERE t.id <= c.upto), 0) AS upto_delivered,
           b.invoiced + COALESCE(SUM(t.billable_minutes) FILTER (WHERE t.id <= c.upto AND t.invoiced), 0)
               AS upto_invoiced
    FROM base b CROSS JOIN cut c LEFT JOIN tail t ON true
    GROUP BY b.stale, c.upto, b.delivered, b.invoiced
), moved AS (
    INSERT INTO timesheets_deliveredcheckpoint (sale_line_id, last_entry_id, delivered_minutes, invoiced_minutes)
    SELECT %(line)s, upto, upto_delivered, upto_invoiced FROM totals WHERE stale OR n > 2 * %(keep)s
    ON CONFLICT (sale_line_id) DO UPDATE SET last_entry_id = EXCLUDED.last_entry_id,
        delivered_minutes = EXCLUDED.delivered_minutes, invoiced_minutes = EXCLUDED.invoiced_minutes
)
UPDATE sales_saleorderline SET delivered_minutes = totals.delivered, invoiced_minutes = totals.invoiced
FROM totals WHERE sales_saleorderline.id = %(line)s
"""


# No savepoint: inside a caller's transaction it would guard nothing, as a failure here rolls the whole back.
@transaction.atomic(savepoint=False)
def sale_lines_recompute_after_save(*, entry_id: int, line_ids: Iterable[int | None],
                                    locked: Iterable[int] = ()) -> None:
    """Recompute Delivered and invoiced minutes of these lines after one entry was saved or deleted.

    The same exact sums as `sale_lines_recompute`, under the same lock, in as many
    queries; but on PostgreSQL each line re-sums only its entries after its checkpoint
    (`DeliveredCheckpoint`), so logging time costs the same on a line of 10 entries
    and on one of 100,000. The checkpoint is itself a sum of entries, taken under this
    lock; an entry it sums that is saved or deleted makes this one sum from zero.
    `locked`: lines the caller's transaction has locked already (timesheet_log's), not locked again.
    """
    ids = {pk for pk in line_ids if pk is not None}
    if not ids:
        return
    if not ids <= set(locked):
        sale_lines_lock(ids=ids)  # all of them again, in order: a lock held is granted at once
    if connection.vendor != "postgresql":  # SQLite, the quick look: the whole line, every time
        sale_lines_set_totals(totals=_summed(ids))
        return
    with connection.cursor() as cursor:
        for line in sorted(ids):
            cursor.execute(_SUM_AFTER_CHECKPOINT, {"line": line, "entry": entry_id, "keep": CHECKPOINT_KEEP})


def checkpoint_drift(totals: dict[int, Minutes]) -> list[tuple[int, str, int, int]]:
    """Return (line id, field, stored, actual) where a checkpoint differs from the entries it sums.

    A checkpoint sums its line's entries up to an entry: the line's `totals` (`line_minutes` of
    every entry) less the entries after it, of which a line keeps a few hundred (CHECKPOINT_KEEP),
    read in one statement by `entry_sums`.
    """
    checkpoints = list(DeliveredCheckpoint.objects.order_by("sale_line_id"))
    if not checkpoints:
        return []
    after = reduce(or_, (Q(sale_line_id=c.sale_line_id, id__gt=c.last_entry_id) for c in checkpoints))
    tails = line_minutes(entry_sums(TimeEntry.objects.filter(after)))
    drifts = []
    for checkpoint in checkpoints:
        line = checkpoint.sale_line_id
        whole, tail = totals.get(line, Minutes()), tails.get(line, Minutes())
        for field, stored, actual in (("checkpoint delivered_minutes", checkpoint.delivered_minutes,
                                       whole.delivered - tail.delivered),
                                      ("checkpoint invoiced_minutes", checkpoint.invoiced_minutes,
                                       whole.invoiced - tail.invoiced)):
            if stored != actual:
                drifts.append((line, field, stored, actual))
    return drifts
