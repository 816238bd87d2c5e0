"""Write off on a draft invoice (Rule 15): the entries leave it as "No charge" with a reason, the totals drop,
the ticket marks them, the CSV lists them; a manager reinstates them."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from invoicing.models import Invoice
from invoicing.services import invoice_create_from_order, invoice_post
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log

from .conftest import signed_in

REASON = "Our mistake: the first fix did not hold"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def entry_row(html: str, entry) -> str:
    row = html[html.index(f'id="entry-{entry.pk}"'):]
    return row[:row.index("</tr>")]


@pytest.fixture
def logged(member, ticket):
    """1:30 and 0:45 on the ticket (line A, 90/h)."""
    day = datetime.date(2025, 5, 6)
    return [timesheet_log(user=member, date=day, minutes=90, ticket=ticket, description="Diagnosed"),
            timesheet_log(user=member, date=day + datetime.timedelta(days=1), minutes=45, ticket=ticket,
                          description="Redone")]


@pytest.fixture
def draft(line_a, logged):
    return invoice_create_from_order(order=line_a.order)


def write_off(client, invoice, entries, reason=REASON):
    return client.post(reverse("invoice_write_off", args=[invoice.pk]),
                       {"entry": [e.pk for e in entries], "reason": reason}, follow=True)


def test_write_off_drops_the_total_and_marks_the_entry_no_charge(accountant_client, draft, logged, ticket, line_a):
    assert draft.amount_untaxed == Decimal("202.50")  # 2.25 h × 90
    page = accountant_client.get(reverse("invoice_detail", args=[draft.pk])).content.decode()
    assert 'id="write-off-form"' in page and 'form="write-off-form" aria-label="Write off 0:45 of 2025-05-07"' in page

    response = write_off(accountant_client, draft, [logged[1]])
    assert response.redirect_chain[-1][0] == reverse("invoice_detail", args=[draft.pk])
    assert messages_of(response) == ["Wrote off 1 timesheet: No charge."]
    draft.refresh_from_db()
    assert draft.amount_untaxed == Decimal("135.00")  # 1.50 h × 90
    html = response.content.decode()
    assert f'<td class="num" id="invoice-total">€{draft.amount_total:,.2f}</td>' in html
    assert f'id="entry-{logged[1].pk}"' not in html  # off the invoice

    redone = TimeEntry.objects.get(pk=logged[1].pk)
    assert (redone.written_off, redone.write_off_reason, redone.minutes, redone.billable_minutes,
            redone.invoice_line) == (True, REASON, 45, 0, None)
    line_a.refresh_from_db()
    assert (line_a.delivered_minutes, line_a.invoiced_minutes) == (90, 90)  # nothing left to invoice

    ticket_page = accountant_client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    row = entry_row(ticket_page, logged[1])
    assert '<span class="badge no-charge">No charge</span>' in row and REASON in row
    assert "Reinstate" not in row  # an accountant writes off; a manager reinstates


def test_write_off_without_a_reason_changes_nothing(accountant_client, draft, logged):
    response = write_off(accountant_client, draft, [logged[1]], reason="")
    assert messages_of(response) == ["Give the reason for writing off."]
    draft.refresh_from_db()
    assert draft.amount_untaxed == Decimal("202.50")
    assert TimeEntry.objects.filter(written_off=True).count() == 0


def test_write_off_with_nothing_ticked_is_refused(accountant_client, draft):
    response = write_off(accountant_client, draft, [])
    assert messages_of(response) == [f"These timesheets are not on {draft}: none given."]


def test_a_posted_invoice_offers_no_write_off(accountant_client, draft, logged):
    invoice_post(invoice=draft)
    page = accountant_client.get(reverse("invoice_detail", args=[draft.pk])).content.decode()
    assert 'id="write-off-form"' not in page
    response = write_off(accountant_client, draft, [logged[1]])
    assert messages_of(response) == [f"{Invoice.objects.get()} is posted and cannot be changed."]
    assert TimeEntry.objects.filter(written_off=True).count() == 0


def test_agents_cannot_write_off(agent_client, draft, logged):
    assert 'id="write-off-form"' not in agent_client.get(reverse("invoice_detail", args=[draft.pk])).content.decode()
    response = agent_client.post(reverse("invoice_write_off", args=[draft.pk]),
                                 {"entry": [logged[1].pk], "reason": REASON})
    assert response.status_code == 403
    assert TimeEntry.objects.filter(written_off=True).count() == 0


def test_a_manager_reinstates_written_off_time(client, manager, member, accountant_client, draft, logged, ticket,
                                                 line_a):
    write_off(accountant_client, draft, [logged[1]])
    page = reverse("ticket_detail", args=[ticket.pk])
    agent = signed_in(client, member)
    assert "Reinstate" not in entry_row(agent.get(page).content.decode(), logged[1])
    assert agent.post(page, {"action": "reinstate", "entry": logged[1].pk}).status_code == 403

    boss = signed_in(client, manager)
    row = entry_row(boss.get(page).content.decode(), logged[1])
    assert 'data-confirm="Reinstate 0:45 of 2025-05-07? It will be invoiced again."' in row
    response = boss.post(page, {"action": "reinstate", "entry": logged[1].pk}, follow=True)
    assert messages_of(response) == ["Reinstated 0:45 of 2025-05-07: it is to invoice again."]
    redone = TimeEntry.objects.get(pk=logged[1].pk)
    assert (redone.written_off, redone.write_off_reason, redone.billable_minutes) == (False, "", 45)
    line_a.refresh_from_db()
    assert (line_a.delivered_minutes, line_a.invoiced_minutes) == (135, 90)  # 0:45 to invoice again
    response = boss.post(page, {"action": "reinstate", "entry": logged[1].pk}, follow=True)
    assert messages_of(response) == [f"Timesheet {logged[1].pk} is not written off."]


def test_the_csv_lists_written_off_time_with_its_reason(accountant_client, draft, logged, ticket, line_a):
    write_off(accountant_client, draft, [logged[1]])
    response = accountant_client.get(reverse("ticket_timesheets_csv", args=[ticket.pk]))
    line = f"{line_a.order.name} - Service on Timesheet"
    assert response.content.decode() == (
        "\ufeffDate,Agent,Ticket,Task,Description,Duration (H:MM),Hours (decimal),Billed hours (decimal),"
        "Sales Order Item,Invoice,Approval,No charge,Work type\r\n"
        f"2025-05-06,agent,{ticket},,Diagnosed,1:30,1.50,1.50,{line},{draft},To approve,,\r\n"
        f"2025-05-07,agent,{ticket},,Redone,0:45,0.75,0.00,{line},,To approve,{REASON},\r\n"
    )
