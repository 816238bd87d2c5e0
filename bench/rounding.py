"""Target 11 (issue 13): Create Invoice on the big line rounding per ticket, against per entry (today).

Both are the service `invoice_create_from_order` on the big line's order as the probe accountant, in a
transaction rolled back after it (a `VACUUM` of the entries before each run, untimed), so every run
finds the same unbilled entries: 100,000 on 500 tickets on large. Per ticket, the data set's product
(the big line's) is switched in that transaction, before the clock starts, to a 15-minute increment
and a 30-minute minimum by a plain UPDATE: rounded per ticket an entry bills its minutes as logged
(the increment applies to each ticket's sum on the invoice), which is what the generated entries bill
already, so there is nothing to recount. Queries, and `check_billing` after a per-ticket invoice, come
from a run of their own.
"""

import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from invoicing.models import TicketCharge
from invoicing.selectors import billing_drift
from invoicing.services import invoice_create_from_order
from sales.models import Product, Rounding, SaleOrder, SaleOrderLine

from . import db
from .measures import Figure, _judge, _ratio, _vacuum
from .probes import Probes
from .timing import medians

PER_TICKET = {"rounding": Rounding.TICKET, "billing_increment_minutes": 15, "minimum_minutes": 30}
RULES = {"entry": None, "ticket": PER_TICKET}


def _click(p: Probes, rule: dict | None):
    """Return (the order, the accountant) of a Create Invoice on the big line, its product set to `rule` first."""
    if rule is not None:
        Product.objects.filter(pk=SaleOrderLine.objects.get(pk=p.big_line).product_id).update(**rule)
    return SaleOrder.objects.get(lines=p.big_line), get_user_model().objects.get(pk=p.accountant)


def _checked(alias: str, p: Probes, rule: dict | None) -> dict:
    """Create the invoice once, rolled back: its queries, what it billed, and whether check_billing agrees."""
    with db.use(alias):
        with transaction.atomic():
            order, accountant = _click(p, rule)
            with CaptureQueriesContext(connection) as captured:
                invoice = invoice_create_from_order(order=order, actor=accountant)
            line = invoice.lines.get()
            facts = {"queries": len(captured), "minutes": line.minutes, "rounding": line.rounding_minutes,
                     "entries": line.entry_count, "tickets": TicketCharge.objects.filter(invoice_line=line).count(),
                     "consistent": billing_drift() == []}
            transaction.set_rollback(True)
        _vacuum()
    return facts


def create_invoice_per_ticket(probes: dict[str, Probes], runs: int) -> list[Figure]:
    aliases = list(probes)

    def invoice(alias, rule):
        def call() -> float:
            with transaction.atomic():
                order, accountant = _click(probes[alias], rule)
                started = time.perf_counter()
                invoice = invoice_create_from_order(order=order, actor=accountant)
                elapsed = time.perf_counter() - started
                assert invoice.lines.get().minutes > 0
                transaction.set_rollback(True)  # the next run finds the same unbilled entries, rounded per entry
            return elapsed
        return call

    cases = {f"{a} {k}": (a, invoice(a, rule)) for a in aliases for k, rule in RULES.items()}
    times = medians(cases, runs=runs, setup=_vacuum)
    facts = {(a, k): _checked(a, probes[a], rule) for a in aliases for k, rule in RULES.items()}
    last = aliases[-1]
    ticket = {a: facts[a, "ticket"] for a in aliases}
    billed = ", ".join(f"{a}: {t['entries']:,} entries on {t['tickets']:,} tickets, {t['rounding']:,} minutes of "
                       f"rounding" for a, t in ticket.items())
    return [
        Figure(11, "Create Invoice on the big line, its product rounding per entry (today)",
               {a: times[f"{a} entry"] * 1000 for a in aliases}, "ms"),
        Figure(11, f"Create Invoice on the big line rounding per ticket, 15-min increment, 30-min minimum ({billed})",
               {a: times[f"{a} ticket"] * 1000 for a in aliases}, "ms"),
        _judge(11, "Create Invoice per ticket / per entry",
               {a: _ratio(times[f"{a} ticket"], times[f"{a} entry"]) for a in aliases}, "≤ 2", lambda r: r <= 2,
               sizes=[last], note=f"judged on {last}, whose big line holds {probes[last].big_entries:,} entries"),
        Figure(11, "Create Invoice: queries, per entry / per ticket",
               {a: f"{facts[a, 'entry']['queries']} / {facts[a, 'ticket']['queries']}" for a in aliases}),
        Figure(11, "per ticket: `check_billing` finds no drift after it (the charges sum to the line's rounding)",
               {a: "yes" if ticket[a]["consistent"] else "no" for a in aliases}, "", "yes",
               all(t["consistent"] for t in ticket.values()), judged=aliases),
    ]
