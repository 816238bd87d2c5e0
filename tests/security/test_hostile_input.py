"""Broken, huge and wrong-typed values posted to every screen: refused with a message, never a 5xx,
and nothing changes.

Each form gets values a browser would never send (a NUL byte, a megabyte, a list where one
value is expected, absurd numbers and dates, markup). The state of the database, every row
that the screens write, is compared before and after.
"""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from invoicing.models import Invoice, Payment
from sales.models import SaleOrder, SaleOrderLine
from tickets.models import Ticket
from timesheets.models import TimeEntry, Timer

from ..factories import UserFactory

NUL = "\x00"
HUGE = "9" * 100_000
MEGABYTE = "x" * 1_000_000
BAD_TEXT = [NUL, f"1:30{NUL}", HUGE, MEGABYTE, "<script>alert(1)</script>", "'; DROP TABLE x; --", "\ufeff", " "]
# 2**63: 19 digits, one past the largest id, which SQLite cannot bind (PostgreSQL finds no row).
BAD_NUMBERS = ["abc", "-1", "1e999", "NaN", "Infinity", "-1e-999", "99999999999999999999", "9223372036854775808",
               "1.5.5", "0x10", "", "1,2,3", "²", NUL, HUGE]
BAD_DATES = ["2026-02-30", "0000-00-00", "99999-01-01", "yesterday", "2026-13-01", NUL, HUGE, "1-1-1", "", "T"]
BAD_DURATIONS = ["0", "0:00", "-1:00", "24:01", "25", "1:60", "999h", "1e3", "NaN", "inf", "1.2.3", "h", "m", ":",
                 "1:", "１:", "--", NUL, HUGE, MEGABYTE, "<b>1</b>", "1:30; DROP", "0.001", "100000000000000000000"]


def state():
    """Every row the screens write, as comparable values."""
    return (
        list(TimeEntry.objects.order_by("pk").values_list("pk", "date", "minutes", "description", "sale_line",
                                                          "invoice_line")),
        list(Invoice.objects.order_by("pk").values_list("pk", "state", "number", "amount_total")),
        list(SaleOrder.objects.order_by("pk").values_list("pk", "state")),
        list(SaleOrderLine.objects.order_by("pk").values_list("pk", "delivered_minutes", "invoiced_minutes",
                                                              "qty_delivered_manual", "qty_invoiced")),
        list(Ticket.objects.order_by("pk").values_list("pk", "status", "sale_line", "task")),
        list(Timer.objects.values_list("pk")),
        list(Invoice.objects.order_by("pk").values_list("pk", "due_date", "amount_paid", "amount_residual",
                                                          "payment_state")),
        list(Payment.objects.order_by("pk").values_list("pk", "amount", "reverses")),
        AuditEvent.objects.count(),
    )


def assert_refused_unchanged(client, address, variants, *, method="post"):
    """Send each variant; every answer is below 500 and the database is as it was."""
    before = state()
    failures = []
    for data in variants:
        response = getattr(client, method)(address, data)
        if response.status_code >= 500:
            failures.append(f"{address} {str(data)[:80]!r}: {response.status_code}")
    assert failures == []
    assert state() == before


@pytest.fixture
def agent_client(world):
    client = Client()
    client.force_login(world.users["agent_a"])
    return client


@pytest.fixture
def accountant_client(world):
    client = Client()
    client.force_login(world.users["accountant"])
    return client


@pytest.fixture
def manager_client(world):
    client = Client()
    client.force_login(world.users["manager"])
    return client


def test_logging_time_with_broken_values(world, agent_client):
    page = reverse("ticket_detail", args=[world.a.ticket.pk])
    good = {"action": "log", "log-date": "2026-01-05", "log-duration": "1:00", "log-description": "Work"}
    variants = [{**good, "log-duration": value} for value in BAD_DURATIONS]
    variants += [{**good, "log-date": value} for value in BAD_DATES]
    variants += [{**good, "log-description": value} for value in (NUL, MEGABYTE, "x" * 501)]
    variants += [{**good, "log-duration": ["1:00", "2:00"], "log-date": ["x", "y"]}, {"action": "log"}]
    variants += [{**good, "action": value} for value in BAD_TEXT]
    assert_refused_unchanged(agent_client, page, variants)


def test_editing_and_deleting_with_broken_values(world, agent_client):
    page = reverse("ticket_detail", args=[world.a.ticket.pk])
    entry = world.a.open_entry.pk
    good = {"action": "edit", "entry": entry, "edit-date": "2026-01-05", "edit-duration": "1:00",
            "edit-description": "Edited"}
    variants = [{**good, "edit-duration": value} for value in BAD_DURATIONS]
    variants += [{**good, "edit-date": value} for value in BAD_DATES]
    variants += [{**good, "entry": value} for value in BAD_NUMBERS]
    variants += [{"action": "delete", "entry": value} for value in BAD_NUMBERS + [world.b.open_entry.pk]]
    # The invoiced entry: refused with the lock's message.
    variants += [{**good, "entry": world.a.invoiced_entry.pk}, {"action": "delete", "entry": world.a.drafted_entry.pk}]
    assert_refused_unchanged(agent_client, page, variants)
    assert_refused_unchanged(agent_client, f"{page}?edit=", [{}], method="get")
    assert_refused_unchanged(agent_client, page, [{"edit": value} for value in BAD_NUMBERS], method="get")


def test_ticket_actions_with_broken_values(world, agent_client):
    ticket = world.a.ticket.pk
    assert_refused_unchanged(agent_client, reverse("ticket_status", args=[ticket]),
                             [{"status": value} for value in [*BAD_TEXT, "NEW", "deleted", ["deleted", "gone"]]])
    assert_refused_unchanged(agent_client, reverse("ticket_sale_line", args=[ticket]),
                             [{"sale_line": value} for value in [*BAD_NUMBERS, world.b.line.pk,
                                                                 world.a.manual_line.pk] if value])


def test_the_timer_page_with_a_broken_duration_in_the_address(world, agent_client):
    page = reverse("ticket_detail", args=[world.a.ticket.pk])
    assert_refused_unchanged(agent_client, page, [{"duration": value} for value in BAD_TEXT], method="get")


def test_sales_forms_with_broken_values(world, manager_client):
    line = world.a.manual_line.pk
    assert_refused_unchanged(manager_client, reverse("line_set_delivered", args=[line]),
                             [{"delivered": value} for value in [*BAD_NUMBERS, "1000000000000", "0.001"]])
    management = {"lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000"}
    line_form = {"lines-0-product": world.a.line.product_id, "lines-0-quantity": "1", "lines-0-uom": "hour"}
    variants = [{"customer": value, "lines-TOTAL_FORMS": "1", **management, **line_form} for value in BAD_NUMBERS]
    variants += [{"customer": world.a.order.customer_id, "lines-TOTAL_FORMS": value, **management, **line_form}
                 for value in ["abc", "1e999", "NaN", "99999999999999999999", "100000000", "²", NUL, HUGE]]
    # (An empty product, price or tax is no error: an empty row is skipped, the others take the product's.)
    variants += [{"customer": world.a.order.customer_id, "lines-TOTAL_FORMS": "1", **management,
                  **line_form, f"lines-0-{field}": value}
                 for field in ("quantity", "price_unit", "product", "tax", "uom") for value in BAD_NUMBERS if value]
    variants += [{"customer": world.a.order.customer_id}]  # no management form at all
    assert_refused_unchanged(manager_client, reverse("quotation_create"), variants)
    assert_refused_unchanged(manager_client, reverse("quotation_edit", args=[world.a.quotation.pk]), variants[:12])


def test_invoicing_forms_with_broken_values(world, accountant_client):
    order = world.a.order.pk
    assert_refused_unchanged(accountant_client, reverse("invoice_create", args=[order]),
                             [{"period_start": value} for value in BAD_DATES if value]
                             + [{"period_start": "2026-02-01", "period_end": "2026-01-01"}])
    draft, posted = world.a.draft.pk, world.a.posted.pk
    assert_refused_unchanged(accountant_client, reverse("invoice_remove", args=[draft]),
                             [{"entry": value} for value in [*BAD_NUMBERS, world.b.drafted_entry.pk]])
    assert_refused_unchanged(accountant_client, reverse("invoice_credit", args=[posted]),
                             [{"entry": value} for value in [*BAD_NUMBERS, world.b.invoiced_entry.pk]]
                             + [{"mode": value} for value in BAD_TEXT])
    # A posted invoice is not posted or cancelled again; a draft is not credited.
    assert_refused_unchanged(accountant_client, reverse("invoice_post", args=[posted]), [{}])
    assert_refused_unchanged(accountant_client, reverse("invoice_cancel", args=[posted]), [{}])
    assert_refused_unchanged(accountant_client, reverse("invoice_credit", args=[draft]), [{"mode": "full"}])


def test_payment_forms_with_broken_values(world, accountant_client):
    """Register Payment, Reverse and a draft's due date, on screen and through the API: amounts a browser
    never sends ("-0", 13 digits, "1e999", "NaN"), dates, methods, another team's payment, a draft."""
    from rest_framework.test import APIClient

    posted, draft = world.a.posted, world.a.draft
    amounts = [*BAD_NUMBERS, "-0", "0.001", "1234567890123", str(posted.amount_total + 1), "1,50"]
    assert_refused_unchanged(accountant_client, reverse("payment_register", args=[posted.pk]),
                             [{"payment-date": "2026-01-01", "payment-amount": value, "payment-method": "transfer"}
                              for value in amounts]
                             + [{"payment-date": value, "payment-amount": "1.00", "payment-method": "transfer"}
                                for value in BAD_DATES + ["2999-01-01"]]
                             + [{"payment-date": "2026-01-01", "payment-amount": "1.00", "payment-method": value}
                                for value in BAD_TEXT])
    assert_refused_unchanged(accountant_client, reverse("payment_register", args=[draft.pk]),
                             [{"payment-date": "2026-01-01", "payment-amount": "1.00", "payment-method": "transfer"}])
    assert_refused_unchanged(accountant_client, reverse("payment_reverse", args=[posted.pk]),
                             [{"payment-payment": value, "payment-reason": "Bounced"} for value in BAD_NUMBERS]
                             + [{"payment": value, "reason": "Bounced"} for value in BAD_NUMBERS])
    assert_refused_unchanged(accountant_client, reverse("invoice_due_date", args=[draft.pk]),
                             [{"due_date": value} for value in BAD_DATES if value] + [{"due_date": "2000-01-01"}])
    api = APIClient()
    api.force_authenticate(world.users["accountant"])
    before = state()
    for value in [*amounts, 1e308, -5, None, [], {}, True]:
        response = api.post(f"/api/v1/invoices/{posted.pk}/payments/", {"amount": value}, format="json")
        assert (response.status_code, list(response.json())) == (400, ["amount"]), value
    for value in BAD_DATES + ["2999-01-01"]:
        response = api.post(f"/api/v1/invoices/{posted.pk}/due-date/", {"due_date": value}, format="json")
        assert response.status_code in (400, 409), value
    assert state() == before


@pytest.mark.parametrize("name", ["ticket_list", "task_list", "order_list", "invoice_list"])
def test_list_filters_with_broken_values(world, manager_client, name):
    variants = [{key: value} for key in ("q", "page", "state", "kind", "team", "status", "customer", "assignee",
                                         "order", "ticket", "mine")
                for value in [NUL, HUGE, "-1", "99999999999999999999", "9223372036854775808", "<script>", "%"]]
    assert_refused_unchanged(manager_client, reverse(name), variants, method="get")


def test_the_login_form_with_broken_values(world):
    variants = [{"username": value, "password": value} for value in [NUL, MEGABYTE, "", ["a", "b"]]]
    assert_refused_unchanged(Client(), reverse("login"), variants)


def test_admin_lists_with_broken_values(world):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client(raise_request_exception=False)
    client.force_login(root)
    for model, model_admin in admin.site._registry.items():
        variants = [{"q": value} for value in [NUL, HUGE, MEGABYTE, "%"] if model_admin.search_fields]
        variants += [{field.name: value} for field in model._meta.get_fields() if field.many_to_one
                     for value in ["9223372036854775808", "-1", NUL]]
        address = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert_refused_unchanged(client, address, variants, method="get")
