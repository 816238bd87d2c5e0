"""Figures 1 and 2 of the postpaid-support flow, driven only through the API (products in hours, no tax).

The manager configures, the agent logs time, the accountant invoices, each with their own token.
Team membership is the one step done outside the API: managers keep it in the admin.
"""

import pytest

from tickets.models import HelpdeskTeam

from ..factories import days_ago
from .conftest import API


@pytest.fixture
def shop(manager_api, agent):
    """Order lines A (90/h, qty 50) and B (20/h, qty 20), confirmed; a ticket billed to each."""
    def post(path, body):
        response = manager_api.post(f"{API}/{path}/", body)
        assert response.status_code in (200, 201), response.json()
        return response.json()

    customer = post("customers", {"name": "Acme"})["id"]
    product_a = post("products", {"name": "Senior support", "list_price": "90.00", "uom": "hour",
                                  "service_policy": "delivered_timesheet"})["id"]
    product_b = post("products", {"name": "Junior support", "list_price": "20.00", "uom": "hour",
                                  "service_policy": "delivered_timesheet"})["id"]
    order = post("sale-orders", {"customer": customer, "lines": [
        {"product": product_a, "quantity": "50"}, {"product": product_b, "quantity": "20"}]})
    order = post(f"sale-orders/{order['id']}/confirm", {})
    assert order["state"] == "sale"
    line_a, line_b = (line["id"] for line in order["lines"])
    project = post("projects", {"name": "Acme support", "customer": customer, "billable": True})["id"]
    team = post("teams", {"name": "Customer Care", "timesheet_on_ticket": True, "project": project,
                          "time_reinvoicing": True})["id"]
    HelpdeskTeam.objects.get(pk=team).members.add(agent)
    ticket_a = post("tickets", {"team": team, "customer": customer, "title": "Server down", "sale_line": line_a})
    ticket_b = post("tickets", {"team": team, "customer": customer, "title": "New laptops", "sale_line": line_b})
    return {"order": order, "a": line_a, "b": line_b, "ticket_a": ticket_a["id"], "ticket_b": ticket_b["id"]}


def log(client, ticket_id, duration, days=0):
    response = client.post(f"{API}/timesheets/", {"ticket": ticket_id, "duration": duration,
                                                  "date": days_ago(days).isoformat()})
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def lines(client, order) -> dict:
    """Return {line id: line} of the order, as read now."""
    return {line["id"]: line for line in client.get(f"{API}/sale-orders/{order['id']}/").json()["lines"]}


def create_invoice(client, order, **period):
    return client.post(f"{API}/sale-orders/{order['id']}/create-invoice/",
                       {name: days_ago(days).isoformat() for name, days in period.items()})


def test_figure_1_ten_and_a_half_hours_then_the_rest(agent_api, accountant_api, shop):
    order = shop["order"]
    first = log(agent_api, shop["ticket_a"], "10.5")
    line = lines(agent_api, order)[shop["a"]]
    assert (line["delivered"], line["to_invoice"]) == ("10.50", "10.50")

    response = create_invoice(accountant_api, order)
    assert response.status_code == 201
    invoice = response.json()
    [inv_line] = invoice["lines"]
    assert (inv_line["quantity"], inv_line["timesheets"], invoice["amount_total"]) == ("10.50", [first], "945.00")
    assert agent_api.get(f"{API}/timesheets/{first}/").json()["invoice"] == invoice["id"]
    response = agent_api.patch(f"{API}/timesheets/{first}/", {"duration": "1:00"})
    assert (response.status_code, response.json()) == (
        409, {"detail": "You cannot modify timesheets that are already invoiced."})

    # 39.5 h more, over four days (an entry holds at most 24 h).
    more = [log(agent_api, shop["ticket_a"], hours, days) for days, hours in ((1, 10), (2, 10), (3, 10), (4, "9:30"))]
    response = create_invoice(accountant_api, order)
    assert response.status_code == 201
    second = response.json()
    assert second["amount_total"] == "3555.00"
    line = lines(accountant_api, order)[shop["a"]]
    assert (line["invoiced"], line["to_invoice"], line["invoice_status"]) == ("50.00", "0.00", "invoiced")
    billed_by = {e["id"]: e["invoice"] for e in agent_api.get(f"{API}/timesheets/?invoiced=true").json()["results"]}
    assert billed_by == {first: invoice["id"], **{entry: second["id"] for entry in more}}


def test_figure_2_invoicing_by_period(agent_api, accountant_api, shop):
    order = shop["order"]
    log(agent_api, shop["ticket_a"], 10, days=6)
    log(agent_api, shop["ticket_a"], 20, days=1)
    log(agent_api, shop["ticket_a"], 10, days=5)
    log(agent_api, shop["ticket_b"], 24)  # 30 h today, in two entries of at most 24 h
    log(agent_api, shop["ticket_b"], 6)

    response = create_invoice(accountant_api, order, period_start=16, period_end=10)
    assert response.status_code == 400
    assert response.json() == {"detail": f"There is nothing to invoice on {order['name']} for timesheets from "
                                         f"{days_ago(16).isoformat()} to {days_ago(10).isoformat()}."}
    assert accountant_api.get(f"{API}/invoices/").json()["count"] == 0

    assert create_invoice(accountant_api, order, period_start=10, period_end=6).status_code == 201
    assert lines(accountant_api, order)[shop["a"]]["invoiced"] == "10.00"

    assert create_invoice(accountant_api, order, period_start=16, period_end=4).status_code == 201
    assert lines(accountant_api, order)[shop["a"]]["invoiced"] == "20.00"

    response = create_invoice(accountant_api, order, period_start=4, period_end=0)
    assert response.status_code == 201
    now = lines(accountant_api, order)
    assert (now[shop["a"]]["invoiced"], now[shop["b"]]["invoiced"]) == ("40.00", "30.00")
    assert [(line["sale_line"], line["quantity"]) for line in response.json()["lines"]] == [
        (shop["a"], "20.00"), (shop["b"], "30.00")]
    assert accountant_api.get(f"{API}/invoices/").json()["count"] == 3
