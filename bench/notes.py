"""The prose of docs/performance.md: how the figures are taken, what was changed, what is missed and why."""

METHOD = """
## How the figures are taken

- One process (`python -m bench`) holds a connection to each data set and points Django's
  `default` at one or the other, so every ratio compares runs of the same code, interleaved
  run by run (small, large, small, large…) after a warm-up run of each; the figure is the median.
- Pages go through Django's test client: the whole middleware stack, sessions, templates,
  as the server runs them, without a network. Logging time is timed as the service call
  (`timesheet_log`, the ticket fetched as the API fetches it) and as the API request.
- Create Invoice and the raw `UPDATE` each run in a transaction that is rolled back, after a
  `VACUUM` of the entries, so every run starts from the same 100,000 unbilled entries: copies
  of the same data, taken in turn.
- The load test starts gunicorn (2 sync workers, `CONN_MAX_AGE=600`, `DEBUG` off) on a free
  loopback port and runs 8 `hey` clients at once, each sending a fixed number of requests one
  after the other and stopping; every answer must be a 200/201. Requests per second are the
  requests of all 8 over the wall-clock time, median of 3 rounds that alternate the two endpoints.
- The PDF is compared with WeasyPrint on a bare `<table>` (no style) of the same 2,000 rows;
  the invoice's side includes its queries and template.
- PostgreSQL 15 runs with `fsync` off (a throwaway cluster) and `shared_buffers=1GB`,
  `work_mem=32MB`: both sides of every ratio share them.
- The billing run (target 7) is measured last: it first adds to each data set two sets of orders
  (10 on small, 1,000 on large), each of one timesheet line with a ticket of its own and 100
  unbilled entries of the last 60 days (`bench.generate.run_orders`, set-based), so the figures
  before it measure the data sets of the table above. The Create Invoice click is the web
  `POST /orders/<pk>/create-invoice/` through the test client as an accountant, and the service
  `invoice_create_from_order` alone, each on the next order of the first set and rolled back (median
  of 9 after a warm-up). Then real `manage.py worker` processes (`--interval 0.1`, `DEBUG` off,
  persistent connections) are started on the data set, left to run the jobs already queued (the
  probes' PDFs) and to say they started; the run is timed from `run_start` over the first set (what
  `POST /api/v1/billing-runs/` and the Create Invoices button do) until its step is done, polled
  every 50 ms; with two workers, on the second set. `run_start` queues `RUN_JOBS_PER_STEP` jobs for
  the step, so two workers share it. Each run is one run, not a median: a run of 1,000 orders is
  itself a thousand Create Invoices. The workers' CPU time comes from `/proc`; each poll also asks
  PostgreSQL whether a session of the data set waits for a lock.
- Approval (targets 9 and 10, issue 12) are timed as the service call in a transaction rolled
  back after it, with a `VACUUM` of the entries before each run (untimed), so every run and every
  measure after them finds the data as generated; `check_billing` (target 6), measured next, asserts
  that. Target 9 approves, as the probe manager (who logged none of it), the 10,000 most recent unbilled
  entries awaiting approval (`ORDER BY date DESC, id`): on large the big line's and ~3,000 other lines';
  small holds fewer, and approves all of its own. Its queries are counted on small, on large with the
  same number of entries as small, and on large with the 10,000. Target 10 saves team 1 (the big line's
  team, the most unbilled time) with Invoiced Timesheets flipped from "All recorded timesheets" to
  "Approved timesheets only" through `tickets.services.team_save`, whose receiver recounts the team's
  unbilled entries and recomputes its lines; once more afterwards, `billing_drift()` must find nothing
  and no entry of the team awaiting approval may still bill minutes.
- Rounding per ticket (target 11, issue 13) is target 3's click twice over, interleaved run by run and
  each rolled back after a `VACUUM` of the entries: Create Invoice on the big line as the data set's
  product rounds today (per entry, 1-minute increment), and with that product switched, inside the
  transaction and before the clock starts, to per ticket with a 15-minute increment and a 30-minute
  minimum (a plain `UPDATE` of the product: per ticket an entry bills its minutes as logged, which is
  what the generated entries bill already, so nothing needs recounting). On large that is 100,000
  entries on 500 tickets: 500 charges, each ticket's sum rounded up. A run of its own counts both
  clicks' queries and runs `billing_drift()` after the per-ticket invoice: the charges must sum to the
  invoice line's rounding and the line's stored totals must follow.
- The stored PDF (target 8): each probe invoice's PDF is rendered and stored once by
  `invoicing.documents.pdf_store` (what the `render_pdf` job does when an invoice is posted; timed,
  one run), then downloaded through the web view and the API as an accountant with the test client,
  the whole body read. Before timing, one download with WeasyPrint made to fail must answer the
  stored bytes: a view that still rendered on request would be reported as such.
- The Factur-X PDF (target 12, issue 14) of the 2,000-entry probe invoice, next to its plain PDF
  (`invoicing.pdf.invoice_pdf`, PDF/A-3b since issue 14, so target 5's figure too), interleaved run
  by run: from scratch (`invoicing.einvoice.facturx_pdf` on the invoice with its stored file hidden
  in memory: the same rendering, the CII XML, factur-x's XSD check and embedding), as a download makes
  it (the stored PDF read, then the XML and the embedding), and the CII and UBL XMLs alone. No limit
  is set: the figures say what the e-invoice adds to the PDF.
- The reports (target 13, issue 15): each report's first page with the screens' default parameters
  (Time by customer and week over the last 12 weeks, and by agent and month over a year; Unbilled work;
  Revenue per month over 12 months; Prepaid lines) and the Helpdesk overview as a manager and as an
  accountant, through the test client as a page and as its API route, as target 2 times pages. The data
  sets hold no prepaid line and no alert threshold: in a transaction rolled back after the figures, every
  10th generated line becomes a prepaid block (20 hours' alert) and the generated product alerts at 100%,
  then one alerts scan runs (`bench.reports`). Any query over 200 ms on large is printed with its
  `EXPLAIN (ANALYZE, BUFFERS)` on the bench's output.
- Search (target 14, issue 16): the generator puts "toner" in one ticket title in ten; the probe manager,
  who sees every ticket, searches for it on the ticket list (`/tickets/?q=toner`, its first page) and
  through `GET /api/v1/tickets/?search=toner`, and searches `GET /api/v1/customers/?search=probe` and
  `GET /api/v1/timesheets/?search=probe` (the probe customer, the probes' 3,225 entries: the same rows at
  both sizes), timed as target 2 times pages. As the issue compares 1,000 tickets with 50,000, small gets
  950 more generated tickets for this target (`bench.search`, in a transaction rolled back after it): 100
  found there against 5,000 on large, full pages on both (small's own 50 tickets would give 5 rows against
  a page of 25 or 50). The planner's statistics of the customers, tickets and entries are brought up to
  date first (`ANALYZE`, as autovacuum does): the probes are made after the generator's, and with no entry
  described "probe" in its statistics PostgreSQL plans the entries' search for one row (a nested loop
  reading the users' table once per entry, 220 ms on large). Any query over 10 ms on large is printed
  with its plan on the bench's output. The plan: each condition is read from an index, the title's and
  the description's GIN trigram indexes on `UPPER(column::text)` (what Django's `icontains` sends), the
  customers whose name matches read first from their own and sent as a list of ids (the ticket's
  customer index), the number from the primary key; PostgreSQL ORs the bitmaps (`BitmapOr`) for the
  `COUNT`, and for the page walks the primary key backwards, keeping the matching rows, until it has 25.
- HTML (target 15, issue 16): the probe manager, who sees everything, opens once per data set the ticket
  list and the Time and Unbilled reports filtered to the probe customer, the probe ticket's page and the
  probe order's: the same rows at both sizes, their bytes differing only by the digits of ids and order
  numbers (judged with each number counted as one digit: equal; CSRF tokens blanked); and the default ticket
  list's, Time report's and Unbilled work's filter forms (their bytes and `<option>` elements: equal). The
  selects of customers, agents, teams, orders and Sales Order Items hold the chosen option only; the others
  are asked of `/lookup/<kind>/` as one types (`bench.html`).
"""

CHANGES = """
## What was changed, and why (figures from development runs on this machine, large data set)

1. **Logging time.** `sale_lines_recompute` (now in `timesheets/delivered.py`) re-summed all of a line's entries
   on every save: 14 ms for the line of 100,000 entries even as an index-only scan, so logging
   took 19.5 ms there against 5.7 ms on a line of 10 (3.4×). Rule 5 forbids `+= delta`, so the
   sum is still recomputed under the line's lock, but in two parts:
   `timesheets.DeliveredCheckpoint` holds, per line, the exact sums of its entries up to an
   entry id, written only under that lock from the entries themselves; a save re-sums only the
   entries after it (a range of the new covering index `entry_by_line` on (line, id), which
   replaces the foreign key's index), moves it forward once 500 entries follow it (keeping the
   250 newest out, so editing recent time stays cheap), and starts from zero when the saved or
   deleted entry is one the checkpoint sums. It is one SQL statement, so a save sends as many
   queries as before (the tests' counts did not change). The set-based writers (Create Invoice,
   credit notes, rebilling) keep summing whole lines and drop the checkpoint. `check_billing`
   checks every checkpoint against its entries. After: 1.0× (service) and 1.0× (API).
2. **Pages.** The ticket list took 360 ms on large against 28 ms on small (12.8×): the paginator's
   `COUNT` ran over a `GROUP BY` joining every ticket to every time entry (314 ms), and the
   filters' choices were `DISTINCT` joins over all visible tickets (~100 ms). Hours are now a
   correlated sum computed for the page's 25 rows only (`tickets.selectors.with_minutes_spent`),
   the choices are `EXISTS` probes on the tickets' indexes, and the choices' options are written
   from plain rows (a manager's filters list 500 customers and 200 agents; Django's template per
   option cost ~0.1 ms each). The task list had the same `COUNT` and got the same fix. The invoice
   page rendered all 1,000 entries (160–290 ms): it now shows them 100 a page, counted and sliced
   in the database from a `UNION ALL` of the entries billed and those given back (an `OR` of the
   two made PostgreSQL scan the table: 117 ms). After: ≤ 1.5× everywhere, the same queries.
3. **Create Invoice** was already set-based (one `UPDATE` links the entries); nothing changed.
4. **API throughput.** The `POST` answer re-read the entry through an eight-table join and the
   ticket was validated through another: planning each took ~4 ms, more than running it. The
   answer now serializes the entry the service returned (no query) and the ticket is read with
   the three relations logging uses: 20 ms → 12 ms per request in process, 15 → 13 queries.
   Issue 16 counted and named every query of the `POST` and of the ticket page's Log time form
   (`tests/perf/test_log_queries.py` lists them) and removed those the rules do not need: the roles
   are read with the token (or the session's user) in the same query (`api.authentication`,
   `core.permissions.GroupsBackend.get_user`); the ticket is read once, by the service, among the
   caller's tickets and under the links lock, with the lock date (the serializer and the page only
   check its id); the line is locked as it is chosen (with any line a rate of its order maps to, in
   primary-key order) rather than read, then locked, then locked again by the recomputation; the
   checkpoint's statement stores the line's totals itself; the savepoint around the recomputation,
   which guarded nothing, is gone. The `POST`: 15 → 7 statements, besides BEGIN and COMMIT; the form:
   15 → 8 (its Work type list is read only to show a refusal). What is left, each needed: the token
   with its user and roles (the `GET` pays it too); BEGIN; sharing the links lock (no relink moves
   the ticket's line meanwhile: issue 9); the ticket with its team, project, task, customer and lock
   date; the lines it may bill, locked (Rule 5: Delivered is a sum taken under the line's lock); the
   entry's INSERT; Delivered from the line's checkpoint, stored on the line; the audit event's INSERT
   (the audit log is the design's); COMMIT.
5. **PDF.** The appendix tables get `table-layout: fixed` with set column widths: WeasyPrint then
   lays out rows without measuring every cell for the column widths. 1.4× → under 1×; rows no
   longer break across pages either (`break-inside: avoid`).
6. **check_billing** read the entries three times (sums per line, a join for entries on dead
   invoices, a join for invoice lines' minutes) and compared 20,000 lines in Python: 870 ms
   against 175 ms for the raw `GROUP BY` (5×). It now reads the entries once, grouped by line
   and invoice line (`timesheets.delivered.entry_sums`, the same sum Delivered is kept by, which
   issue 10 made the checks share instead of a statement of their own), in the order of the
   `entry_pairs` index on (line, invoice line), which holds the minutes too, rather than hashing
   a million rows (59 ms against 100 ms sorting `entry_by_line`'s and 110 ms hashed); PostgreSQL's
   estimate prefers hashing, so the check turns hash aggregation off for its own read (`SET
   LOCAL`, undone after). The lines and invoice lines are then read once each as plain rows,
   their quantities as whole cents, and folded in Python: the ORM's per-row conversions had cost
   as much as the database's sum (296 ms through the ORM, 166 ms as plain rows). A Delivered
   checkpoint is checked as its line's total less the few hundred entries after it. After: about
   1.5×.
7. **Billing run** (issue 11): each order is one Create Invoice in a transaction of its own, with
   the run's item it marks done (`SELECT … FOR UPDATE SKIP LOCKED`), so any number of jobs work one
   step; `run_start` queues several jobs per step so that two workers share a run.
8. **PDF downloads** (issue 11) rendered the invoice on every request: 7–11 s for 2,000 entries
   (target 5's figure). A posted invoice's PDF is now rendered once by a job and stored; the
   download serves the stored file ("being prepared" until then).
9. **Rounding per ticket** (issue 13) adds no pass over the entries: Create Invoice already sums the
   entries it links in one `GROUP BY` (ticket, task, agent, work type, set by hand) for the line's
   explanation; per ticket, those groups are folded by ticket in Python, each sum rounded and raised to
   the minimum, and the charges written in one `INSERT` (`invoicing.charges.line_fill`). What it costs
   over per entry is that insert of one row per ticket and a delete of the line's earlier charges.
   The generator (`bench/generate.py`) fills issue 13's new columns (the product's rule, the invoice
   lines' rule, counts and explanation, the lines' rounding), which have no database default.
"""

MISSES = {
    1: """The API's ratio is the ratio of two ~12 ms requests whose only difference is one line's
checkpoint; a miss here is noise of the shared machine (the service call itself is flat).""",
    2: """A page whose ratio misses only by noise keeps its query count; the figures above are
medians of interleaved runs on a machine shared with other work.""",
    3: """Create Invoice is one `UPDATE` of the same rows plus a fixed ~20 queries; a miss of the
ratio means the `UPDATE` itself was slow in that run (it rewrites every index of 100,000 rows).""",
    4: """**What is left of the gap is the transaction the rules make.** The trivial endpoint reads
the token with its user and roles (one query) and answers; logging time reads the same, then, in a
transaction, shares the links lock, reads the ticket, locks its line, inserts the entry, stores the
line's Delivered and writes the audit event: {post_queries} queries (BEGIN and COMMIT among them)
against {ping_queries}. In this process the POST costs {post_ms} and the GET {ping_ms}, a ratio of
{inprocess_ratio} before any HTTP; under gunicorn, where PostgreSQL shares the machine's 2 cores with
both workers and the 8 clients, it is {load_ratio}. Each query left is named under "What was changed"
(4); dropping any would drop a rule: the links lock (issue 9), the line's lock (Rule 5), the audit log.""",
    7: """A run does each order as one Create Invoice, in a transaction of its own with the item it
marks done, plus a `SELECT … FOR UPDATE SKIP LOCKED` to take the item and a heartbeat; a miss of the
ratio means that per-item overhead outweighed the click's own (see the run's figures above).""",
    8: """A download of a stored file is a permission check, one query for the invoice and the file's
bytes; a miss means the download view still renders the PDF on request (see the row's label).""",
    9: """**Approve is set-based, per entry and per line.** Its queries are fixed whatever the number of
entries and of lines they sit on: the links lock, the lines' and entries' locks, the entries' UPDATE (the
new state and the billable minutes in one write per row), the recomputation's sums, the lines' totals in
one `UPDATE … FROM (VALUES …)` (`sales.services.sale_lines_set_totals`), and the audit events in one
INSERT. Before those two changes the count grew with the lines (one UPDATE each: 3,146 queries and
3.4 s for 10,000 entries on ~3,000 lines in the first run of this target). The time left is the
entries' UPDATE (each row's increment looked up by its line, the policy read as two hashed lists) and
Python building one audit event per entry.""",
    10: """**A policy switch recounts, it does not relink.** When only Invoiced Timesheets changes
(timesheets.receivers), `timesheets_recount_team` recounts the team's unbilled time in one UPDATE
(`billable_expression`) and recomputes its lines once, their totals in one statement: the queries are
flat. The first run of this target went through the relink, one UPDATE per (ticket, task, project)
group and one per line: 2,297 queries and 11.2 s on large. The time left is the UPDATE of every
unbilled entry of the team (~100,000 on large) and the lines' sums.""",
    5: """WeasyPrint's cost is the rows' layout; a miss here is noise (both sides lay out the same rows).""",
    11: """Per ticket, Create Invoice does what it does per entry (one `UPDATE` linking the entries, one
`GROUP BY` of them) plus one `INSERT` of a charge per ticket (500 on large) and a `DELETE` of the line's
earlier ones: two queries more (the counts above). A miss of the ratio means the fold per ticket or that
insert grew with the tickets; a miss of the check means the charges no longer sum to the line's rounding.""",
    13: """**The defaults are met; a long period may not be.** Each report sends a fixed number of queries
(equal at both sizes, above). The Time report sums the period's entries twice (the chart's periods, which
give the totals, and the page of rows): its default 12 weeks read about 170,000 of the million entries,
through `entry_by_date`, an index of entries by date carrying every column the sums read, so that
PostgreSQL scans the range without the table; a year reads about 370,000, and each sum takes about twice
as long. Reading every group once instead (the page, the chart and the totals from one read) made a year
by agent and month faster but the default slower, its 6,500 groups costing more than the second read: it
was tried and undone. Unbilled work and the overview read the ~147,000 entries to invoice through the
partial index `entry_unbilled`; the overview sums the amount to invoice in one query instead of running
the whole report. A summary table kept in step like Delivered (the issue allows one) would not shorten a
long period on this data: an agent's entries of a day (about four and a half) are each for another
customer and ticket, so a daily summary by agent and customer holds about as many rows as there are
entries. Any query over 200 ms, with its plan, is on the bench's output.""",

    14: """A search reads only the matching rows, but counts them all for the page's "N in all" and the
API's `count`: 5,000 tickets on large against 100 on small, a bitmap of the trigram index and a visit of
each matching row to recheck it (a trigram index finds candidates, the `LIKE` decides): about 3 ms on
large against 0.5 ms, most of what separates a 13 ms API answer on small from large. Counting without
those visits would need an index that needs no recheck (a stored full-text vector: words, not any
substring) or an estimated count. The other cost that grows is planning the ticket list's six joins:
7–12 ms on large against 2–4 ms on small (Memoize's costing half of it; joined in the written order,
`join_collapse_limit = 1`, 0.6 ms); the API's list plans no join (its answer holds ids). The query counts
are equal, and the plans are on the bench's output.""",

    15: """A page that differs by more than its digits shows something that grows with the data: the figures
name the page, and its `<option>` count says whether a select lists rows again.""",

    6: """Issue 12 added `_count_drifts` (invoicing/selectors.py): the unbilled entries whose billable
minutes differ from what their policy says now. Its first version read the billing increment through
a correlated subquery (three per row, each joining the orders because of the lines' default ordering)
and let the planner compile the statement (JIT): 2.7 s on large, the check 20× the raw `GROUP BY`. It
now joins the line and product, reads the policy as two hashed `IN` lists and runs with `SET LOCAL jit
= off` (the row above). What is left over the raw `GROUP BY`, measured on a quiet machine during issue 16
(the check 324 ms in all): the one read of every entry, 80 ms (an index-only scan of `entry_pairs`, in
order); that second read, of the 150,000 unbilled entries with their line and product, 80 ms; the invoice
lines, 45 ms, and the lines, 36 ms, compared in Python; the receivable, 12 ms. Folding the second read into
the first would cost the first its index-only scan (the policy needs columns `entry_pairs` does not hold):
it would read the whole table instead, so it was not done. Issue 14 added the receivable's check
(`invoicing.payments.balance_drifts`):
one scan in SQL of the posted invoices (a few thousand on large) that returns only those with a payment, a
credit note or figures an untouched invoice does not have (none on the bench's data), and one `GROUP BY`
of the payments; its first version read every posted invoice into Python. Between runs on this 2-core
machine the ratio moves by ±0.3 (2.22×, 2.59×, 2.51× on three runs today).""",
}

PROFILE = """
## Profiling

`make bench` installs pyinstrument (`.[bench]`). To see where a request spends its time, run,
with `DATABASE_URL` on a bench database (e.g. inside `scripts/with-postgres.sh` after a
`python -m bench --quick`), `DJANGO_SETTINGS_MODULE=bench.settings python -m pyinstrument`
on a script that sends the request with Django's test client; `EXPLAIN (ANALYZE, BUFFERS)` on
the SQL that `django.test.utils.CaptureQueriesContext` shows finds the slow queries.
"""


def _figure(figures, target: int, starts: str):
    return next(f for f in figures if f.target == target and f.label.startswith(starts))


def notes(figures) -> str:
    missed = sorted({f.target for f in figures if f.met is False})
    parts = [METHOD, CHANGES]
    if missed:
        parts.append("## Targets not met\n")
        for target in missed:
            text = MISSES[target]
            if target == 4:
                aliases = list(_figure(figures, 4, "in this process: `GET").values)
                last = aliases[-1]
                ping_ms, ping_queries = _figure(figures, 4, "in this process: `GET").values[last].split(" / ")
                post_ms, post_queries = _figure(figures, 4, "in this process: `POST").values[last].split(" / ")
                ratio = float(ping_ms.split()[0]) / float(post_ms.split()[0])
                load_ratio = _figure(figures, 4, "POST / GET").values[last]
                text = text.format(post_queries=post_queries, ping_queries=ping_queries, post_ms=post_ms,
                                   ping_ms=ping_ms, inprocess_ratio=f"{ratio:.0%}", load_ratio=f"{load_ratio:.0%}")
            parts.append(f"{target}. {text}\n")
    parts.append(PROFILE)
    return "\n".join(part.strip() + "\n" for part in parts)
