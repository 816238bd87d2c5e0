"""The Helpdesk overview (issue 15): a card per team (open tickets, mine, this week's time, unbilled time),
and for managers and accountants what is to invoice, overdue and alerted."""

import datetime
from decimal import Decimal

import time_machine

from reports.alerts import alerts_scan
from reports.overview import overview
from tickets.models import Ticket
from timesheets.services import timesheet_log

from ..factories import TicketFactory, confirmed_line


def on(day: datetime.date):
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(9), tzinfo=datetime.UTC), tick=False)


WEDNESDAY = datetime.date(2025, 3, 19)  # the week of Monday 17 March: b3 (Bob, 40 min) is this week's


def cards(result) -> list[tuple]:
    return [(card.team.name, card.open_tickets, card.my_open_tickets, card.my_week_minutes, card.team_week_minutes,
             card.unbilled_minutes) for card in result.teams]


def test_a_card_per_team_for_a_manager(world, manager):
    Ticket.objects.filter(pk=world.ticket_free.pk).update(status=Ticket.Status.SOLVED)
    with on(WEDNESDAY):
        result = overview(user=manager)

    # Unbilled: North a0 (25); South b1 and b3 (90 + 40). Open: North's ticket A (the other is solved).
    assert cards(result) == [("North", 1, 0, 0, 0, 25), ("South", 1, 0, 0, 40, 130)]
    assert result.to_invoice == [("EUR", Decimal("168.00"))]  # 37.80 + 130.20, as To Invoice totals it
    assert (result.overdue_count, result.overdue, result.alerts) == (0, [], [])


def test_an_agent_sees_their_teams_and_their_own_week(world):
    Ticket.objects.filter(pk=world.ticket_b.pk).update(assignee=world.bob)
    with on(WEDNESDAY):
        timesheet_log(user=world.bob, ticket=world.ticket_b, date=WEDNESDAY, minutes=15)
        other = TicketFactory(team=world.south, customer=world.customer_b, sale_line=world.line_b)
        timesheet_log(user=world.agent, ticket=other, date=WEDNESDAY, minutes=5)  # a colleague's
        result = overview(user=world.bob)

    assert cards(result) == [("South", 2, 1, 55, 60, 150)]
    assert (result.to_invoice, result.overdue, result.alerts) == ([], [], [])


def test_last_weeks_time_is_not_this_weeks(world, manager):
    with on(WEDNESDAY + datetime.timedelta(days=5)):  # Monday 24 March: a new week
        result = overview(user=manager)

    assert [card.team_week_minutes for card in result.teams] == [0, 0]


def test_an_accountant_sees_overdue_invoices_and_open_alerts(world, accountant, agent):
    small = confirmed_line(order__customer=world.customer_a, quantity=1)
    timesheet_log(user=agent, ticket=TicketFactory(team=world.north, customer=world.customer_a, sale_line=small),
                  date=WEDNESDAY, minutes=60)
    [alert] = alerts_scan()
    world.invoice.refresh_from_db()
    due = world.invoice.due_date

    with on(due + datetime.timedelta(days=1)):
        result = overview(user=accountant)

    assert (result.overdue_count, result.overdue) == (1, [("EUR", Decimal("90.00"))])
    assert result.alerts == [alert]
    # To invoice: Unbilled work's 168.00 and the new line's hour at 90.
    assert result.to_invoice == [("EUR", Decimal("258.00"))]
    with on(due):
        assert overview(user=accountant).overdue_count == 0  # due today: not late yet
