"""Medians after a warm-up, runs interleaved so both sides of a ratio share the machine's moods."""

import gc
import statistics
import time
from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext

from . import db

# label -> (data set alias, function to time)
Cases = dict[str, tuple[str, Callable[[], object]]]


def medians(cases: Cases, *, runs: int, warmup: int = 1,
            setup: Callable[[str], None] | None = None) -> dict[str, float]:
    """Return the median seconds of each case, running the cases in turn `warmup + runs` times.

    `setup(label)`, when given, runs before each call and is not timed. A function that returns
    a float has timed itself (the part that counts), in seconds.
    """
    times = {label: [] for label in cases}
    for round_ in range(warmup + runs):
        for label, (alias, fn) in cases.items():
            with db.use(alias):
                if setup is not None:
                    setup(label)
                gc.collect()
                started = time.perf_counter()
                result = fn()
                elapsed = time.perf_counter() - started
                if isinstance(result, float):
                    elapsed = result
            if round_ >= warmup:
                times[label].append(elapsed)
    return {label: statistics.median(values) for label, values in times.items()}


def queries(alias: str, fn: Callable[[], object]) -> int:
    """Return how many SQL queries `fn` sends on data set `alias` (a run of its own, not timed)."""
    with db.use(alias):
        with CaptureQueriesContext(connection) as captured:
            fn()
        return len(captured)  # read while `connection` is still this data set's


def explain_slow(alias: str, fn: Callable[[], object], *, seconds: float, sql_chars: int = 300) -> list[str]:
    """EXPLAIN ANALYZE the SELECTs of one run of `fn` on `alias` that took more than `seconds`: printed beside a
    missed target, so the page's figure comes with its plan."""
    found = []
    with db.use(alias):
        with CaptureQueriesContext(connection) as captured:
            fn()
        for query in captured.captured_queries:
            if float(query["time"]) > seconds and query["sql"].lstrip().upper().startswith("SELECT"):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                found.append(f"-- {query['time']} s\n{query['sql'][:sql_chars]}…\n{plan}")
    return found
