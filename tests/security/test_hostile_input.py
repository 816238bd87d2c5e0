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


# --- Reports (issue 15): every parameter refused with a 400 naming it, on screen and in the API ----------

REPORT_ROUTES = {  # the screen, its API route, and the parameters it reads beside from, to and page
    "report_time": ("/api/v1/reports/time/", ("group_by", "customer", "team", "agent", "ticket", "order", "work_type",
                                              "status", "export")),
    "report_time_entries": ("/api/v1/reports/time/entries/", ("group_by", "customer", "team", "agent", "ticket",
                                                              "order", "work_type", "status")),
    "report_unbilled": ("/api/v1/reports/unbilled/", ("customer", "export")),
    "report_revenue": ("/api/v1/reports/revenue/", ("group_by", "customer", "currency", "export")),
    "report_prepaid": ("/api/v1/reports/prepaid/", ("customer", "order", "export")),
}
BAD_IDS = [value for value in BAD_NUMBERS if value] + ["0", "2147483648"]
BAD_CHOICES = [NUL, HUGE, "<script>alert(1)</script>", "'; DROP TABLE x; --", "\ufeff", "exe", "drop table"]
# Days no calendar reaches from or to by a period's default length, a week or a month: refused, not a 500.
FAR_DATES = ["0001-01-01", "0001-03-01", "9999-12-31", "9999-12-25"]


def report_variants(params: tuple[str, ...], *, dated: bool = True) -> list[dict]:
    variants = [{"page": value} for value in BAD_IDS] + [{"page": "-2"}, {"page": "100001"}]
    variants += [{key: value} for key in ("from", "to") for value in BAD_DATES + (FAR_DATES if dated else []) if value]
    variants += [{"from": "2026-03-01", "to": "2026-02-01"}, {"from": "1900-01-01", "to": "2100-01-01"},
                 {"from": "2000-01-01", "to": "2026-01-01"}]
    for key in params:
        if key in ("customer", "team", "agent", "ticket", "order", "work_type"):
            variants += [{key: value} for value in BAD_IDS]
        else:
            variants += [{key: value} for value in BAD_CHOICES]
    if "group_by" in params:
        variants += [{"group_by": value} for value in ("customer,team", "day,week", ",", "customer;month", "year")]
        variants += [{"from": "2020-01-01", "to": "2026-01-01", "group_by": "day"}]  # over 550 bars
    return variants


@pytest.mark.parametrize("name", list(REPORT_ROUTES))
def test_report_parameters_with_broken_values(world, manager_client, name):
    from rest_framework.test import APIClient

    address, params = REPORT_ROUTES[name]
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(world.users["manager"])
    screen = Client(raise_request_exception=False)
    screen.force_login(world.users["manager"])
    before = state()
    wrong = []
    for data in report_variants(params, dated=name != "report_prepaid"):  # prepaid lines have no period
        answer = api.get(address, data)
        if answer.status_code != 400 or not set(answer.json()) & set(data):
            wrong.append(f"API {address} {str(data)[:60]!r}: {answer.status_code}")
        page = screen.get(reverse(name), data)
        if page.status_code != 400:
            wrong.append(f"{name} {str(data)[:60]!r}: {page.status_code}")
    assert "\n".join(wrong) == ""
    assert state() == before


def test_a_burn_down_and_alerts_with_broken_values(world):
    from rest_framework.test import APIClient

    api = APIClient(raise_request_exception=False)
    api.force_authenticate(world.users["accountant"])
    screen = Client(raise_request_exception=False)
    screen.force_login(world.users["accountant"])
    before = state()
    for value in ("abc", "-1", "0", "99999999999999999999", "9223372036854775808", "1e3", NUL):
        assert api.get(f"/api/v1/reports/prepaid/{value}/burndown/").status_code == 404, value
        assert api.post(f"/api/v1/alerts/{value}/clear/", {}, format="json").status_code == 404, value
    # The side's timesheet line is no prepaid line: no burn-down.
    assert api.get(f"/api/v1/reports/prepaid/{world.a.line.pk}/burndown/").status_code == 404
    assert screen.get(reverse("report_prepaid_line", args=[world.a.line.pk])).status_code == 404
    assert screen.post(reverse("alert_clear", args=[2**31])).status_code == 404
    for value in [*BAD_CHOICES, "OPEN"]:
        answer = api.get("/api/v1/alerts/", {"state": value})
        assert (answer.status_code, list(answer.json())) == (400, ["state"]), value
    for value in BAD_IDS:
        assert api.get("/api/v1/alerts/", {"page": value}).status_code == 400, value
    assert state() == before


def test_clearing_an_alert_with_broken_values(world):
    from rest_framework.test import APIClient

    from reports.alerts import alerts_scan
    from reports.models import Alert
    from sales.models import Product

    Product.objects.filter(pk=world.a.line.product_id).update(alert_delivered_percent=1)
    [alert] = alerts_scan()
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(world.users["accountant"])
    for value in [NUL, "x" * 501, MEGABYTE, ["a", "b"], {"a": 1}]:
        answer = api.post(f"/api/v1/alerts/{alert.pk}/clear/", {"note": value}, format="json")
        assert (answer.status_code, list(answer.json())) == (400, ["note"]), str(value)[:20]
    assert Alert.objects.get().is_open
    # On screen a note is cut to its 500 characters and NUL bytes are dropped: the alert is dealt with once.
    screen = Client(raise_request_exception=False)
    screen.force_login(world.users["accountant"])
    assert screen.post(reverse("alert_clear", args=[alert.pk]), {"note": f"Sold{NUL}" + "x" * 600}).status_code == 302
    alert.refresh_from_db()
    assert (alert.is_open, alert.note) == (False, "Sold" + "x" * 496)
    assert screen.post(reverse("alert_clear", args=[alert.pk]), {"note": "again"}).status_code == 302
    assert api.post(f"/api/v1/alerts/{alert.pk}/clear/", {}, format="json").status_code == 409
