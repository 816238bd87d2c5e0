"""Rates by agent and by work type on a sales order (DESIGN Rule 13): which of its lines time bills.

The rows are the sales app's; setting them is here because they decide where time goes: the
receivers move the order's unbilled, not hand-set time once the rates are written (rates_batch).
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEvent
from audit.services import audit_record
from sales.models import TIMESHEET_POLICIES, AgentRate, SaleOrder, SaleOrderLine, WorkType, WorkTypeRate
from sales.services import links_lock

from .receivers import rates_batch

KINDS = {"agent_rates": (AgentRate, "user"), "work_type_rates": (WorkTypeRate, "work_type")}
MAX_RATES = 200
# What a rate of each kind must name, said whole for each (a sentence is never built from a word).
NAMES_WHAT = {"agent_rates": gettext_lazy("Each rate names a user and a Sales Order Item."),
              "work_type_rates": gettext_lazy("Each rate names a work type and a Sales Order Item.")}


def rates_of(order: SaleOrder) -> dict[str, list[dict]]:
    """Return {"agent_rates": [{"user": id, "sale_line": id}], "work_type_rates": [{"work_type": id, …}]}."""
    return {kind: [{key: k, "sale_line": line} for k, line in model.objects.filter(order=order).order_by("pk")
                   .values_list(f"{key}_id", "sale_line_id")]
            for kind, (model, key) in KINDS.items()}


def _check(order: SaleOrder, kind: str, rates) -> dict[int, SaleOrderLine]:
    """Return {user or work type id: line} for `rates`; refuse what may not be a rate of this order."""
    model, key = KINDS[kind]
    if not isinstance(rates, list | tuple) or len(rates) > MAX_RATES:
        raise ValidationError({kind: _("Give a list of at most {count} rates.").format(count=MAX_RATES)})
    wanted, errors = {}, []
    expected = get_user_model() if key == "user" else WorkType
    for rate in rates:
        who, line = rate.get(key) if isinstance(rate, dict) else None, rate.get("sale_line") \
            if isinstance(rate, dict) else None
        if not isinstance(who, expected) or not isinstance(line, SaleOrderLine):
            errors.append(str(NAMES_WHAT[kind]))
        elif line.order_id != order.pk:
            errors.append(_("{line} is not a line of {order}: a rate maps to a line of the same order.").format(
                line=line, order=order))
        elif line.product.service_policy not in TIMESHEET_POLICIES:
            errors.append(_("{line} is not billed on timesheets: choose a service line.").format(line=line))
        elif who.pk in wanted:
            errors.append(_("{name} has two rates: give one line each.").format(name=who))
        else:
            wanted[who.pk] = line
    if errors:
        raise ValidationError({kind: errors})
    return wanted


def _label(kind: str, rates: list[dict]) -> list[str]:
    key = KINDS[kind][1]
    return [f"{key} {rate[key]} → line {rate['sale_line']}" for rate in rates]


@transaction.atomic
def order_rates_set(*, order: SaleOrder, agent_rates=None, work_type_rates=None, actor=None) -> SaleOrder:
    """Replace the order's Rates by agent and/or by work type (None leaves that list as it is).

    Each rate maps an agent or a work type to a line of the same order billed on timesheets; a
    refusal names every wrong rate and changes nothing. The order's unbilled, not hand-set time
    then moves to the line its work type maps to, else its agent's, else its ticket's (Rule 13),
    once, whatever the number of rates; both lines' Delivered follow. Audited.
    """
    given = {"agent_rates": agent_rates, "work_type_rates": work_type_rates}
    checked = {kind: _check(order, kind, rates) for kind, rates in given.items() if rates is not None}
    links_lock(exclusive=True)
    order = SaleOrder.objects.select_for_update().get(pk=order.pk)
    if order.state == SaleOrder.State.CANCEL:
        raise ValidationError(_("{order} is cancelled: its rates no longer change.").format(order=order))
    before = rates_of(order)
    with rates_batch():
        for kind, wanted in checked.items():
            model, key = KINDS[kind]
            stored = {getattr(rate, f"{key}_id"): rate for rate in model.objects.filter(order=order)}
            for pk, rate in stored.items():
                if pk not in wanted:
                    rate.delete()
            for pk, line in wanted.items():
                rate = stored.get(pk) or model(order=order, **{f"{key}_id": pk})
                if rate.pk is None or rate.sale_line_id != line.pk:
                    rate.sale_line = line
                    rate.save()
    after = rates_of(order)
    if changes := {kind: [_label(kind, before[kind]), _label(kind, after[kind])] for kind in checked
                   if before[kind] != after[kind]}:
        audit_record(action=AuditEvent.Action.ORDER_RATES_CHANGED, obj=order, actor=actor, changes=changes)
    return order
