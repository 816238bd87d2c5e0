"""The sales orders' and invoices' search boxes (sales.selectors.sale_orders_search,
invoicing.selectors.invoices_search; issue 16): the related record's name read first (core.trigram.in_matching)
so that PostgreSQL ORs indexed conditions; the same rows past LISTED matches, through a subquery."""

import pytest
from django.urls import reverse

from core import trigram
from invoicing.models import Invoice
from invoicing.selectors import invoices_search
from invoicing.services import invoice_create_from_order, invoice_post
from sales.models import SaleOrder
from sales.selectors import sale_orders_search
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, SaleOrderFactory, TicketFactory, UserFactory, confirmed_line, days_ago


@pytest.fixture
def orders(db):
    acme, globex = CustomerFactory(name="Acme 100%"), CustomerFactory(name="Globex")
    return [SaleOrderFactory(customer=acme, name="S_100"), SaleOrderFactory(customer=globex, name="S00200"),
            SaleOrderFactory(customer=globex, name="S00300")]


def names(text: str) -> list[str]:
    return list(sale_orders_search(SaleOrder.objects.order_by("pk"), text).values_list("name", flat=True))


def test_orders_by_number_or_customer(orders):
    assert names("globex") == ["S00200", "S00300"]
    assert names("s00") == ["S00200", "S00300"]
    assert names("100") == ["S_100"]  # the number and the customer's name both say it
    assert names("%") == names("S_1") == ["S_100"]
    assert names("S01") == []  # "_" is no wildcard
    assert names("\x00") == names("") == ["S_100", "S00200", "S00300"]


def test_past_the_listed_customers_a_subquery_finds_the_same_orders(orders, monkeypatch):
    monkeypatch.setattr(trigram, "LISTED", 1)  # two customers match "e": past the list
    assert names("e") == ["S_100", "S00200", "S00300"]
    assert names("glob") == ["S00200", "S00300"]


def test_invoices_by_number_customer_or_order(db):
    line = confirmed_line(order=SaleOrderFactory(customer=CustomerFactory(name="Initech")))
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    timesheet_log(user=UserFactory(), date=days_ago(1), minutes=60, ticket=ticket)
    posted = invoice_post(invoice=invoice_create_from_order(order=line.order))
    year = posted.number.split("/")[1]

    def found(text):
        return list(invoices_search(Invoice.objects.all(), text))

    assert found(posted.number.lower()) == found("initech") == found(line.order.name) == [posted]
    assert found(f"INV/{year}/%") == found("INV_") == []
    assert found("Globex") == []


def test_the_lists_search_through_the_selectors(client, orders):
    client.force_login(UserFactory(username="boss", role="Managers", is_staff=True))
    response = client.get(reverse("order_list"), {"q": "GLOBEX"})
    assert [order.name for order in response.context["page_obj"]] == ["S00300", "S00200"]
    assert client.get(reverse("invoice_list"), {"q": "%"}).status_code == 200
