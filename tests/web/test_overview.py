"""The Helpdesk overview, the home page (issue 15): a card per team with its open tickets, the user's, this
week's time and the unbilled time; what is to invoice and overdue for those who see receivables; the open
alerts for those who see reports. Someone with no role still lands on the Tickets."""

import datetime
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from core.money import format_money
from invoicing.models import Invoice
from invoicing.services import invoice_create_from_order, invoice_post
from reports.alerts import alerts_scan
from timesheets.services import timesheet_log

from ..factories import TicketFactory, UserFactory, confirmed_line


def figures(html: str, team) -> dict:
    """A team card's figures: {"open": "1", "my-week": "2:15", ...}."""
    card = re.search(rf'<section class="card team-card" id="team-{team.pk}".*?</section>', html, re.S).group(0)
    return {name: " ".join(unescape(re.sub(r"<[^>]+>", " ", value)).split())
            for name, value in re.findall(r'<dd data-figure="([^"]+)">(.*?)</dd>', card, re.S)}


@pytest.fixture
def week(member, ticket, kinds):
    """Today: the agent's 1:30 billable and 0:45 non-billable, Bob's 0:30 billable, on the agent's ticket."""
    bob = UserFactory(username="bob", role="Agents")
    ticket.team.members.add(bob)
    ticket.assignee = member
    ticket.save(update_fields=["assignee"])
    today = timezone.localdate()
    timesheet_log(user=member, ticket=ticket, date=today, minutes=90, description="Reset the spooler")
    timesheet_log(user=member, ticket=ticket, date=today, minutes=45, description="Meeting",
                  work_type=kinds["Internal"])
    timesheet_log(user=bob, ticket=ticket, date=today, minutes=30, description="Toner")
    return bob


def test_an_agent_sees_a_card_per_team_with_their_figures(agent_client, week, ticket, other_ticket):
    response = agent_client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert figures(html, ticket.team) == {"open": "1", "mine": "1", "my-week": "2:15", "team-week": "2:45",
                                          "unbilled": "2:00"}
    assert f'id="team-{other_ticket.team.pk}"' not in html  # not their team
    # The figures lead to the Tickets list, filtered.
    query = f"team={ticket.team.pk}&amp;status=open"
    assert f'href="{reverse("ticket_list")}?{query}">1</a>' in html
    assert f'href="{reverse("ticket_list")}?{query}&amp;mine=on">1</a>' in html
    listed = agent_client.get(f"{reverse('ticket_list')}?{unescape(query)}&mine=on").content.decode()
    assert f'href="{reverse("ticket_detail", args=[ticket.pk])}"' in listed
    # No money and no alerts for an agent.
    assert 'id="to-invoice"' not in html and 'id="alerts"' not in html
    assert ">Reports</a>" in html
    assert f'<dd data-figure="my-week"><a href="{reverse("my_timesheets")}">2:15</a>' in html  # to the week grid


def test_an_accountant_sees_what_is_to_invoice_and_every_team(accountant_client, week, ticket, other_ticket):
    html = accountant_client.get(reverse("home")).content.decode()
    # 2:00 billable on line A at 90.00 an hour.
    assert re.search(r'<p class="figure" data-currency="EUR"><a href="/to-invoice/">€180.00</a></p>', html)
    assert "Nothing overdue." in html
    assert figures(html, ticket.team) == {"open": "1", "mine": "0", "my-week": "0:00", "team-week": "2:45",
                                          "unbilled": "2:00"}
    assert figures(html, other_ticket.team)["open"] == "1"
    assert "No open alerts." in html
    # The team's week leads to the Time report of that team and week.
    link = unescape(re.search(r'<dd data-figure="team-week"><a href="([^"]+)"', html).group(1))
    report = accountant_client.get(link).content.decode()
    assert re.search(r'<tfoot><tr class="totals"><th class="text">Total</th><th class="text"></th>'
                     r'<th class="minutes num">2:00</th><th class="minutes num">0:45</th>', report)


def test_overdue_invoices_show_with_their_balance(accountant_client, week, line_a):
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    Invoice.objects.filter(pk=invoice.pk).update(due_date=timezone.localdate() - datetime.timedelta(days=3))
    invoice.refresh_from_db()

    html = accountant_client.get(reverse("home")).content.decode()
    assert f'<a href="{reverse("overdue_list")}">1 invoice</a> past due' in html
    assert (f'<p class="figure" data-currency="{invoice.currency}">'
            f'{format_money(invoice.amount_residual, invoice.currency)}</p>') in html
    assert "Nothing to invoice." in html


def test_a_manager_sees_the_open_alerts_with_dealt_with(manager_client, member):
    line = confirmed_line(quantity=1, price_unit=90)
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    ticket.team.members.add(member)
    timesheet_log(user=member, ticket=ticket, date=timezone.localdate(), minutes=75)
    (alert,) = alerts_scan()

    html = manager_client.get(reverse("home")).content.decode()
    item = re.search(rf'<li class="alert-item delivered" id="alert-{alert.pk}">.*?</li>', html, re.S).group(0)
    assert f"{line.order} – {line.name}: Delivered 1:15 reached 100% of the 1:00 ordered." in unescape(item)
    assert 'name="csrfmiddlewaretoken"' in item and 'name="note"' in item
    assert ">Dealt with</button>" in item


def test_someone_with_no_role_still_lands_on_the_tickets(client):
    client.force_login(UserFactory(username="nobody"))
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("ticket_list")


def test_a_fresh_login_lands_on_the_overview(client, member):
    response = client.post(reverse("login"), {"username": "agent", "password": "secret-pass-123"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "<h1>Helpdesk overview</h1>" in response.content.decode()
