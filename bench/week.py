"""Issue 17: My Timesheets' week grid stays flat (target 2, the pages people use all day).

The probe agent opens this week's grid with 40 of the probe team's tickets added as rows (`?add=`), besides the
rows of their own time this week: the same rows on both data sets, only the time and tickets around them grow.
Its figures, as every page's of target 2: the server time, large / small ≤ 1.5, and the same queries.
"""

from django.contrib.auth import get_user_model
from django.test import Client

from tickets.models import Ticket

from . import db
from .measures import Figure, _judge, _ratio
from .probes import Probes
from .timing import medians, queries

ROWS = 40
LABEL = f"My Timesheets week grid (the probe agent's week, {ROWS} tickets added)"


def week_grid(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)
    clients, addresses, rows = {}, {}, {}
    for alias in aliases:
        with db.use(alias):
            clients[alias] = Client()
            clients[alias].force_login(get_user_model().objects.get(pk=probes[alias].agent))
            added = Ticket.objects.filter(team__name="Probe team").order_by("pk").values_list("pk", flat=True)[:ROWS]
            addresses[alias] = "/timesheets/week/?" + "&".join(f"add={pk}" for pk in added)
            rows[alias] = clients[alias].get(addresses[alias]).content.decode().count("<tr data-row=")

    def get(alias):
        def call():
            response = clients[alias].get(addresses[alias])
            assert response.status_code == 200, (addresses[alias], response.status_code)
        return call

    cases = {alias: (alias, get(alias)) for alias in aliases}
    times = medians(cases, runs=runs)
    counts = {alias: queries(alias, fn) for alias, (_, fn) in cases.items()}
    first, last = aliases[0], aliases[-1]
    return [
        Figure(2, f"{LABEL}: rows", rows, "", "equal", len(set(rows.values())) == 1, judged=aliases),
        Figure(2, f"{LABEL}: server time", {a: times[a] * 1000 for a in aliases}, "ms"),
        _judge(2, f"{LABEL}: {last} / {first}", {last: _ratio(times[last], times[first])}, "≤ 1.5",
               lambda r: r <= 1.5),
        Figure(2, f"{LABEL}: queries", counts, "", "equal", len(set(counts.values())) == 1, judged=aliases),
    ]
