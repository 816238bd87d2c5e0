"""Sequences of edits, each allowed alone, that must never reach a state a single edit is refused.

The permission matrix sends one request per case from the same world; here a persona sends
several in a row and the world keeps each answer. The rule they test (README, Roles): a
ticket's customer is fixed once time is logged on it, and time never bills another
customer's order, however its ticket and task are unlinked and relinked; and an order's rates
are the accountant's to set, its agents' time follows them, and the preview is the invoice.
"""

import pytest
from django.urls import reverse

from api.tickets import CUSTOMER_FIXED
from audit.models import AuditEvent
from invoicing.models import Invoice
from projects.services import task_create
from sales.models import AgentRate
from timesheets.models import TimeEntry

from ..factories import ProductFactory, TicketFactory, confirmed_line
from .test_permission_matrix import TODAY, api_client_of, browser_of

API = "/api/v1"


def patch(client, ticket, **data):
    return client.patch(f"{API}/tickets/{ticket.pk}/", data, format="json")


def delivered(line) -> int:
    line.refresh_from_db()
    return line.delivered_minutes


def b_stays_hidden_and_unbilled(world, persona, minutes_on_b):
    """Team B's order still bills only team B's time, and an agent of team A still cannot read it."""
    b = world.b
    assert delivered(b.line) == minutes_on_b
    assert api_client_of(world, persona).get(f"{API}/sale-orders/{b.order.pk}/").status_code == 404
    assert browser_of(world, persona).get(reverse("order_detail", args=[b.order.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["agent_a", "lead_a"])
def test_unlink_then_change_customer_then_relink_is_refused_at_the_change(world, persona):
    a, b = world.a, world.b
    client = api_client_of(world, persona)
    on_b = delivered(b.line)

    # In one step: refused.
    response = patch(client, a.ticket, customer=b.order.customer_id, sale_line=b.line.pk)
    assert (response.status_code, response.json()["customer"]) == (400, [CUSTOMER_FIXED])
    # In three: the first is allowed, the second refused the same way, the third refused too.
    assert patch(client, a.ticket, sale_line=None).status_code == 200
    response = patch(client, a.ticket, customer=b.order.customer_id)
    assert (response.status_code, response.json()) == (400, {"customer": [CUSTOMER_FIXED]})
    response = patch(client, a.ticket, sale_line=b.line.pk)
    assert response.status_code == 400
    assert response.json()["sale_line"] == [
        f"{b.order.name} belongs to {b.order.customer}, not to {a.order.customer}: "
        "choose a line of this customer's order."]

    a.ticket.refresh_from_db()
    assert (a.ticket.customer, a.ticket.sale_line) == (a.order.customer, None)
    assert TimeEntry.objects.get(pk=a.open_entry.pk).sale_line is None  # unlinked: not billed
    b_stays_hidden_and_unbilled(world, persona, on_b)


def test_a_manager_moving_a_ticket_with_invoiced_time_is_refused(world):
    a, b = world.a, world.b
    response = patch(api_client_of(world, "manager"), a.ticket, customer=b.order.customer_id, sale_line=b.line.pk)
    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"Time on {a.ticket} is invoiced ({a.posted.number}, a draft)")
    a.ticket.refresh_from_db()
    assert a.ticket.customer == a.order.customer
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TICKET_CUSTOMER_CHANGED).exists()


def test_a_manager_moves_a_ticket_with_unbilled_time_and_the_log_says_so(world):
    a, b = world.a, world.b
    ticket = TicketFactory(team=a.team, customer=a.order.customer, sale_line=a.line, title="Filed for the wrong one")
    logged = api_client_of(world, "agent_a").post(f"{API}/timesheets/", {"ticket": ticket.pk, "duration": "0:45"},
                                                  format="json")
    assert logged.status_code == 201
    on_a, on_b = delivered(a.line), delivered(b.line)

    response = patch(api_client_of(world, "manager"), ticket, customer=b.order.customer_id, sale_line=b.line.pk)

    assert response.status_code == 200
    assert (delivered(a.line), delivered(b.line)) == (on_a - 45, on_b + 45)
    event = AuditEvent.objects.get(action=AuditEvent.Action.TICKET_CUSTOMER_CHANGED)
    assert (event.actor, event.changes["customer"]) == (world.users["manager"],
                                                        [a.order.customer.name, b.order.customer.name])
    assert event.changes["timesheets"] == [logged.json()["id"]]


def test_before_any_time_is_logged_an_agent_may_still_correct_the_customer(world):
    """Triage: a ticket filed for the wrong customer, with no time yet, is the agent's to correct."""
    a, b = world.a, world.b
    client = api_client_of(world, "agent_a")
    created = client.post(f"{API}/tickets/", {"team": a.team.pk, "customer": a.order.customer_id,
                                              "title": "Wrong customer"}, format="json")
    ticket = TicketFactory._meta.model.objects.get(pk=created.json()["id"])
    assert patch(client, ticket, customer=b.order.customer_id).status_code == 200
    assert patch(client, ticket, sale_line=b.line.pk).status_code == 200
    logged = client.post(f"{API}/timesheets/", {"ticket": ticket.pk, "duration": "0:20"}, format="json")
    assert logged.status_code == 201
    # Now fixed: back to customer A is refused.
    response = patch(client, ticket, customer=a.order.customer_id, sale_line=None)
    assert (response.status_code, response.json()) == (400, {"customer": [CUSTOMER_FIXED]})


def test_relinking_the_task_never_bills_another_customers_order(world):
    """A task of team A's project sold to customer B (a manager's set-up): the agent links their
    ticket to it after dropping the ticket's line; the ticket's time does not follow to B's order."""
    a, b = world.a, world.b
    task = task_create(project=a.team.project, name="Sold to B", sale_line=None)
    task.customer = b.order.customer
    task.save()
    task_line = api_client_of(world, "manager").patch(f"{API}/tasks/{task.pk}/", {"sale_line": b.line.pk},
                                                      format="json")
    assert task_line.status_code == 200
    client = api_client_of(world, "agent_a")
    on_b = delivered(b.line)

    assert patch(client, a.ticket, sale_line=None).status_code == 200
    assert patch(client, a.ticket, task=task.pk).status_code == 200
    assert client.post(f"{API}/timesheets/", {"ticket": a.ticket.pk, "duration": "1:00"},
                       format="json").status_code == 201

    assert set(TimeEntry.objects.filter(ticket=a.ticket, invoice_line=None).values_list("sale_line", flat=True)) == {
        None}
    b_stays_hidden_and_unbilled(world, "agent_a", on_b)


def test_the_ticket_page_offers_and_takes_only_the_tickets_customers_lines(world):
    a, b = world.a, world.b
    browser = browser_of(world, "agent_a")
    page = browser.get(reverse("ticket_detail", args=[a.ticket.pk])).content.decode()
    assert a.order.name in page and b.order.name not in page
    response = browser.post(reverse("ticket_sale_line", args=[a.ticket.pk]), {"sale_line": b.line.pk}, follow=True)
    assert "Choose one of the Sales Order Items in the list." in response.content.decode()
    a.ticket.refresh_from_db()
    assert a.ticket.sale_line == a.line


def test_in_the_admin_a_lead_sees_the_customer_read_only_and_cannot_post_it(world):
    a, b = world.a, world.b
    browser = browser_of(world, "lead_a")
    address = reverse("admin:tickets_ticket_change", args=[a.ticket.pk])
    page = browser.get(address).content.decode()
    assert 'name="customer"' not in page  # shown, not editable: time is logged on it
    response = browser.post(address, {
        "team": a.team.pk, "customer": b.order.customer_id, "title": a.ticket.title, "status": "new",
        "task": a.task.pk, "sale_line": a.line.pk, "time_entries-TOTAL_FORMS": "0",
        "time_entries-INITIAL_FORMS": "0", "_save": "Save"})
    assert response.status_code == 302  # saved, without the customer it may not change
    a.ticket.refresh_from_db()
    assert a.ticket.customer == a.order.customer
    b_stays_hidden_and_unbilled(world, "lead_a", delivered(b.line))


def test_approval_then_edits_rejection_write_off_and_reinstatement_each_by_whom_they_belong_to(world):
    a = world.a
    manager, accountant = api_client_of(world, "manager"), api_client_of(world, "accountant")
    agent, lead = api_client_of(world, "agent_a"), api_client_of(world, "lead_a")
    entry = f"{API}/timesheets/{a.open_entry.pk}/"

    # Approved by a manager: the agent may no longer change or delete it; nobody else approves.
    assert manager.post(f"{API}/timesheets/approve/", {"ids": [a.open_entry.pk]}, format="json").json() == {
        "approved": 1}
    for response in (agent.patch(entry, {"description": "Edited"}, format="json"), agent.delete(entry)):
        assert (response.status_code, response.json()["detail"]) == (
            409, "This timesheet is approved: only a manager may change it.")
    for client in (agent, lead, accountant):
        assert client.post(f"{API}/timesheets/approve/", {"ids": [a.open_entry.pk]}, format="json").status_code == 403

    # Rejected: back to its agent with the reason; their edit sends it back for approval.
    manager.post(f"{API}/timesheets/reject/", {"ids": [a.open_entry.pk], "reason": "Which printer?"}, format="json")
    assert agent.get(entry).json()["approval_note"] == "Which printer?"
    assert agent.patch(entry, {"description": "The 3rd floor's"}, format="json").json()["approval"] == "to_approve"

    # A manager's own time is another manager's to approve.
    mine = manager.post(f"{API}/timesheets/", {"ticket": a.ticket.pk, "duration": "0:15"}, format="json").json()
    response = manager.post(f"{API}/timesheets/approve/", {"ids": [mine["id"]]}, format="json")
    assert response.status_code == 400 and "your own time" in str(response.json())

    # Written off by the accountant; only a manager reinstates it, and then it is to invoice again.
    drafted = a.drafted_entry.pk
    response = accountant.post(f"{API}/invoices/{a.draft.pk}/write-off/",
                               {"timesheets": [drafted], "reason": "Goodwill"}, format="json")
    assert response.status_code == 200
    for client in (agent, lead, accountant):
        assert client.post(f"{API}/timesheets/{drafted}/reinstate/").status_code == 403
    assert delivered(a.line) == 30 + 60 + 15  # the posted 0:30, the open 1:00, the manager's 0:15
    assert manager.post(f"{API}/timesheets/{drafted}/reinstate/").json()["written_off"] is False
    assert delivered(a.line) == 30 + 45 + 60 + 15
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ENTRY_REINSTATED, object_id=drafted).count() == 1


def test_the_accountant_sets_a_rate_the_agents_time_follows_and_the_preview_is_the_invoice(world):
    a, b = world.a, world.b
    agent_a = world.users["agent_a"]
    accountant, agent, other = (api_client_of(world, p) for p in ("accountant", "agent_a", "agent_b"))
    senior = confirmed_line(order=a.order, product=ProductFactory(name="Senior support"), price_unit=120)
    order = f"{API}/sale-orders/{a.order.pk}/"

    # The accountant maps agent A's time to Senior support: the open entry (1:00) moves there.
    response = accountant.patch(order, {"agent_rates": [{"user": agent_a.pk, "sale_line": senior.pk}]},
                                format="json")
    assert response.status_code == 200
    assert (delivered(senior), delivered(a.line)) == (60, 30 + 45)  # the invoiced two stay

    # The agent logs: their time bills Senior support. They read the rates and cannot change them.
    logged = agent.post(f"{API}/timesheets/", {"ticket": a.ticket.pk, "duration": "0:45"}, format="json").json()
    assert (logged["sale_line"], delivered(senior)) == (senior.pk, 105)
    assert agent.get(order).json()["agent_rates"] == [{"user": agent_a.pk, "sale_line": senior.pk}]
    for response in (agent.patch(order, {"agent_rates": []}, format="json"),
                     agent.post(f"{order}invoice-preview/", {}, format="json"),
                     other.patch(order, {"agent_rates": []}, format="json")):
        assert response.status_code == 403
    assert other.get(order).status_code == 404
    assert AgentRate.objects.filter(order=a.order).count() == 1

    # The preview is what Create Invoice then makes, and creates nothing itself.
    invoices = Invoice.objects.count()
    preview = accountant.post(f"{order}invoice-preview/", {}, format="json").json()
    assert Invoice.objects.count() == invoices
    assert [(line["sale_line"], line["quantity"], line["amount_untaxed"], line["explanation"])
            for line in preview["lines"]] == [
        (senior.pk, "1.75", "210.00", "2 entries, 1:45 worked → 1:45 billed · rate for agent agent_a")]
    assert preview["left_out"]["reasons"] == [{"reason": "on another invoice (a draft)", "entries": 1,
                                               "minutes": 45}]
    created = accountant.post(f"{order}create-invoice/", {}, format="json").json()
    keys = ("sale_line", "name", "quantity", "uom", "price_unit", "amount_untaxed", "minutes", "rounding_minutes",
            "explanation")
    assert [{key: line[key] for key in keys} for line in created["lines"]] == preview["lines"]
    assert created["amount_total"] == preview["amount_total"] == "210.00"
    b_stays_hidden_and_unbilled(world, "agent_a", delivered(b.line))


# --- The receivable (issue 14): payments are the accountant's, never edited, only reversed ------------------

def _pay(client, invoice, amount):
    return client.post(f"{API}/invoices/{invoice.pk}/payments/", {"amount": amount, "method": "transfer"},
                       format="json")


def test_payments_registered_on_screen_and_by_api_reversed_once_never_by_a_manager(world):
    a = world.a
    invoice = a.posted
    total = invoice.amount_total
    books, manager = api_client_of(world, "accountant"), api_client_of(world, "manager")

    # The manager sees the balance but cannot pay, neither by API nor on screen; the agent sees no payment.
    assert _pay(manager, invoice, "1.00").status_code == 403
    assert browser_of(world, "manager").post(reverse("payment_register", args=[invoice.pk]), {
        "payment-date": TODAY, "payment-amount": "1.00", "payment-method": "transfer"}).status_code == 403
    assert api_client_of(world, "agent_a").get(f"{API}/invoices/{invoice.pk}/payments/").status_code in (403, 404)

    # Half by the API, the rest on the screen: paid; one cent more is refused and changes nothing.
    half = (total / 2).quantize(total)
    first = _pay(books, invoice, str(half))
    assert first.status_code == 201
    response = browser_of(world, "accountant").post(reverse("payment_register", args=[invoice.pk]), {
        "payment-date": TODAY, "payment-amount": str(total - half), "payment-method": "card"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.amount_residual, invoice.payment_state) == (total, 0, "paid")
    over = _pay(books, invoice, "0.01")
    assert over.status_code == 400 and list(over.json()) == ["amount"]

    # Reversing: the manager cannot; the accountant can, once; the reversal itself is not reversed.
    payment_id = first.json()["payment"]["id"]
    url = f"{API}/invoices/{invoice.pk}/payments/{payment_id}/reverse/"
    assert manager.post(url, {"reason": "Bounced"}, format="json").status_code == 403
    assert books.post(url, {"reason": ""}, format="json").status_code == 400
    done = books.post(url, {"reason": "Returned by the bank"}, format="json")
    assert done.status_code in (200, 201)
    assert books.post(url, {"reason": "Again"}, format="json").status_code == 409
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.amount_residual, invoice.payment_state) == (total - half, half, "partial")
    events = list(AuditEvent.objects.filter(object_id=invoice.pk, action__startswith="payment.")
                  .order_by("pk").values_list("action", "actor__username"))
    assert events == [("payment.registered", "accountant"), ("payment.registered", "accountant"),
                      ("payment.reversed", "accountant")]


def test_a_refunded_payment_is_reversed_only_after_its_refund(world):
    a = world.a
    books = api_client_of(world, "accountant")
    invoice = a.posted
    payment = _pay(books, invoice, str(invoice.amount_total)).json()["payment"]
    note = books.post(f"{API}/invoices/{invoice.pk}/credit-note/", {}, format="json")
    assert note.status_code == 201
    note_id = note.json()["id"]
    assert books.post(f"{API}/invoices/{note_id}/post/").status_code == 200
    refund = books.post(f"{API}/invoices/{note_id}/payments/", {"amount": str(invoice.amount_total)}, format="json")
    assert refund.status_code == 201

    response = books.post(f"{API}/invoices/{invoice.pk}/payments/{payment['id']}/reverse/",
                          {"reason": "Bounced"}, format="json")
    assert response.status_code == 409
    assert "reverse the refund first" in response.json()["detail"]
    assert books.post(f"{API}/invoices/{note_id}/payments/{refund.json()['payment']['id']}/reverse/",
                      {"reason": "Wrong account"}, format="json").status_code in (200, 201)
    assert books.post(f"{API}/invoices/{invoice.pk}/payments/{payment['id']}/reverse/",
                      {"reason": "Bounced"}, format="json").status_code in (200, 201)
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.amount_residual, invoice.payment_state) == (0, 0, "reversed")


def test_an_alert_raised_by_an_agents_time_is_cleared_once_by_those_who_bill_and_raised_again_per_crossing(world):
    """Team A's line alerts at 5% of its 50 h (2:30): the agent's time crosses it, only a manager or an accountant
    deals with it, once; deleting the time ends it, and crossing again raises a new one. Team B's never alerts."""
    from reports.alerts import alerts_scan, open_alerts
    from reports.models import Alert
    from sales.models import Product

    a = world.a
    Product.objects.filter(pk=a.line.product_id).update(alert_delivered_percent=5)
    assert alerts_scan() == []  # 2:15 delivered
    agent = api_client_of(world, "agent_a")
    logged = agent.post(f"{API}/timesheets/", {"ticket": a.ticket.pk, "duration": "0:30"}, format="json")
    assert logged.status_code == 201
    [alert] = alerts_scan()
    assert (alert.sale_line, alert.delivered_minutes, alert.ordered_minutes, alert.threshold) == (a.line, 165, 3000, 5)

    # Agents neither see nor clear it, on screen or by API.
    assert agent.get(f"{API}/alerts/").status_code == 403
    assert agent.post(f"{API}/alerts/{alert.pk}/clear/", {}, format="json").status_code == 403
    assert browser_of(world, "agent_a").post(reverse("alert_clear", args=[alert.pk])).status_code == 403
    assert browser_of(world, "lead_a").post(reverse("alert_clear", args=[alert.pk])).status_code == 403
    # The manager deals with it on screen; the accountant, a moment later, is told it was done.
    response = browser_of(world, "manager").post(reverse("alert_clear", args=[alert.pk]), {"note": "Upsold"})
    assert response.status_code == 302
    again = api_client_of(world, "accountant").post(f"{API}/alerts/{alert.pk}/clear/", {}, format="json")
    assert again.status_code == 409
    alert.refresh_from_db()
    assert (alert.cleared_by.username, alert.note, list(open_alerts())) == ("manager", "Upsold", [])
    assert alerts_scan() == []  # still crossing, dealt with: no second alert

    # The agent deletes the time: the line is back under, the alert ends; crossing again raises a new one.
    assert agent.delete(f"{API}/timesheets/{logged.json()['id']}/").status_code == 204
    assert alerts_scan() == []
    alert.refresh_from_db()
    assert alert.ended_at is not None
    agent.post(f"{API}/timesheets/", {"ticket": a.ticket.pk, "duration": "0:30"}, format="json")
    [second] = alerts_scan()
    assert second.pk != alert.pk and list(open_alerts()) == [second]
    cleared = api_client_of(world, "accountant").post(f"{API}/alerts/{second.pk}/clear/", {}, format="json")
    assert cleared.status_code == 200
    assert not Alert.objects.filter(sale_line=world.b.line).exists()
    assert list(AuditEvent.objects.filter(object_id=a.order.pk, action__startswith="alert.").order_by("pk")
                .values_list("action", "actor__username")) == [
        ("alert.raised", None), ("alert.cleared", "manager"), ("alert.ended", None), ("alert.raised", None),
        ("alert.cleared", "accountant")]
