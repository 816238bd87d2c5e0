"""What a timesheet invoice line bills and why (DESIGN Rules 13 and 14).

`line_fill` makes a line's minutes from the entries it bills: their billable minutes, plus, when its
product rounds per ticket or has a minimum, the rounding of each ticket's sum (a `TicketCharge` per
ticket: summed, rounded up to the increment, raised to the minimum). `credit_charges` gives back a
ticket's charge as far as the entries left on the invoice no longer need it, so crediting every
entry returns exactly what was billed. `explain` writes the sentence the screens, the PDF and the
API show, in the active language: the customer's, as the invoice is a document (services). The rule is
the invoice line's snapshot of its product's, taken when it was created.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Count, Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sales.models import AgentRate, Rounding, SaleOrderLine, WorkType, WorkTypeRate
from sales.units import charged_minutes
from timesheets.durations import format_minutes
from timesheets.models import TimeEntry

from .models import Invoice, InvoiceLine, TicketCharge


def rule_snapshot(inv_line: InvoiceLine, line: SaleOrderLine) -> None:
    """Copy the product's billing rule onto a new invoice line: a posted line keeps what it billed by."""
    product = line.product
    inv_line.rounding = product.rounding
    inv_line.increment_minutes = product.billing_increment_minutes
    inv_line.minimum_minutes = product.minimum_minutes


def _per_ticket(inv_line: InvoiceLine) -> bool:
    return inv_line.rounding == Rounding.TICKET or inv_line.minimum_minutes > 0


def charge(inv_line: InvoiceLine, minutes: int) -> int:
    """Return what one ticket's billable `minutes` are charged on this line (its rule, Rule 14)."""
    return charged_minutes(minutes, increment=inv_line.increment_minutes, minimum=inv_line.minimum_minutes,
                           per_ticket=inv_line.rounding == Rounding.TICKET)


def _key(ticket_id, task_id) -> tuple:
    """Per ticket; time on a task without a ticket, per task."""
    return (ticket_id, None) if ticket_id else (None, task_id)


def _by_key(item) -> tuple:
    (ticket, task), _ = item
    return ticket or 0, task or 0


GROUPS = ("ticket_id", "task_id", "user_id", "work_type_id", "sale_line_manual")


def _groups(entries) -> list[dict]:
    """The entries summed by ticket, agent, work type and hand-set line: one GROUP BY, whatever their number."""
    return list(entries.values(*GROUPS).annotate(n=Count("pk"), worked=Sum("minutes"), billable=Sum("billable_minutes"))
                .order_by())


def line_fill(inv_line: InvoiceLine, line: SaleOrderLine) -> None:
    """Set a timesheet invoice line's minutes, rounding, charges, quantity-less figures and explanation
    from the entries it bills now (after Create Invoice linked them, or a draft was trimmed)."""
    groups = _groups(inv_line.timesheets.all())
    billable = sum(g["billable"] for g in groups)
    rounding = 0
    if _per_ticket(inv_line):
        sums = defaultdict(lambda: [0, 0])
        for g in groups:
            key = _key(g["ticket_id"], g["task_id"])
            sums[key][0] += g["n"]
            sums[key][1] += g["billable"]
        charges = [TicketCharge(invoice_line=inv_line, ticket_id=ticket, task_id=task, entries=n, minutes=minutes,
                                billed=charge(inv_line, minutes))
                   for (ticket, task), (n, minutes) in sorted(sums.items(), key=_by_key)]
        TicketCharge.objects.filter(invoice_line=inv_line).delete()
        TicketCharge.objects.bulk_create(charges)
        rounding = sum(c.billed - c.minutes for c in charges)
    inv_line.minutes = billable + rounding
    inv_line.rounding_minutes = rounding
    inv_line.entry_count = sum(g["n"] for g in groups)
    inv_line.worked_minutes = sum(g["worked"] for g in groups)
    inv_line.explanation = explain(inv_line, groups, line)


# --- The sentence -------------------------------------------------------------------

def rule_text(inv_line: InvoiceLine) -> str:
    """"per ticket, 15-min increment, 30-min minimum"; empty when time bills as logged."""
    parts = []
    if inv_line.rounding == Rounding.TICKET or inv_line.increment_minutes > 1:
        parts.append(_("per ticket") if inv_line.rounding == Rounding.TICKET else _("per entry"))
    if inv_line.increment_minutes > 1:
        parts.append(_("{n}-min increment").format(n=inv_line.increment_minutes))
    if inv_line.minimum_minutes:
        parts.append(_("{n}-min minimum").format(n=inv_line.minimum_minutes))
    return ", ".join(parts)


def _sources(groups: list[dict], line: SaleOrderLine) -> list[str]:
    """Where the rate came from, for the entries not on the line by default: "work type On-site", "rate
    for agent Alice", "set by hand" (Rule 13)."""
    by_type = set(WorkTypeRate.objects.filter(sale_line=line).values_list("work_type_id", flat=True))
    by_agent = set(AgentRate.objects.filter(sale_line=line).values_list("user_id", flat=True))
    types, agents, manual = set(), set(), False
    for g in groups:
        if g["sale_line_manual"]:
            manual = True
        elif g["work_type_id"] in by_type:
            types.add(g["work_type_id"])
        elif g["user_id"] in by_agent:
            agents.add(g["user_id"])
    names = WorkType.objects.in_bulk(types) if types else {}
    people = get_user_model().objects.in_bulk(agents) if agents else {}
    sources = [_("work type {name}").format(name=names[pk]) for pk in sorted(types)]
    sources += [_("rate for agent {name}").format(name=_name(people[pk])) for pk in sorted(agents)]
    return sources + ([_("set by hand")] if manual else [])


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def explain(inv_line: InvoiceLine, groups: list[dict], line: SaleOrderLine) -> str:
    """"6 entries, 1:35 worked → 2:00 billed: per ticket, 15-min increment, 30-min minimum · rate for agent Alice"."""
    count, worked = sum(g["n"] for g in groups), sum(g["worked"] for g in groups)
    text = ngettext("{n} entry, {worked} worked → {billed} billed", "{n} entries, {worked} worked → {billed} billed",
                    count).format(n=count, worked=format_minutes(worked), billed=format_minutes(inv_line.minutes))
    details = [rule] if (rule := rule_text(inv_line)) else []
    free = [g for g in groups if g["billable"] == 0]
    if free:
        n = sum(g["n"] for g in free)
        details.append(ngettext("{n} no charge ({duration})", "{n} no charge ({duration})", n).format(
            n=n, duration=format_minutes(sum(g["worked"] for g in free))))
    if details:
        text = _("{summary}: {details}").format(summary=text, details=", ".join(details))
    if sources := _sources(groups, line):
        text += " · " + ", ".join(sources)
    return text[:500]


# --- Credit notes -------------------------------------------------------------------

def _credited_so_far(origin: InvoiceLine) -> dict[tuple, list[int]]:
    """{ticket key: [minutes, billed]} already given back of `origin` by credit notes that are not cancelled."""
    sums = defaultdict(lambda: [0, 0])
    for ticket, task, minutes, billed in (TicketCharge.objects.filter(invoice_line__origin=origin)
                                          .exclude(invoice_line__invoice__state=Invoice.State.CANCELLED)
                                          .values_list("ticket_id", "task_id", "minutes", "billed")):
        sums[_key(ticket, task)][0] += minutes
        sums[_key(ticket, task)][1] += billed
    return sums


def credit_charges(origin: InvoiceLine, entry_ids: Iterable[int]) -> list[TicketCharge]:
    """Return the charges (unsaved) a credit line gives back when it credits these entries of `origin`.

    Per ticket: what is billed now (the charge, less earlier credits) less what the entries left would
    be charged by the same rule; the minutes are the entries' own. Crediting a ticket's last entries
    gives back all that is left, rounding and minimum included. Empty when `origin` has no charges
    (rounded per entry, no minimum): the credit is then the entries' minutes.
    """
    charges = {_key(c.ticket_id, c.task_id): c for c in origin.charges.all()}
    if not charges:
        return []
    given = defaultdict(lambda: [0, 0])
    for ticket, task, minutes in TimeEntry.objects.filter(pk__in=list(entry_ids)).values_list(
            "ticket_id", "task_id", "billable_minutes"):
        given[_key(ticket, task)][0] += 1
        given[_key(ticket, task)][1] += minutes
    so_far = _credited_so_far(origin)
    credits = []
    for key, (n, minutes) in sorted(given.items(), key=_by_key):
        billed, (credited_minutes, credited) = charges[key], so_far[key]
        left = billed.minutes - credited_minutes - minutes
        back = (billed.billed - credited) - charge(origin, left)
        credits.append(TicketCharge(ticket_id=key[0], task_id=key[1], entries=n, minutes=minutes, billed=back))
    return credits
