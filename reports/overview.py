"""The Helpdesk overview (the home page): a card per team, and for accountants what is to invoice,
overdue and alerted."""

from dataclasses import dataclass, field


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


def overview(*, user) -> Overview:
    """The user's teams (every team for managers and accountants), their figures in a few queries whatever
    the number of teams; the accountant's part only for those allowed to see it."""
    raise NotImplementedError  # being written by the lead
