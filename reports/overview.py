"""The Helpdesk overview (the home page): a card per team, and for accountants what is to invoice,
overdue and alerted."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from core.money import round_money
from invoicing.payments import overdue_invoices
from sales.models import Company, SaleOrder, SaleOrderLine, ServicePolicy
from sales.units import amount
from tickets.models import Ticket
from tickets.selectors import teams_for
from timesheets.models import TimeEntry

from .alerts import open_alerts
from .unbilled import to_invoice_amount

CLOSED = (Ticket.Status.SOLVED, Ticket.Status.CLOSED)


@dataclass
class TeamCard:
    team: object  # HelpdeskTeam
    open_tickets: int
    my_open_tickets: int
    my_week_minutes: int  # the user's time on the team's tickets since Monday
    team_week_minutes: int
    unbilled_minutes: int  # the team's billable time not on an invoice yet


@dataclass
class Overview:
    teams: list[TeamCard]
    # For those who see receivables: [(currency, amount)] to invoice now, and the overdue invoices.
    to_invoice: list[tuple[str, object]] = field(default_factory=list)
    overdue_count: int = 0
    overdue: list[tuple[str, object]] = field(default_factory=list)  # [(currency, balance)]
    alerts: list = field(default_factory=list)  # open Alerts, for those who see reports


OPEN_ALERTS_SHOWN = 20


def _team_cards(user, teams: list) -> list[TeamCard]:
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    tickets = {row["team"]: row for row in Ticket.objects.filter(team__in=teams).exclude(status__in=CLOSED)
               .values("team").annotate(open=Count("id"), mine=Count("id", filter=Q(assignee=user.pk))).order_by()}
    week = {row["ticket__team"]: row for row in TimeEntry.objects.filter(
        ticket__team__in=teams, date__gte=monday, date__lte=today).values("ticket__team")
        .annotate(total=Sum("minutes"), mine=Sum("minutes", filter=Q(user=user.pk))).order_by()}
    unbilled = dict(TimeEntry.objects.filter(ticket__team__in=teams, invoice_line__isnull=True, billable_minutes__gt=0,
                                             sale_line__product__service_policy=ServicePolicy.DELIVERED_TIMESHEET)
                    .values_list("ticket__team").annotate(minutes=Sum("billable_minutes")).order_by())
    return [TeamCard(team=team, open_tickets=tickets.get(team.pk, {}).get("open", 0),
                     my_open_tickets=tickets.get(team.pk, {}).get("mine", 0),
                     my_week_minutes=week.get(team.pk, {}).get("mine") or 0,
                     team_week_minutes=week.get(team.pk, {}).get("total") or 0,
                     unbilled_minutes=unbilled.get(team.pk, 0)) for team in teams]


def _quantities_to_invoice(currency: str) -> Decimal:
    """Prepaid and manual lines' quantity not invoiced yet, at their prices (few lines: read whole)."""
    lines = (SaleOrderLine.objects.filter(order__state=SaleOrder.State.SALE)
             .exclude(product__service_policy=ServicePolicy.DELIVERED_TIMESHEET)
             .filter(Q(product__service_policy=ServicePolicy.ORDERED_PREPAID, quantity__gt=F("qty_invoiced"))
                     | Q(product__service_policy=ServicePolicy.DELIVERED_MANUAL,
                         qty_delivered_manual__gt=F("qty_invoiced")))
             .select_related("product"))
    return sum((amount(line.to_invoice, line.price_unit, currency) for line in lines), Decimal("0.00"))


def _receivables(result: Overview, user) -> None:
    currency = Company.current().currency
    time = to_invoice_amount(currency)
    if total := time + _quantities_to_invoice(currency):
        result.to_invoice = [(currency, total)]
    overdue = (overdue_invoices().values("currency").annotate(count=Count("id"), balance=Sum("amount_residual"))
               .order_by("currency"))
    result.overdue = [(row["currency"], round_money(row["balance"], row["currency"])) for row in overdue]
    result.overdue_count = sum(row["count"] for row in overdue)


def overview(*, user) -> Overview:
    """The user's teams (every team for managers and accountants), their figures in a few queries whatever
    the number of teams; the accountant's part only for those allowed to see it."""
    result = Overview(teams=_team_cards(user, list(teams_for(user=user))))
    if user.has_perm("invoicing.see_receivables"):
        _receivables(result, user)
    if user.has_perm("reports.see_reports"):
        result.alerts = list(open_alerts()[:OPEN_ALERTS_SHOWN])
    return result
