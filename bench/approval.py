"""Targets 9 and 10 (issue 12): a manager's bulk approve, and a team switching its Invoiced Timesheets.

Both are timed as the service call inside a transaction that is then rolled back (a `VACUUM` of
the entries before each run, untimed), so every run, and every measure after these, finds the data
sets as generated. Their queries are counted in a run of their own, the service call alone.
"""

import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext

from invoicing.selectors import billing_drift
from tickets.models import HelpdeskTeam
from tickets.services import team_save
from timesheets.approval import timesheets_approve
from timesheets.models import TimeEntry

from . import db
from .measures import Figure, _ratio, _vacuum
from .probes import Probes
from .timing import medians

BATCH = 10_000
TO_APPROVE, APPROVED = TimeEntry.Approval.TO_APPROVE, TimeEntry.Approval.APPROVED
SWITCHED_TEAM = 1  # the big line's team: the most unbilled time of any team


def _awaiting(manager: int, limit: int) -> list[int]:
    """The `limit` most recent unbilled entries awaiting approval, none of them the manager's own:
    the last days' time, as the To Approve screen lists it; on large, the big line's and ~3,000 others'."""
    return list(TimeEntry.objects.filter(approval=TO_APPROVE, invoice_line=None).exclude(user_id=manager)
                .order_by("-date", "pk").values_list("pk", flat=True)[:limit])


def _counted(alias: str, fn) -> int:
    """Queries the service call `fn` sends, inside a transaction rolled back after (untimed)."""
    with db.use(alias):
        with transaction.atomic():
            with CaptureQueriesContext(connection) as captured:
                fn()
            count = len(captured)
            transaction.set_rollback(True)
        _vacuum()
    return count


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _lines(ids: list[int]) -> int:
    return TimeEntry.objects.filter(pk__in=ids).exclude(sale_line=None).values("sale_line").distinct().count()


# --- 9. Bulk approve --------------------------------------------------------------------

def bulk_approve(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)
    first, last = aliases[0], aliases[-1]
    ids, managers, lines = {}, {}, {}
    for alias in aliases:
        with db.use(alias):
            managers[alias] = get_user_model().objects.get(pk=probes[alias].manager)
            ids[alias] = _awaiting(probes[alias].manager, BATCH)
            lines[alias] = _lines(ids[alias])
    # The same number of entries on large as small has: flat in the data set, then in the entries.
    same = len(ids[first])
    with db.use(last):
        ids[f"{last} {same}"] = _awaiting(probes[last].manager, same)
        lines[f"{last} {same}"] = _lines(ids[f"{last} {same}"])

    def approve(alias, key):
        def call() -> float:
            with transaction.atomic():
                started = time.perf_counter()
                changed = timesheets_approve(ids=ids[key], actor=managers[alias])
                elapsed = time.perf_counter() - started
                assert changed == len(ids[key]), (changed, len(ids[key]))
                transaction.set_rollback(True)  # the next run, and every measure after, finds them to approve
            return elapsed
        return call

    cases = {a: (a, approve(a, a)) for a in aliases}
    times = medians(cases, runs=runs, setup=_vacuum)
    for alias in aliases:
        with db.use(alias):
            _vacuum()

    def approve_once(alias, key):
        return lambda: timesheets_approve(ids=ids[key], actor=managers[alias])

    counts = {a: _counted(a, approve_once(a, a)) for a in aliases}
    count_same = _counted(last, approve_once(last, f"{last} {same}"))
    sizes = {a: f"{len(ids[a]):,} entries on {lines[a]:,} lines" for a in aliases}
    return [
        Figure(9, "bulk approve, `timesheets_approve` as a manager: the most recent entries awaiting approval "
                  f"({', '.join(f'{a}: {sizes[a]}' for a in aliases)}), rolled back",
               {a: times[a] * 1000 for a in aliases}, "ms",
               note=f"small holds only {len(ids[first]):,} unbilled entries awaiting approval, so it approves "
                    f"them all; large approves {len(ids[last]):,}" if len(ids[first]) < BATCH else ""),
        Figure(9, "bulk approve: time per entry", {a: times[a] * 1e6 / len(ids[a]) for a in aliases}, "µs"),
        Figure(9, f"bulk approve: queries, small (all {same:,}) / large ({same:,} on "
                  f"{_plural(lines[f'{last} {same}'], 'line')}) / large ({len(ids[last]):,})",
               {first: f"{counts[first]}", last: f"{count_same} / {counts[last]}"}, "", "equal",
               counts[first] == count_same == counts[last], judged=aliases),
    ]


# --- 10. A team switches to "Approved timesheets only" --------------------------------------

def _team_facts(team_id: int) -> str:
    entries = TimeEntry.objects.filter(Q(ticket__team=team_id) | Q(ticket__isnull=True,
                                                                   project__teams=team_id))
    facts = entries.aggregate(unbilled=Count("pk", filter=Q(invoice_line=None)),
                              tickets=Count("ticket", distinct=True, filter=Q(invoice_line=None)),
                              lines=Count("sale_line", distinct=True))
    return f"{facts['unbilled']:,} unbilled entries on {facts['tickets']:,} tickets, {facts['lines']:,} lines"


def policy_switch(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)
    managers, facts = {}, {}
    for alias in aliases:
        with db.use(alias):
            managers[alias] = get_user_model().objects.get(pk=probes[alias].manager)
            facts[alias] = _team_facts(SWITCHED_TEAM)
            assert HelpdeskTeam.objects.get(pk=SWITCHED_TEAM).invoiced_timesheets == HelpdeskTeam.Invoicing.ALL

    def flipped():
        team = HelpdeskTeam.objects.get(pk=SWITCHED_TEAM)
        team.invoiced_timesheets = HelpdeskTeam.Invoicing.APPROVED
        return team

    def switch(alias):
        def call() -> float:
            team = flipped()
            with transaction.atomic():
                started = time.perf_counter()
                team_save(team=team, actor=managers[alias])
                elapsed = time.perf_counter() - started
                transaction.set_rollback(True)
            return elapsed
        return call

    cases = {a: (a, switch(a)) for a in aliases}
    times = medians(cases, runs=runs, setup=_vacuum)
    counts, consistent = {}, {}
    for alias in aliases:
        with db.use(alias):
            _vacuum()
            team = flipped()
        counts[alias] = _counted(alias, lambda: team_save(team=team, actor=managers[alias]))
        with db.use(alias):  # once more, checked: Delivered and every entry follow the new policy
            with transaction.atomic():
                team_save(team=flipped(), actor=managers[alias])
                consistent[alias] = not billing_drift() and not TimeEntry.objects.filter(
                    ticket__team=SWITCHED_TEAM, invoice_line=None, approval=TO_APPROVE, billable_minutes__gt=0
                ).exists()
                transaction.set_rollback(True)
            _vacuum()
    first, last = aliases[0], aliases[-1]
    return [
        Figure(10, "team switches to \"Approved timesheets only\", `team_save` (Delivered recomputed) "
                   f"({', '.join(f'{a}: {facts[a]}' for a in aliases)}), rolled back",
               {a: times[a] * 1000 for a in aliases}, "ms"),
        Figure(10, "team switch: queries", {a: counts[a] for a in aliases}, "", "equal",
               len(set(counts.values())) == 1, judged=aliases),
        Figure(10, "team switch: large / small time", {last: _ratio(times[last], times[first])}, "×"),
        Figure(10, "team switch: `check_billing` finds no drift after it, and no awaiting entry still counts",
               {a: "yes" if consistent[a] else "no" for a in aliases}, "", "yes", all(consistent.values()),
               judged=aliases),
    ]
