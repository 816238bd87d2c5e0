"""/api/v1/sale-orders/: quotations with lines, Confirm, Cancel, manual Delivered, Create Invoice."""

from decimal import Decimal

import pytest

from invoicing.models import Invoice
from sales.models import SaleOrder, ServicePolicy

from ..factories import CustomerFactory, ProductFactory, SaleOrderLineFactory, TaxFactory, confirmed_line, days_ago
from .conftest import API, log


@pytest.fixture
def products(db):
    tax = TaxFactory(name="VAT 21%", rate=Decimal("21.00"))
    return {
        "support": ProductFactory(name="Service on Timesheet", list_price=Decimal("90.00"), tax=tax),
        "junior": ProductFactory(name="Junior support", list_price=Decimal("20.00")),
        "setup": ProductFactory(name="Setup", list_price=Decimal("150.00"), uom="day",
                                service_policy=ServicePolicy.DELIVERED_MANUAL),
    }


def test_create_a_quotation_with_lines(accountant_api, accountant, products):
    customer = CustomerFactory(name="Acme")
    tax = products["support"].tax

    response = accountant_api.post(f"{API}/sale-orders/", {
        "customer": customer.pk, "accountant": accountant.pk, "lines": [
        {"product": products["support"].pk, "quantity": "50"},
        {"product": products["junior"].pk, "quantity": "20.5", "price_unit": "19.99", "name": "Junior"},
        {"product": products["support"].pk, "quantity": "1", "uom": "day", "price_unit": "720", "tax": None},
    ]})

    assert response.status_code == 201, response.json()
    order = SaleOrder.objects.get()
    lines = list(order.lines.all())
    assert response.json() == {
        "id": order.pk, "name": f"S{order.pk:05d}", "customer": customer.pk, "accountant": accountant.pk,
        "state": "draft", "date_order": days_ago(0).isoformat(), "currency": "EUR",
        "lines": [
            {"id": lines[0].pk, "product": products["support"].pk, "name": "Service on Timesheet",
             "quantity": "50.00", "uom": "hour", "price_unit": "90.00", "tax": tax.pk, "delivered": "0.00",
             "awaiting_approval": "0.00", "invoiced": "0.00", "to_invoice": "0.00",
             "to_invoice_billed": "0.00", "invoice_status": "nothing to invoice", "rounding_minutes": 0},
            {"id": lines[1].pk, "product": products["junior"].pk, "name": "Junior", "quantity": "20.50",
             "uom": "hour", "price_unit": "19.99", "tax": None, "delivered": "0.00", "awaiting_approval": "0.00",
             "invoiced": "0.00", "to_invoice": "0.00", "to_invoice_billed": "0.00",
             "invoice_status": "nothing to invoice", "rounding_minutes": 0},
            {"id": lines[2].pk, "product": products["support"].pk, "name": "Service on Timesheet",
             "quantity": "1.00", "uom": "day", "price_unit": "720.00", "tax": None, "delivered": "0.00",
             "awaiting_approval": "0.00", "invoiced": "0.00", "to_invoice": "0.00",
             "to_invoice_billed": "0.00", "invoice_status": "nothing to invoice", "rounding_minutes": 0},
        ],
        "agent_rates": [], "work_type_rates": [],
        # 4500.00 + 409.80 (20.5 × 19.99 = 409.795) + 720.00; tax 21 % of 4500.00.
        "amount_untaxed": "5629.80", "amount_tax": "945.00", "amount_total": "6574.80",
    }


@pytest.mark.parametrize("body, errors", [
    (lambda c, p: {"lines": []}, {"customer": ["This field is required."]}),
    (lambda c, p: {"customer": 999999, "lines": []}, {"customer": ['Invalid pk "999999" - object does not exist.']}),
    (lambda c, p: {"customer": "Acme", "lines": [{"quantity": "1"}]},
     {"customer": ["Incorrect type. Expected pk value, received str."],
      "lines": {"0": {"product": ["This field is required."]}}}),
    (lambda c, p: {"customer": c.pk, "lines": [{"product": p.pk, "quantity": "-1"}]},
     {"lines": {"0": {"quantity": ["Ensure this value is greater than or equal to 0."]}}}),
    (lambda c, p: {"customer": c.pk, "lines": [{"product": p.pk, "quantity": "1", "uom": "week"}]},
     {"lines": {"0": {"uom": ['"week" is not a valid choice.']}}}),
    (lambda c, p: {"customer": c.pk, "lines": {"product": p.pk}},
     {"lines": {"non_field_errors": ['Expected a list of items but got type "dict".']}}),
])
def test_create_refusals(manager_api, products, body, errors):
    response = manager_api.post(f"{API}/sale-orders/", body(CustomerFactory(), products["support"]))

    assert response.status_code == 400
    assert response.json() == errors
    assert SaleOrder.objects.count() == 0


def test_agents_cannot_sell(agent_api, team_ticket, products):
    forbidden = {"detail": "Only accountants and managers change sales orders."}
    manual = confirmed_line(product=products["setup"])

    response = agent_api.post(f"{API}/sale-orders/", {"customer": CustomerFactory().pk, "lines": []})
    assert (response.status_code, response.json()) == (403, forbidden)
    response = agent_api.post(f"{API}/sale-orders/{team_ticket.sale_line.order_id}/confirm/")
    assert (response.status_code, response.json()) == (403, forbidden)
    response = agent_api.patch(f"{API}/sale-orders/{manual.order_id}/lines/{manual.pk}/", {"delivered": "1"})
    assert (response.status_code, response.json()) == (403, forbidden)


def test_confirm(accountant_api, products):
    line = SaleOrderLineFactory(product=products["support"])

    response = accountant_api.post(f"{API}/sale-orders/{line.order_id}/confirm/")

    assert response.status_code == 200
    assert response.json()["state"] == "sale"

    response = accountant_api.post(f"{API}/sale-orders/{line.order_id}/confirm/")
    assert response.status_code == 400
    assert response.json() == {"detail": f"Only a quotation can be confirmed; {line.order.name} is Sales Order."}


def test_confirm_needs_a_line(manager_api):
    order_id = manager_api.post(f"{API}/sale-orders/", {"customer": CustomerFactory().pk, "lines": []}).json()["id"]

    response = manager_api.post(f"{API}/sale-orders/{order_id}/confirm/")

    assert response.status_code == 400
    assert response.json() == {"detail": "Add at least one order line before confirming."}


def test_cancel(manager_api, agent_api, team_ticket, line_a):
    empty = confirmed_line()
    response = manager_api.post(f"{API}/sale-orders/{empty.order_id}/cancel/")
    assert response.status_code == 200
    assert response.json()["state"] == "cancel"

    log(agent_api, team_ticket, "1:00")
    response = manager_api.post(f"{API}/sale-orders/{line_a.order_id}/cancel/")
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"{line_a.order.name} has time logged or invoiced on it and cannot be cancelled."}


def test_delivered_of_a_manual_line(accountant_api, products):
    line = confirmed_line(product=products["setup"], quantity=3, price_unit=150)
    url = f"{API}/sale-orders/{line.order_id}/lines/{line.pk}/"

    response = accountant_api.patch(url, {"delivered": "2.5"})

    assert response.status_code == 200
    assert response.json() == {
        "id": line.pk, "product": products["setup"].pk, "name": "Setup", "quantity": "3.00", "uom": "day",
        "price_unit": "150.00", "tax": None, "delivered": "2.50", "awaiting_approval": "0.00", "invoiced": "0.00",
        "to_invoice": "2.50", "to_invoice_billed": "2.50", "invoice_status": "to invoice", "rounding_minutes": 0}

    invoice = accountant_api.post(f"{API}/sale-orders/{line.order_id}/create-invoice/").json()
    assert (invoice["lines"][0]["quantity"], invoice["amount_total"]) == ("2.50", "375.00")


@pytest.mark.parametrize("delivered, errors", [
    ("-1", {"delivered": ["Enter a delivered quantity of 0 or more."]}),
    ("abc", {"delivered": ["A valid number is required."]}),
    ("1.005", {"delivered": ["Ensure that there are no more than 2 decimal places."]}),
])
def test_delivered_refusals(accountant_api, products, delivered, errors):
    line = confirmed_line(product=products["setup"])

    response = accountant_api.patch(f"{API}/sale-orders/{line.order_id}/lines/{line.pk}/", {"delivered": delivered})

    assert response.status_code == 400
    assert response.json() == errors


def test_delivered_is_typed_only_on_manual_lines_of_confirmed_orders(accountant_api, products, line_a):
    response = accountant_api.patch(f"{API}/sale-orders/{line_a.order_id}/lines/{line_a.pk}/", {"delivered": "1"})
    assert response.status_code == 400
    assert response.json() == {"delivered": [
        "Service on Timesheet is Based on Timesheets: only lines Based on Delivered Quantity (Manual) "
        "have their Delivered typed by hand."]}

    quotation_line = SaleOrderLineFactory(product=products["setup"])
    response = accountant_api.patch(
        f"{API}/sale-orders/{quotation_line.order_id}/lines/{quotation_line.pk}/", {"delivered": "1"})
    assert response.status_code == 400
    assert response.json() == {
        "delivered": [f"{quotation_line.order.name} is not a confirmed sales order: confirm it first."]}


def test_a_line_of_another_order_is_not_found(accountant_api, line_a):
    other = confirmed_line()

    for line_id, detail in ((other.pk, "No SaleOrderLine matches the given query."), ("abc", "Not found."),
                            (10**30, "No SaleOrderLine matches the given query.")):
        response = accountant_api.patch(f"{API}/sale-orders/{line_a.order_id}/lines/{line_id}/", {"delivered": "1"})
        assert response.status_code == 404
        assert response.json() == {"detail": detail}


def test_create_invoice(accountant, accountant_api, agent_api, team_ticket, line_a):
    entry_id = log(agent_api, team_ticket, "10:30").json()["id"]

    response = accountant_api.post(f"{API}/sale-orders/{line_a.order_id}/create-invoice/", {})

    assert response.status_code == 201
    invoice = Invoice.objects.get()
    assert invoice.created_by == accountant
    assert response.json() == {
        "id": invoice.pk, "number": None, "kind": "invoice", "state": "draft", "customer": line_a.order.customer_id,
        "sale_order": line_a.order_id, "invoice_date": None, "refers": None,
        "lines": [{"id": invoice.lines.get().pk, "sale_line": line_a.pk, "name": "Service on Timesheet",
                   "quantity": "10.50", "uom": "hour", "price_unit": "90.00", "tax_rate": "0.00",
                   "amount_untaxed": "945.00", "amount_tax": "0.00", "minutes": 630, "worked_minutes": 630,
                   "entry_count": 1, "rounding_minutes": 0, "explanation": "1 entry, 10:30 worked → 10:30 billed",
                   "charges": [], "timesheets": [entry_id]}],
        "amount_untaxed": "945.00", "amount_tax": "0.00", "amount_total": "945.00",
        "currency": "EUR", "due_date": None, "payment_reference": "", "payment_state": "", "amount_paid": "0.00",
        "amount_residual": "0.00", "is_overdue": False, "seller": {}, "reminders": [],
    }


def test_nothing_to_invoice(accountant_api, line_a):
    response = accountant_api.post(f"{API}/sale-orders/{line_a.order_id}/create-invoice/")

    assert response.status_code == 400
    assert response.json() == {"detail": f"There is nothing to invoice on {line_a.order.name}."}
    assert Invoice.objects.count() == 0


def test_create_invoice_refusals(accountant_api, agent_api, products, line_a):
    url = f"{API}/sale-orders/{line_a.order_id}/create-invoice/"

    response = accountant_api.post(url, {"period_start": days_ago(1).isoformat(),
                                         "period_end": days_ago(5).isoformat()})
    assert (response.status_code, response.json()) == (400, {"period_end": ["The period ends before it starts."]})

    response = accountant_api.post(url, {"period_start": "last week"})
    assert response.status_code == 400
    assert response.json() == {
        "period_start": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}

    quotation = SaleOrderLineFactory(product=products["support"]).order
    response = accountant_api.post(f"{API}/sale-orders/{quotation.pk}/create-invoice/")
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"{quotation.name} is not a confirmed sales order: confirm it before invoicing."}

    response = agent_api.post(url)
    assert response.status_code == 403
    assert response.json() == {"detail": "Only accountants and managers create, post, cancel and credit invoices."}


def test_agents_see_the_orders_they_work_on(agent_api, other_agent_api, accountant_api, team_ticket, line_a):
    elsewhere = confirmed_line()

    assert [o["id"] for o in agent_api.get(f"{API}/sale-orders/").json()["results"]] == [line_a.order_id]
    assert agent_api.get(f"{API}/sale-orders/{line_a.order_id}/").status_code == 200
    assert agent_api.get(f"{API}/sale-orders/{elsewhere.order_id}/").status_code == 404
    assert other_agent_api.get(f"{API}/sale-orders/").json()["count"] == 0
    assert other_agent_api.get(f"{API}/sale-orders/{line_a.order_id}/").status_code == 404
    assert accountant_api.get(f"{API}/sale-orders/").json()["count"] == 2


def test_list_filters(manager_api, line_a, products):
    quotation = SaleOrderLineFactory(product=products["junior"]).order

    def ids(query):
        return [o["id"] for o in manager_api.get(f"{API}/sale-orders/?{query}").json()["results"]]

    assert ids("state=draft") == [quotation.pk]
    assert ids("state=sale") == [line_a.order_id]
    assert ids(f"customer={line_a.order.customer_id}") == [line_a.order_id]
    assert ids("ordering=id") == [line_a.order_id, quotation.pk]
    response = manager_api.get(f"{API}/sale-orders/?state=gone")
    assert response.status_code == 400
    assert response.json() == {"state": ["Select a valid choice. gone is not one of the available choices."]}


def test_an_order_s_accountant_is_an_active_accountant(accountant_api, agent, products):
    """Alerts go to the order's accountant: an agent is refused on the field, and nothing is created."""
    customer = CustomerFactory(name="Acme")
    line = {"product": products["support"].pk, "quantity": "5"}
    response = accountant_api.post(f"{API}/sale-orders/", {"customer": customer.pk, "accountant": agent.pk,
                                                           "lines": [line]})
    assert response.status_code == 400
    assert list(response.json()) == ["accountant"]
    assert not SaleOrder.objects.exists()
