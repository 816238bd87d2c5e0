"""Sales Orders: the list, the quotation form with its "Order Lines", "Confirm"."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.errors import Conflict
from sales.models import SaleOrder, SaleOrderLine
from sales.services import sale_order_save_quotation

from ..factories import CustomerFactory, ProductFactory, SaleOrderLineFactory, TaxFactory, confirmed_line


def management(prefix="lines", total=1, initial=0) -> dict:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def product(db):
    return ProductFactory(tax=TaxFactory())


def test_a_manager_makes_a_quotation_and_confirms_it(manager_client, product):
    customer = CustomerFactory(name="Acme")
    response = manager_client.post(reverse("quotation_create"), {
        "customer": customer.pk, **management(),
        "lines-0-product": product.pk, "lines-0-quantity": "20", "lines-0-uom": "hour",
        "lines-0-price_unit": "", "lines-0-tax": product.tax_id,
        "confirm": "Confirm"}, follow=True)
    order = SaleOrder.objects.get()
    assert response.redirect_chain[-1][0] == reverse("order_detail", args=[order.pk])
    assert messages_of(response) == [f"{order.name} is confirmed: it is a sales order now."]
    assert order.state == SaleOrder.State.SALE and order.customer == customer
    [line] = order.lines.all()
    assert (line.product, line.name, line.quantity, line.price_unit, line.tax) == (
        product, "Service on Timesheet", Decimal("20.00"), Decimal("90.00"), product.tax)


def test_save_keeps_a_quotation_to_change_later(accountant_client, product):
    customer = CustomerFactory()
    accountant_client.post(reverse("quotation_create"), {
        "customer": customer.pk, **management(), "lines-0-product": product.pk, "lines-0-quantity": "5",
        "lines-0-uom": "day", "lines-0-price_unit": "600", "save": "Save"})
    order = SaleOrder.objects.get()
    line = order.lines.get()
    assert (order.state, line.uom, line.price_unit) == ("draft", "day", Decimal("600.00"))

    response = accountant_client.post(reverse("quotation_edit", args=[order.pk]), {
        "customer": customer.pk, **management(total=2, initial=1),
        "lines-0-id": line.pk, "lines-0-product": product.pk, "lines-0-quantity": "5", "lines-0-uom": "day",
        "lines-0-price_unit": "600", "lines-0-DELETE": "on",
        "lines-1-product": product.pk, "lines-1-quantity": "8", "lines-1-uom": "hour", "lines-1-price_unit": "95"})
    assert response.status_code == 302
    assert [(line.quantity, line.price_unit) for line in order.lines.all()] == [(Decimal("8.00"), Decimal("95.00"))]


def test_the_quotation_names_its_accountant_whom_alerts_go_to(manager_client, accountant, agent, product):
    """The Accountant choice lists active accountants only; the order page shows who it is."""
    customer = CustomerFactory()
    form = manager_client.get(reverse("quotation_create")).context["form"]
    assert list(form.fields["accountant"].queryset) == [accountant]
    lines = {**management(), "lines-0-product": product.pk, "lines-0-quantity": "5", "lines-0-uom": "hour",
             "lines-0-price_unit": "90", "save": "Save"}
    refused = manager_client.post(reverse("quotation_create"), {"customer": customer.pk, "accountant": agent.pk,
                                                                 **lines})
    assert refused.status_code == 200 and "accountant" in refused.context["form"].errors
    assert not SaleOrder.objects.exists()
    manager_client.post(reverse("quotation_create"), {"customer": customer.pk, "accountant": accountant.pk, **lines})
    order = SaleOrder.objects.get()
    assert order.accountant == accountant
    assert b"<dt>Accountant</dt><dd>accountant</dd>" in manager_client.get(
        reverse("order_detail", args=[order.pk])).content


def test_bad_input_comes_back_on_the_form(manager_client, product):
    response = manager_client.post(reverse("quotation_create"), {
        "customer": "", **management(), "lines-0-product": product.pk, "lines-0-quantity": "-3",
        "lines-0-uom": "hour", "lines-0-price_unit": "abc"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"customer": ["This field is required."]}
    assert response.context["lines"].errors[0].keys() == {"quantity", "price_unit"}
    assert 'value="abc"' in response.content.decode()
    assert not SaleOrder.objects.exists()


def test_confirming_an_empty_quotation_is_a_message(manager_client):
    order = SaleOrder.objects.create(customer=CustomerFactory())
    response = manager_client.post(reverse("order_confirm", args=[order.pk]), follow=True)
    assert messages_of(response) == ["Add at least one order line before confirming."]
    order.refresh_from_db()
    assert order.state == "draft"


def test_a_confirmed_order_is_not_edited_again(manager_client, line_a):
    response = manager_client.get(reverse("quotation_edit", args=[line_a.order.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("order_detail", args=[line_a.order.pk])
    assert messages_of(response) == [f"{line_a.order.name} is sales order: its Order Lines stay as sold."]


def test_agents_read_orders_but_make_no_quotation(agent_client, line_a):
    assert agent_client.get(reverse("order_list")).status_code == 200
    assert agent_client.get(reverse("order_detail", args=[line_a.order.pk])).status_code == 200
    assert agent_client.get(reverse("quotation_create")).status_code == 403
    assert agent_client.post(reverse("order_confirm", args=[line_a.order.pk])).status_code == 403


def test_the_list_filters_by_status_and_search(manager_client, line_a):
    quotation = SaleOrderLineFactory(order__customer=CustomerFactory(name="Globex")).order
    names = lambda **q: [o.name for o in manager_client.get(reverse("order_list"), q).context["page_obj"]]  # noqa: E731
    assert names() == [quotation.name, line_a.order.name]
    assert names(state="draft") == [quotation.name]
    assert names(q="globex") == [quotation.name]
    assert "Order Lines" in manager_client.get(reverse("order_list")).content.decode()


# --- sale_order_save_quotation --------------------------------------------------------------

def test_the_service_saves_an_order_with_its_lines_and_deletes_the_removed(product):
    order = SaleOrder(customer=CustomerFactory())
    kept = SaleOrderLine(product=product, quantity=Decimal("2"), uom="hour", price_unit=Decimal("90"))
    dropped = SaleOrderLine(product=product, quantity=Decimal("1"), uom="hour", price_unit=Decimal("90"))
    order = sale_order_save_quotation(order=order, lines=[kept, dropped])
    assert order.name == f"S{order.pk:05d}"
    assert order.lines.count() == 2
    sale_order_save_quotation(order=order, deleted=[dropped])
    assert list(order.lines.all()) == [kept]


def test_the_service_refuses_to_change_a_confirmed_orders_lines(product):
    line = confirmed_line()
    with pytest.raises(Conflict, match="is no longer a quotation"):
        sale_order_save_quotation(order=line.order, lines=[
            SaleOrderLine(product=product, quantity=Decimal("1"), uom="hour", price_unit=Decimal("1"))])
    assert line.order.lines.count() == 1


def test_the_service_validates_each_line(product):
    order = SaleOrder(customer=CustomerFactory())
    with pytest.raises(ValidationError) as error:
        sale_order_save_quotation(order=order, lines=[
            SaleOrderLine(product=product, quantity=Decimal("-1"), uom="hour", price_unit=Decimal("1"))])
    assert "quantity" in error.value.message_dict
    assert not SaleOrder.objects.exists()


def test_a_manual_lines_delivered_is_typed_on_the_order_page(manager_client, agent):
    from django.test import Client

    from sales.models import ServicePolicy

    line = confirmed_line(product=ProductFactory(name="On-site visit", service_policy=ServicePolicy.DELIVERED_MANUAL))
    address = reverse("line_set_delivered", args=[line.pk])
    html = manager_client.get(reverse("order_detail", args=[line.order.pk])).content.decode()
    assert f'action="{address}"' in html
    response = manager_client.post(address, {"delivered": "3.5"}, follow=True)
    assert messages_of(response) == [f"Delivered set to 3.50 hours on {line.order.name} · On-site visit."]
    line.refresh_from_db()
    assert (line.delivered, line.to_invoice) == (Decimal("3.50"), Decimal("3.50"))
    response = manager_client.post(address, {"delivered": "-1"}, follow=True)
    assert messages_of(response) == ["Enter a delivered quantity of 0 or more, like 3 or 2.50."]
    agent_client = Client()
    agent_client.force_login(agent)
    assert agent_client.post(address, {"delivered": "9"}).status_code == 403


def test_a_timesheet_lines_delivered_is_not_typed(manager_client, line_a):
    response = manager_client.post(reverse("line_set_delivered", args=[line_a.pk]), {"delivered": "3"}, follow=True)
    assert messages_of(response) == [
        "Service on Timesheet is Based on Timesheets: only lines Based on Delivered Quantity (Manual) "
        "have their Delivered typed by hand."]
