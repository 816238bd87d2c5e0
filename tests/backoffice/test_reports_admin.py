"""The admin of issue 15: a product's alert thresholds (saved through its service, audited), an order's
accountant (one of the Accountants), and the alerts, read-only, for managers and accountants."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from reports.alerts import alerts_scan
from reports.models import Alert
from sales.models import ServicePolicy
from timesheets.services import timesheet_log

from ..factories import ProductFactory, TicketFactory, UserFactory, confirmed_line, days_ago
from .test_admin import form_data

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alert(agent):
    """A prepaid block of 10 h with 9 h used, alerting below 2 h left: one alert."""
    product = ProductFactory(name="Prepaid block", service_policy=ServicePolicy.ORDERED_PREPAID,
                             alert_remaining_hours=Decimal("2.00"))
    line = confirmed_line(product=product, quantity=10, order__customer__name="Umbrella")
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    timesheet_log(user=agent, ticket=ticket, date=days_ago(1), minutes=540)
    [alert] = alerts_scan()
    return alert


def test_a_products_alert_thresholds_are_saved_through_its_service(manager):
    product = ProductFactory(name="Block", service_policy=ServicePolicy.ORDERED_PREPAID)
    address = reverse("admin:sales_product_change", args=[product.pk])
    client = browser(manager)
    page = client.get(address)
    assert "Alerts" in page.content.decode()
    data = form_data(page)
    assert (data["alert_delivered_percent"], data["alert_remaining_hours"]) == ("100", "")

    data.update({"alert_delivered_percent": "80", "alert_remaining_hours": "5"})
    assert client.post(address, data).status_code == 302

    product.refresh_from_db()
    assert (product.alert_delivered_percent, product.alert_remaining_hours) == (80, Decimal("5.00"))
    event = AuditEvent.objects.get(action=AuditEvent.Action.PRODUCT_RULE_CHANGED)
    assert (event.actor, event.changes) == (manager, {"alert_delivered_percent": [100, 80],
                                                      "alert_remaining_hours": [None, "5.00"]})
    # Empty: never alerted; 0 % is no threshold.
    data.update({"alert_delivered_percent": "0"})
    response = client.post(address, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["alert_delivered_percent"] == [
        "Ensure this value is greater than or equal to 1."]
    data.update({"alert_delivered_percent": "", "alert_remaining_hours": ""})
    assert client.post(address, data).status_code == 302
    product.refresh_from_db()
    assert (product.alert_delivered_percent, product.alert_remaining_hours) == (None, None)


def test_an_orders_accountant_is_one_of_the_accountants_even_once_confirmed(manager, accountant, agent):
    other = UserFactory(username="books2", role="Accountants")
    order = confirmed_line().order
    address = reverse("admin:sales_saleorder_change", args=[order.pk])
    client = browser(manager)
    page = client.get(address)
    choices = [label for value, label in page.context["adminform"].form.fields["accountant"].choices if value]
    assert choices == ["accountant", "books2"]

    data = form_data(page)
    data["accountant"] = str(agent.pk)  # not an accountant: refused on the field
    response = client.post(address, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["accountant"][0].startswith("Select a valid choice.")
    data["accountant"] = str(other.pk)
    assert client.post(address, data).status_code == 302
    order.refresh_from_db()
    assert order.accountant == other
    assert "books2" in client.get(reverse("admin:sales_saleorder_changelist")).content.decode()


def test_alerts_are_read_only_for_managers_and_accountants(manager, accountant, alert):
    for user in (manager, accountant):
        client = browser(user)
        listed = client.get(reverse("admin:reports_alert_changelist"))
        assert listed.status_code == 200
        assert "Umbrella" in listed.content.decode()
        page = client.get(reverse("admin:reports_alert_change", args=[alert.pk]))
        assert page.status_code == 200
        assert "1:00 left of the 10:00 prepaid, below 2.00 hours." in page.content.decode()
        assert client.get(reverse("admin:reports_alert_add")).status_code == 403
        assert client.post(reverse("admin:reports_alert_delete", args=[alert.pk]), {"post": "yes"}).status_code == 403
        assert client.post(reverse("admin:reports_alert_change", args=[alert.pk]),
                           {"note": "changed", "_save": "Save"}).status_code == 403
    assert Alert.objects.get().note == ""
    assert browser(manager).get(reverse("admin:reports_alert_changelist") + "?cleared_at__isempty=1&kind=remaining"
                                ).status_code == 200


def test_the_team_lead_sees_no_alerts(world, alert):
    client = browser(world.users["lead_a"])
    assert client.get(reverse("admin:reports_alert_changelist")).status_code == 403
    assert client.get(reverse("admin:reports_alert_change", args=[alert.pk])).status_code == 403
