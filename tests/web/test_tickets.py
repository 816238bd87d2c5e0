"""The Tickets list and the ticket page: filters, hours spent, status buttons, "Sales Order Item", smart buttons."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from tickets.models import Ticket
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, SaleOrderLineFactory, TicketFactory, UserFactory, confirmed_line, days_ago


def listed(response) -> list[str]:
    return [ticket.title for ticket in response.context["page_obj"]]


# --- The list -----------------------------------------------------------------------------

def test_an_agent_lists_their_teams_tickets_with_the_hours_spent(agent_client, member, ticket, other_ticket):
    timesheet_log(user=member, date=days_ago(1), minutes=90, ticket=ticket)
    timesheet_log(user=member, date=days_ago(0), minutes=45, ticket=ticket)
    response = agent_client.get(reverse("ticket_list"))
    assert listed(response) == [ticket.title]
    html = response.content.decode()
    assert '<td class="num" data-col="time">2:15</td>' in html
    assert other_ticket.title not in html


def test_managers_and_accountants_list_every_team(manager_client, ticket, other_ticket):
    assert listed(manager_client.get(reverse("ticket_list"))) == [other_ticket.title, ticket.title]


def test_filters_and_search_narrow_the_list(manager_client, manager, ticket, other_ticket):
    mine = TicketFactory(team=ticket.team, customer=CustomerFactory(name="Globex"), title="VPN drops",
                         assignee=manager, status=Ticket.Status.SOLVED)
    get = lambda **query: listed(manager_client.get(reverse("ticket_list"), query))  # noqa: E731
    assert get(team=ticket.team.pk) == [mine.title, ticket.title]
    assert get(customer=mine.customer.pk) == [mine.title]
    assert get(assignee=manager.pk) == [mine.title]
    assert get(mine="on") == [mine.title]
    assert get(status="solved") == [mine.title]
    assert get(status="open") == [other_ticket.title, ticket.title]
    assert get(q="vpn") == [mine.title]
    assert get(q="globex") == [mine.title]
    assert get(q=f"#{ticket.pk}") == [ticket.title]


def test_a_bad_filter_is_shown_on_the_form_not_an_error(manager_client, ticket):
    response = manager_client.get(reverse("ticket_list"), {"team": "nope", "status": "lost"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"team", "status"}
    assert listed(response) == [ticket.title]


def test_the_list_is_paginated(manager_client, ticket):
    for n in range(25):
        TicketFactory(team=ticket.team, customer=ticket.customer, title=f"Ticket {n:02d}")
    first = manager_client.get(reverse("ticket_list"))
    assert len(listed(first)) == 25
    assert "Page 1 of 2 · 26 in all" in first.content.decode()
    assert listed(manager_client.get(reverse("ticket_list"), {"page": 2})) == [ticket.title]


def queries(client, address) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    return len(captured)


def test_the_list_queries_the_same_for_one_row_or_many(agent_client, member, ticket):
    timesheet_log(user=member, date=days_ago(0), minutes=30, ticket=ticket)
    # session, user with its roles, the count of tickets, the page of tickets with their hours. The filters
    # list no team, customer or assignee: the page holds the chosen ones only (none here), the others are
    # asked of /lookup/ as one types.
    one = queries(agent_client, reverse("ticket_list"))
    assert one == 4
    for n in range(12):
        other = TicketFactory(team=ticket.team, customer=CustomerFactory(), assignee=UserFactory())
        timesheet_log(user=member, date=days_ago(0), minutes=15, ticket=other)
    assert queries(agent_client, reverse("ticket_list")) == one


# --- The ticket page ---------------------------------------------------------------------

def test_an_agent_of_another_team_gets_404_on_a_ticket(client, outsider, ticket):
    client.force_login(outsider)
    assert client.get(reverse("ticket_detail", args=[ticket.pk])).status_code == 404
    assert client.post(reverse("ticket_status", args=[ticket.pk]), {"status": "closed"}).status_code == 404
    assert client.get(reverse("ticket_timesheets_csv", args=[ticket.pk])).status_code == 404


def test_the_ticket_page_shows_its_fields_task_and_smart_buttons(agent_client, member, ticket, line_a):
    from ..factories import TaskFactory

    ticket.task = TaskFactory(project=ticket.team.project, name="Replace the fuser")
    ticket.save()
    html = agent_client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert ticket.title in html and ticket.customer.name in html and ticket.team.name in html
    assert f'href="{reverse("task_detail", args=[ticket.task.pk])}" id="task-link">Replace the fuser</a>' in html
    assert f'href="{reverse("order_detail", args=[line_a.order.pk])}" id="smart-sales-order"' in html
    assert "Sales Order Item" in html and "Timesheets" in html


def test_the_sales_order_item_dropdown_lists_billable_lines_with_delivered_hours(agent_client, member, ticket, line_a):
    timesheet_log(user=member, date=days_ago(0), minutes=135, ticket=ticket)
    SaleOrderLineFactory(order__customer=ticket.customer)  # a quotation's line: not billable yet
    confirmed_line()  # another customer's
    form = agent_client.get(reverse("ticket_detail", args=[ticket.pk])).context["sale_line_form"]
    choices = [(str(value), label) for value, label in form.fields["sale_line"].choices]
    assert choices == [("", "— none: time is not billed —"),
                       (str(line_a.pk), f"{line_a.order.name} · Service on Timesheet · 2.25 h delivered")]


def test_changing_the_sales_order_item_moves_the_unbilled_time(agent_client, member, ticket, line_a):
    entry = timesheet_log(user=member, date=days_ago(0), minutes=60, ticket=ticket)
    line_b = confirmed_line(order=line_a.order, name="Senior support")
    response = agent_client.post(reverse("ticket_sale_line", args=[ticket.pk]), {"sale_line": line_b.pk}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"Sales Order Item set to {line_a.order.name} · Senior support."]
    entry.refresh_from_db()
    line_a.refresh_from_db(), line_b.refresh_from_db()
    assert (entry.sale_line, line_a.delivered_minutes, line_b.delivered_minutes) == (line_b, 0, 60)


def test_a_line_of_another_customer_is_refused_with_a_message(agent_client, ticket, line_a):
    foreign = confirmed_line()
    response = agent_client.post(reverse("ticket_sale_line", args=[ticket.pk]), {"sale_line": foreign.pk}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Choose one of the Sales Order Items in the list."]
    ticket.refresh_from_db()
    assert ticket.sale_line == line_a


def test_status_buttons_move_the_ticket(agent_client, ticket):
    html = agent_client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert 'name="status" value="solved">Solve</button>' in html
    response = agent_client.post(reverse("ticket_status", args=[ticket.pk]), {"status": "closed"}, follow=True)
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert [str(m) for m in response.context["messages"]] == [f"{ticket} is closed."]
    assert 'value="in_progress">Reopen</button>' in response.content.decode()


def test_an_unknown_status_is_a_message_not_an_error(agent_client, ticket):
    response = agent_client.post(reverse("ticket_status", args=[ticket.pk]), {"status": "exploded"}, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["Unknown status 'exploded'."]


def test_accountants_read_tickets_but_do_not_move_them(accountant_client, ticket):
    html = accountant_client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert "Solve</button>" not in html and 'id="log-time"' not in html
    assert accountant_client.post(reverse("ticket_status", args=[ticket.pk]), {"status": "closed"}).status_code == 403
    assert accountant_client.post(reverse("ticket_sale_line", args=[ticket.pk]), {"sale_line": ""}).status_code == 403


def test_the_invoices_smart_button_counts_the_invoices_holding_the_tickets_time(agent_client, member, ticket, line_a):
    address = reverse("ticket_detail", args=[ticket.pk])
    assert agent_client.get(address).context["invoice_ids"] == []
    entry = timesheet_log(user=member, date=days_ago(1), minutes=60, ticket=ticket)
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    response = agent_client.get(address)
    assert response.context["invoice_ids"] == [invoice.pk]
    assert f'href="{reverse("invoice_detail", args=[invoice.pk])}" id="smart-invoices"' in response.content.decode()

    # A posted credit note gives the entry back: the invoice and the note both count, and stay listed.
    note = invoice_post(invoice=invoice_credit_note(invoice=invoice, entry_ids=[entry.pk]))
    assert agent_client.get(address).context["invoice_ids"] == [invoice.pk, note.pk]
    listed = agent_client.get(reverse("invoice_list"), {"ticket": ticket.pk}).context["page_obj"]
    assert [i.pk for i in listed] == [note.pk, invoice.pk]


def test_the_ticket_page_queries_the_same_for_one_entry_or_many(agent_client, member, ticket, line_a):
    from ..factories import TaskFactory

    ticket.task = TaskFactory(project=ticket.team.project)
    ticket.save()
    timesheet_log(user=member, date=days_ago(0), minutes=30, ticket=ticket)
    address = reverse("ticket_detail", args=[ticket.pk])
    # session, user with its roles, the ticket, the work types of the Work type select, its entries with
    # agent, line, order, product, invoice and work type, the invoices holding them, the timer, the chosen line
    # of the "Sales Order Item" select (the others are asked of /lookup/ as one types), the History's events (the
    # Assign select's chosen one is the assignee read with the ticket), its Messages with their authors (issue 18).
    one = queries(agent_client, address)
    assert one == 10
    for n in range(10):
        timesheet_log(user=UserFactory(role="Agents"), date=days_ago(n), minutes=15, ticket=ticket)
        timesheet_log(user=member, date=days_ago(n), minutes=20, task=ticket.task)
    invoice_create_from_order(order=line_a.order)
    timesheet_log(user=member, date=days_ago(0), minutes=5, ticket=ticket)
    assert queries(agent_client, address) == one
