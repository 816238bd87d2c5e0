"""Fill a migrated, empty database with one data set, set-based: INSERT … SELECT generate_series.

Every row is a closed-form function of its id, so the set needs no lookups while it is written:
ticket k bills line 2 + (k - big_tickets - 1) mod (lines - 1), line l sits on order
2 + (l - 2) mod (orders - 1), order o belongs to customer 1 + (o - 1) mod customers, and
entry i of the others goes to ticket big_tickets + 1 + (i - 1) mod (tickets - big_tickets).
Line 1, alone on order 1, is the big line: `big_entries` entries of the last 60 days, none
invoiced. Elsewhere entries older than 60 days are billed by one posted invoice per order
(one invoice line per sales order line); every ticket's first entry is old, so every line
with tickets has an invoice line. Stored totals are then computed from the entries, and
`check_billing` (measured later) confirms them. One ticket in ten (k mod 10 = 3) has "toner" in its
title: the word target 14 searches for (bench.search).
"""

import datetime

from django.db import connections
from django.utils import timezone

from .progress import Progress
from .sizes import Size

CUTOFF_DAYS = 60  # entries older than this are invoiced
ENTRY_CHUNK = 100_000
DESCRIPTIONS = ("Called the customer back", "Replaced the fuser", "Reset the router and tested the line",
                "Remote session: cleared the print queue", "Updated the drivers on three workstations")


# Issue 12's columns, with no database default (Django's defaults are the model's): every team
# invoices "All recorded timesheets", so every entry counts and `billable_minutes` stays `minutes`;
# invoiced entries start approved (as the migration approves them), the others await approval.
# Issue 18's `held` too: no entry is disputed.
APPROVAL_COLUMNS = "approval, approval_note, reviewed_by_id, reviewed_at, written_off, write_off_reason, held"
APPROVAL_REST = "'', NULL, NULL, false, '', false"  # after `approval`
# Issue 13's columns of an invoice line, also without database defaults: the product's rule as it was
# (per entry, no increment, no minimum), no rounding; the counts and the explanation are set with the totals.
INVOICE_LINE_RULE = "rounding_minutes, entry_count, worked_minutes, rounding, increment_minutes, minimum_minutes, " \
    "explanation"
INVOICE_LINE_RULE_VALUES = "0, 0, 0, 'entry', 1, 0, ''"


def _entries_sql(size: Size, today: datetime.date, lo: int, hi: int) -> str:
    """Entries lo..hi (1-based over the data set): first the big line's, then the others'."""
    teams, per_team = size.teams, size.agents_per_team
    others = size.tickets - size.big_tickets
    texts = "ARRAY[" + ", ".join(f"'{text}'" for text in DESCRIPTIONS) + "]"
    return f"""
    INSERT INTO timesheets_timeentry (id, date, description, minutes, billable_minutes, sale_line_manual,
        created_at, updated_at, invoice_line_id, project_id, sale_line_id, task_id, ticket_id, user_id,
        {APPROVAL_COLUMNS})
    SELECT i, DATE '{today}' - age::int, ({texts})[1 + i % {len(DESCRIPTIONS)}], minutes, minutes, false, now(), now(),
        CASE WHEN age > {CUTOFF_DAYS} THEN line - 1 END,
        team, line, CASE WHEN ticket % 10 = 0 THEN ticket / 10 END, ticket,
        team + {teams} * (i % {per_team}),
        CASE WHEN age > {CUTOFF_DAYS} THEN 'approved' ELSE 'to_approve' END, {APPROVAL_REST}
    FROM (
        SELECT i, 5 + (i * 37) % 116 AS minutes,
            CASE WHEN big THEN 1 + (i - 1) % {size.big_tickets} ELSE {size.big_tickets} + 1 + k END AS ticket,
            CASE WHEN big THEN 1 ELSE 2 + k % {size.lines - 1} END AS line,
            CASE WHEN big THEN 1 ELSE 1 + ({size.big_tickets} + k) % {teams} END AS team,
            CASE WHEN big THEN (i - 1) % {CUTOFF_DAYS}
                 WHEN s = 0 THEN {CUTOFF_DAYS + 1} + k % 900
                 ELSE (i * 7919) % 1095 END AS age
        FROM (
            SELECT i, i <= {size.big_entries} AS big,
                (i - {size.big_entries} - 1) % {others} AS k, (i - {size.big_entries} - 1) / {others} AS s
            FROM generate_series({lo}::bigint, {hi}::bigint) AS i
        ) AS numbered
    ) AS entry
    """


def _setup_sql(size: Size, today: datetime.date) -> list[tuple[str, int, str]]:
    """(label, rows, SQL) for everything but the entries."""
    T, C, N, L = size.teams, size.customers, size.orders, size.lines  # N: the orders
    big_tickets, others = size.big_tickets, size.tickets - size.big_tickets
    billed_lines = min(L - 1, others)  # lines 2..billed_lines + 1 have tickets, hence old entries
    invoices = min(N - 1, billed_lines)
    billed_on = today - datetime.timedelta(days=45)

    def order_of(line: str) -> str:
        return f"(2 + ({line} - 2) % {N - 1})"

    ticket_line = f"(2 + (k - {big_tickets} - 1) % {L - 1})"
    ticket_team = f"(CASE WHEN k <= {big_tickets} THEN 1 ELSE 1 + (k - 1) % {T} END)"
    return [
        ("users", size.agents, f"""
            INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email,
                is_staff, is_active, date_joined)
            SELECT a, '!', false, 'agent' || lpad(a::text, 4, '0'), 'Agent', a::text, '', false, true, now()
            FROM generate_series(1, {size.agents}) AS a;
            INSERT INTO auth_user_groups (user_id, group_id)
            SELECT a, (SELECT id FROM auth_group WHERE name = 'Agents') FROM generate_series(1, {size.agents}) AS a;
            INSERT INTO sales_tax (id, name, rate) VALUES (1, 'VAT 21%', 21);
            INSERT INTO sales_product (id, name, list_price, uom, service_policy, tax_id, billing_increment_minutes,
                rounding, minimum_minutes)
            VALUES (1, 'Service on Timesheet', 90, 'hour', 'delivered_timesheet', 1, 1, 'entry', 0)"""),
        ("customers and orders", C + N + L, f"""
            INSERT INTO sales_customer (id, name, email, billing_email, address, country, vat_number, language)
            SELECT c, 'Customer ' || lpad(c::text, 5, '0'), 'billing' || c || '@example.com', '',
                c || ' Main Street' || chr(10) || '1000 Brussels', 'BE', 'BE0' || lpad(c::text, 9, '0'), ''
            FROM generate_series(1, {C}) AS c;
            INSERT INTO sales_saleorder (id, name, customer_id, state, date_order, confirmed_at)
            SELECT o, 'S' || lpad(o::text, 5, '0'), 1 + (o - 1) % {C}, 'sale', DATE '{today}' - (o % 700), now()
            FROM generate_series(1, {N}) AS o;
            INSERT INTO sales_saleorderline (id, order_id, product_id, name, quantity, uom, price_unit, tax_id,
                delivered_minutes, invoiced_minutes, rounding_minutes, qty_delivered_manual, qty_invoiced)
            SELECT l, CASE WHEN l = 1 THEN 1 ELSE {order_of('l')} END, 1, 'Support hours', 100, 'hour', 90, 1,
                0, 0, 0, 0, 0
            FROM generate_series(1, {L}) AS l"""),
        ("teams and tickets", T * 3 + size.agents + size.tickets * 11 // 10, f"""
            INSERT INTO projects_project (id, name, billable) SELECT t, 'Support ' || t, true
            FROM generate_series(1, {T}) AS t;
            INSERT INTO tickets_helpdeskteam (id, name, timesheet_on_ticket, time_reinvoicing, project_id,
                invoiced_timesheets, timesheets_lock_date, portal_tickets, hold_disputed)
            SELECT t, 'Team ' || lpad(t::text, 3, '0'), true, true, t, 'all', NULL, false, true
            FROM generate_series(1, {T}) AS t;
            INSERT INTO tickets_helpdeskteam_members (helpdeskteam_id, user_id)
            SELECT 1 + (a - 1) % {T}, a FROM generate_series(1, {size.agents}) AS a;
            INSERT INTO projects_task (id, name, project_id)
            SELECT j, 'Follow-up of ticket ' || 10 * j, team
            FROM (SELECT j, 10 * j AS k FROM generate_series(1, {size.tickets // 10}) AS j) AS t,
                LATERAL (SELECT {ticket_team} AS team) AS x;
            INSERT INTO tickets_ticket (id, team_id, customer_id, title, description, status, assignee_id,
                task_id, sale_line_id, created_at)
            SELECT k, team, CASE WHEN line = 1 THEN 1 ELSE 1 + ({order_of('line')} - 1) % {C} END,
                'Printer ' || k || ' jams on page two' || CASE WHEN k % 10 = 3 THEN ' after a toner change' ELSE '' END,
                'The customer reports that printer ' || k || ' jams.',
                (ARRAY['new', 'in_progress', 'on_hold', 'solved', 'closed'])[1 + k % 5],
                team + {T} * (k % {size.agents_per_team}), CASE WHEN k % 10 = 0 THEN k / 10 END, line,
                now() - make_interval(days => k % 1000)
            FROM generate_series(1, {size.tickets}) AS k,
                LATERAL (SELECT {ticket_team} AS team,
                                CASE WHEN k <= {big_tickets} THEN 1 ELSE {ticket_line} END AS line) AS x"""),
        ("invoices", invoices + billed_lines, f"""
            INSERT INTO invoicing_invoice (id, kind, state, number, customer_id, sale_order_id, invoice_date,
                customer_name, customer_address, customer_vat, amount_untaxed, amount_tax, amount_total,
                created_at, posted_at, pdf, customer_country, customer_email, seller, currency, due_date,
                payment_reference, amount_paid, amount_residual, payment_state)
            SELECT o - 1, 'invoice', 'posted', 'INV/{billed_on.year}/' || lpad((o - 1)::text, 5, '0'), c.id, o,
                DATE '{billed_on}', c.name, c.address, c.vat_number, 0, 0, 0, now(), now(), '', 'BE', c.email,
                '{{"name": "Helpdesk Services SRL", "country": "BE"}}', 'EUR', DATE '{billed_on}' + 30, '', 0, 0, 'paid'
            FROM generate_series(2, {invoices + 1}) AS o JOIN sales_customer c ON c.id = 1 + (o - 1) % {C};
            INSERT INTO invoicing_invoiceline (id, invoice_id, sale_line_id, name, quantity, uom, price_unit,
                tax_rate, minutes, amount_untaxed, amount_tax, {INVOICE_LINE_RULE})
            SELECT l - 1, {order_of('l')} - 1, l, 'Support hours', 0, 'hour', 90, 21, 0, 0, 0,
                {INVOICE_LINE_RULE_VALUES}
            FROM generate_series(2, {billed_lines + 1}) AS l;
            INSERT INTO invoicing_invoicesequence (kind, year, last) VALUES ('invoice', {billed_on.year}, {invoices})
        """),
    ]


TOTALS_SQL = """
    UPDATE invoicing_invoiceline il
    SET minutes = s.m, quantity = round(s.m / 60.0, 2), amount_untaxed = round(round(s.m / 60.0, 2) * il.price_unit, 2),
        amount_tax = round(round(round(s.m / 60.0, 2) * il.price_unit, 2) * il.tax_rate / 100, 2),
        entry_count = s.n, worked_minutes = s.w,
        explanation = CASE WHEN s.n = 1 THEN '1 entry' ELSE s.n || ' entries' END
            || ', ' || (s.w / 60) || ':' || lpad((s.w % 60)::text, 2, '0') || ' worked → '
            || (s.m / 60) || ':' || lpad((s.m % 60)::text, 2, '0') || ' billed'
    FROM (SELECT invoice_line_id, SUM(billable_minutes) AS m, SUM(minutes) AS w, COUNT(*) AS n
          FROM timesheets_timeentry WHERE invoice_line_id IS NOT NULL GROUP BY 1) AS s
    WHERE il.id = s.invoice_line_id;
    UPDATE invoicing_invoice i SET amount_untaxed = s.u, amount_tax = s.t, amount_total = s.u + s.t,
        amount_residual = s.u + s.t, payment_state = CASE WHEN s.u + s.t = 0 THEN 'paid' ELSE 'not_paid' END
    FROM (SELECT invoice_id, SUM(amount_untaxed) AS u, SUM(amount_tax) AS t FROM invoicing_invoiceline
          GROUP BY 1) AS s
    WHERE i.id = s.invoice_id;
    UPDATE sales_saleorderline l SET delivered_minutes = s.d, invoiced_minutes = s.i
    FROM (SELECT sale_line_id, SUM(billable_minutes) AS d,
                 COALESCE(SUM(billable_minutes) FILTER (WHERE invoice_line_id IS NOT NULL), 0) AS i
          FROM timesheets_timeentry GROUP BY 1) AS s
    WHERE l.id = s.sale_line_id;
    UPDATE sales_saleorderline l SET qty_invoiced = s.q
    FROM (SELECT sale_line_id, SUM(quantity) AS q FROM invoicing_invoiceline GROUP BY 1) AS s
    WHERE l.id = s.sale_line_id;
"""

SEQUENCED = ["auth_user", "sales_tax", "sales_product", "sales_customer", "sales_saleorder", "sales_saleorderline",
             "projects_project", "projects_task", "tickets_helpdeskteam", "tickets_ticket", "invoicing_invoice",
             "invoicing_invoiceline", "timesheets_timeentry"]


def generate(alias: str, size: Size) -> None:
    """Write the data set `size` into the database of connection `alias` (migrated, empty)."""
    today = timezone.localdate()
    setup = _setup_sql(size, today)
    progress = Progress(f"{size.name:>5}", sum(rows for _, rows, _ in setup) + 2 * size.entries)
    with connections[alias].cursor() as cursor:
        # Bulk load: foreign keys are checked by construction (and `check_billing` checks the
        # figures), so the load skips their triggers; the entries' indexes are built once at the end.
        cursor.execute("SET session_replication_role = replica")
        for label, rows, sql in setup:
            cursor.execute(sql)
            progress.step(label, rows)
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'timesheets_timeentry' "
                       "AND indexname <> 'timesheets_timeentry_pkey'")
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for lo in range(1, size.entries + 1, ENTRY_CHUNK):
            hi = min(lo + ENTRY_CHUNK - 1, size.entries)
            cursor.execute(_entries_sql(size, today, lo, hi))
            progress.step(f"time entries {hi:,}/{size.entries:,}", hi - lo + 1)
        for name, definition in indexes:
            cursor.execute(definition)
            progress.step(f"index {name}", size.entries // (2 * len(indexes)))
        cursor.execute(TOTALS_SQL)
        for table in SEQUENCED:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
        cursor.execute("SET session_replication_role = DEFAULT")
        # Set the visibility map and the planner's statistics, as autovacuum would after a while.
        cursor.execute("VACUUM ANALYZE")
        progress.step("stored totals, VACUUM ANALYZE", progress.total - progress.done)


# --- The billing run's orders (issue 11), added after the other figures are taken ------------------

RUN_ENTRIES_PER_ORDER = 100


def _run_orders_sql(*, size: Size, today: datetime.date, first: dict[str, int], count: int, per_order: int) -> str:
    """`count` confirmed orders j = 1..count, each with one timesheet line and one ticket of its own, and
    `per_order` unbilled entries of the last 60 days on it; ids follow the highest ones in `first`."""
    T, C, per_team = size.teams, size.customers, size.agents_per_team
    o, ln, k, e = first["order"], first["line"], first["ticket"], first["entry"]
    texts = "ARRAY[" + ", ".join(f"'{text}'" for text in DESCRIPTIONS) + "]"
    return f"""
        INSERT INTO sales_saleorder (id, name, customer_id, state, date_order, confirmed_at)
        SELECT {o} + j, 'S' || lpad(({o} + j)::text, greatest(5, length(({o} + j)::text)), '0'),
            1 + j % {C}, 'sale', DATE '{today}' - 90, now()
        FROM generate_series(1, {count}) AS j;
        INSERT INTO sales_saleorderline (id, order_id, product_id, name, quantity, uom, price_unit, tax_id,
            delivered_minutes, invoiced_minutes, rounding_minutes, qty_delivered_manual, qty_invoiced)
        SELECT {ln} + j, {o} + j, 1, 'Support hours, month end', 200, 'hour', 90, 1, 0, 0, 0, 0, 0
        FROM generate_series(1, {count}) AS j;
        INSERT INTO tickets_ticket (id, team_id, customer_id, title, description, status, assignee_id,
            task_id, sale_line_id, created_at)
        SELECT {k} + j, 1 + j % {T}, 1 + j % {C}, 'Monthly support of order ' || ({o} + j),
            'Month-end billing run of the benchmark.', 'in_progress', 1 + j % {T}, NULL, {ln} + j, now()
        FROM generate_series(1, {count}) AS j;
        INSERT INTO timesheets_timeentry (id, date, description, minutes, billable_minutes, sale_line_manual,
            created_at, updated_at, invoice_line_id, project_id, sale_line_id, task_id, ticket_id, user_id,
            {APPROVAL_COLUMNS})
        SELECT {e} + i, DATE '{today}' - ((i - 1) % {CUTOFF_DAYS}), ({texts})[1 + i % {len(DESCRIPTIONS)}],
            5 + (i * 37) % 116, 5 + (i * 37) % 116, false, now(), now(), NULL,
            1 + j % {T}, {ln} + j, NULL, {k} + j, 1 + j % {T} + {T} * (i % {per_team}), 'to_approve', {APPROVAL_REST}
        FROM (SELECT i, 1 + (i - 1) / {per_order} AS j
              FROM generate_series(1, {count * per_order}) AS i) AS entry;
        UPDATE sales_saleorderline l SET delivered_minutes = s.d
        FROM (SELECT sale_line_id, SUM(billable_minutes) AS d FROM timesheets_timeentry
              WHERE sale_line_id > {ln} GROUP BY 1) AS s
        WHERE l.id = s.sale_line_id;
    """


def run_orders(alias: str, size: Size, *, sets: int, orders: int,
               per_order: int = RUN_ENTRIES_PER_ORDER) -> list[list[int]]:
    """Add `sets` sets of `orders` orders with `per_order` unbilled entries each; return each set's order ids.

    Added only before the billing run's figures, the last ones taken, so that the others measure
    the data sets as they were.
    """
    today = timezone.localdate()
    count = sets * orders
    with connections[alias].cursor() as cursor:
        first = {}
        for key, table in (("order", "sales_saleorder"), ("line", "sales_saleorderline"),
                           ("ticket", "tickets_ticket"), ("entry", "timesheets_timeentry")):
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            first[key] = cursor.fetchone()[0]
        cursor.execute("SET session_replication_role = replica")  # ids and links are right by construction
        cursor.execute(_run_orders_sql(size=size, today=today, first=first, count=count, per_order=per_order))
        cursor.execute("SET session_replication_role = DEFAULT")
        for table in ("sales_saleorder", "sales_saleorderline", "tickets_ticket", "timesheets_timeentry"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            cursor.execute(f"VACUUM ANALYZE {table}")
    ids = [first["order"] + j for j in range(1, count + 1)]
    return [ids[n * orders:(n + 1) * orders] for n in range(sets)]
