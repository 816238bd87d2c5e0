"""Bodies that cannot be read: every write of the API refuses them with 400 `{"detail": ...}` (415 for a
content type it does not take), never a 5xx, and nothing changes; the screens' forms survive them too.

The API's write operations come from its OpenAPI schema, so an operation added later is covered
the day it exists. Each gets every body of `UNREADABLE`, sent as a superuser (whom no role stops
before the body is read) to a real record; the state of the database, every row of our apps and
the audit log, is compared before and after.
"""

import json

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token

from api.parsers import MAX_DEPTH
from invoicing.payments import payment_register
from invoicing.runs import run_start
from reports.alerts import alerts_scan
from reports.models import Alert
from sales.models import Product

from ..factories import TaxFactory, UserFactory

DEEP = 100_000
# name -> (content type, body)
UNREADABLE = {
    "100,000 nested [": ("application/json", b"[" * DEEP + b"]" * DEEP),
    '100,000 nested {"a":': ("application/json", b'{"a":' * DEEP + b"1" + b"}" * DEEP),
    # Parseable by Python, but deeper than any body of this API: refused before it reaches a serializer.
    "5,000 nested [ in a field": ("application/json", b'{"description": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    "invalid UTF-8": ("application/json", b'{"description": "caf\xe9 \xff\xfe"}'),
    "truncated": ("application/json", b'{"description": "Replaced the fu'),
    "a 5,000-digit integer": ("application/json", b'{"ticket": ' + b"9" * 5000 + b"}"),
    "NaN": ("application/json", b'{"duration": NaN}'),
    "Infinity": ("application/json", b'{"duration": -Infinity}'),
    "a form body": ("application/json", b"ticket=1&duration=1%3A30"),
    "a NUL byte": ("application/json", b'{"description": "a\x00b"'),
    # A charset that decompresses (bytes to bytes) could expand a small body without bound. (An unknown
    # charset is ignored by Django: the body is read as UTF-8.)
    "a compressing charset": ("application/json; charset=bz2_codec", b'{"description": "x"}'),
}
# Content types the API does not take: 415, whatever the body.
UNSUPPORTED = {
    "text/plain": ("text/plain", b'{"description": "x"}'),
    "a form": ("application/x-www-form-urlencoded", b"description=x"),
    "multipart": ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
                                                      b"1\r\n--xyz--\r\n"),
}


def write_operations() -> list[tuple[str, str, bool]]:
    """Return (method, path, takes a body) of every write operation in the API's schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [(method.upper(), path, "requestBody" in operation)
            for path, operations in schema["paths"].items()
            for method, operation in operations.items() if method in ("post", "put", "patch", "delete")]


OPERATIONS = write_operations()


def test_every_write_operation_is_tested():
    """The schema lists every write of the router and its actions: 39 when this was written, more as the API
    grows (address() then needs the ids of a new resource)."""
    assert len(OPERATIONS) >= 39
    assert ("POST", "/api/v1/timesheets/", True) in OPERATIONS
    assert ("POST", "/api/v1/invoices/{id}/post/", False) in OPERATIONS
    assert ("POST", "/api/v1/alerts/{id}/clear/", True) in OPERATIONS


def address(path: str, world) -> str:
    """Fill a path's ids with records of team A on which the operation gets as far as reading its body."""
    a = world.a
    resource = path.split("/")[3]
    if resource == "portal":  # the customer portal's API (issue 18): its resources under /portal/
        resource = "/".join(path.split("/")[3:5])
    ids = {"contacts": a.contact.pk, "portal/tickets": a.ticket.pk, "portal/timesheets": a.open_entry.pk,
           "customers": a.order.customer_id, "taxes": TaxFactory().pk, "products": a.line.product_id,
           "projects": a.team.project_id, "tasks": a.task.pk, "teams": a.team.pk, "tickets": a.ticket.pk,
           "timesheets": a.open_entry.pk, "sale-orders": a.order.pk, "work-types": a.work_type.pk,
           "invoices": a.posted.pk if path.endswith("credit-note/") else a.draft.pk}
    if resource == "billing-runs":
        ids["billing-runs"] = run_start(order_ids=[a.order.pk]).pk if "{id}" in path else None
    if path.endswith("confirm/"):
        ids["sale-orders"] = a.quotation.pk
    if "{payment_id}" in path:  # a payment of the posted invoice, to reverse
        ids["invoices"] = a.posted.pk
        path = path.replace("{payment_id}", str(payment_register(invoice=a.posted, amount="1.00").pk))
    elif path.endswith("/payments/"):
        ids["invoices"] = a.posted.pk
    if resource == "alerts":  # an open alert of team A's line, to clear
        ids["alerts"] = alert_of(world).pk
    if resource == "company":  # one row, no id
        return path
    return path.replace("{id}", str(ids[resource])).replace("{line_id}", str(a.manual_line.pk))


def alert_of(world) -> Alert:
    """An open alert on team A's line (its Delivered passed 1% of the ordered quantity), raised by the scan."""
    Product.objects.filter(pk=world.a.line.product_id).update(alert_delivered_percent=1)
    alerts_scan()
    return Alert.objects.get(sale_line=world.a.line)


def state() -> dict:
    """Every row of our apps (the audit log among them), as comparable values."""
    return {model._meta.label: list(model.objects.order_by("pk").values_list())
            for label in ("audit", "sales", "projects", "tickets", "timesheets", "invoicing", "reports")
            for model in apps.get_app_config(label).get_models(include_auto_created=True)}


@pytest.fixture
def root_api(world):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    # A 500 is an answer to count, not an exception to stop at.
    return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=root).key}")


def client_for_path(world, root_api, path: str):
    """The superuser, or for the portal's API (contacts only) side A's contact, whom nothing stops there either."""
    if not path.startswith("/api/v1/portal/"):
        return root_api
    token = Token.objects.get(user=world.users["contact_a"])
    return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {token.key}")


def send(client, method: str, address: str, content_type: str, body: bytes):
    return client.generic(method, address, body, content_type=content_type, HTTP_ACCEPT="application/json")


# An operation that takes no body (post, cancel, confirm, delete) reads one all the same: DRF parses
# lazily, so its view would act on a garbage body as on none (api.parsers.ReadsItsBody).
@pytest.mark.parametrize("method, path", [
    pytest.param(method, path, id=f"{method} {path}") for method, path, _ in OPERATIONS])
def test_a_body_that_cannot_be_read_is_refused_and_changes_nothing(world, root_api, method, path):
    target = address(path, world)
    client = client_for_path(world, root_api, path)
    before = state()
    failures = []
    for name, (content_type, body) in UNREADABLE.items():
        response = send(client, method, target, content_type, body)
        answer = response.json() if response["Content-Type"] == "application/json" else response.content[:100]
        if response.status_code != 400 or list(answer) != ["detail"] or not answer["detail"]:
            failures.append(f"{name}: {response.status_code} {str(answer)[:200]}")
        elif state() != before:
            failures.append(f"{name}: 400 but the database changed")
    for name, (content_type, body) in UNSUPPORTED.items():
        response = send(client, method, target, content_type, body)
        if response.status_code != 415 or response.json() != {
                "detail": f'Unsupported media type "{content_type}" in request.'}:
            failures.append(f"{name}: {response.status_code} {response.content[:200]}")
    assert failures == []
    assert state() == before


def test_the_messages_say_what_is_wrong(world, root_api):
    def detail(name):
        content_type, body = UNREADABLE[name]
        return send(root_api, "POST", "/api/v1/timesheets/", content_type, body).json()["detail"]

    assert detail("100,000 nested [") == f"JSON parse error - the body is nested deeper than {MAX_DEPTH} levels."
    assert detail("5,000 nested [ in a field") == detail("100,000 nested [")
    assert detail("truncated") == "JSON parse error - Unterminated string starting at: line 1 column 17 (char 16)"
    assert detail("NaN") == "JSON parse error - Out of range float values are not JSON compliant: 'NaN'"
    assert detail("invalid UTF-8").startswith("JSON parse error - 'utf-8' codec can't decode byte 0xe9")
    assert detail("a 5,000-digit integer").startswith("JSON parse error - Exceeds the limit (4300 digits)")


def test_nesting_up_to_the_limit_is_read(world, root_api):
    """The limit is far above what any body of this API holds (two levels); a body at it is read and validated."""
    body = {"ticket": world.a.ticket.pk, "duration": "1:00", "description": "x"}
    for _ in range(MAX_DEPTH - 1):
        body = {"nested": body}
    response = send(root_api, "POST", "/api/v1/timesheets/", "application/json", json.dumps(body).encode())
    assert response.status_code == 400
    assert response.json() == {"duration": ["This field is required."]}


def test_an_empty_body_is_no_input(world, root_api):
    """An empty body with a JSON content type is no body at all (as without one): the fields it lacks are named."""
    before = state()
    response = send(root_api, "POST", "/api/v1/timesheets/", "application/json", b"")
    assert response.status_code == 400
    assert response.json() == {"duration": ["This field is required."]}
    assert state() == before


# --- The screens: Django parses their form bodies ---------------------------------------------------

# Bodies Django cannot read: refused with 400 before any view acts.
REFUSED_FORMS = {
    "a multipart body without a boundary": ("multipart/form-data", b"--x\r\n\r\n"),
    "1,001 fields": ("application/x-www-form-urlencoded", "&".join(f"f{n}=1" for n in range(1001)).encode()),
    "3 MB": ("application/x-www-form-urlencoded", b"log-description=" + b"x" * 3_000_000),
}
# Bodies Django reads as far as they go (the fields it finds, or none): the form then says what is missing.
GARBLED_FORMS = {
    "a multipart body cut short": ("multipart/form-data; boundary=xyz",
                                   b'--xyz\r\nContent-Disposition: form-data; name="action"\r\n\r\nlo'),
    "a multipart body with a broken header": ("multipart/form-data; boundary=xyz",
                                              b"--xyz\r\nContent-Disposition: form-data; name=\r\n\r\n1\r\n--xyz--"),
    "invalid UTF-8": ("application/x-www-form-urlencoded", b"action=log&log-duration=1%3A00&log-description=\xff\xfe"),
    "an unknown charset": ("application/x-www-form-urlencoded; charset=no-such-charset", b"action=log"),
    "100,000 nested [ as JSON": ("application/json", b"[" * DEEP + b"]" * DEEP),
}


@pytest.mark.parametrize("page", ["ticket", "login", "create invoice", "alert dealt with"])
def test_the_screens_survive_a_body_they_cannot_read(world, page):
    client = Client(raise_request_exception=False)
    if page != "login":
        client.force_login(world.users["agent_a" if page == "ticket" else "accountant"])
    target = {"ticket": lambda: reverse("ticket_detail", args=[world.a.ticket.pk]), "login": lambda: reverse("login"),
              "create invoice": lambda: reverse("invoice_create", args=[world.a.order.pk]),
              "alert dealt with": lambda: reverse("alert_clear", args=[alert_of(world).pk])}[page]()
    before = state()
    refused = {name: client.generic("POST", target, body, content_type=content_type).status_code
               for name, (content_type, body) in REFUSED_FORMS.items()}
    assert refused == dict.fromkeys(REFUSED_FORMS, 400)
    assert state() == before
    garbled = {name: client.generic("POST", target, body, content_type=content_type).status_code
               for name, (content_type, body) in GARBLED_FORMS.items()}
    assert {name: status for name, status in garbled.items() if status >= 500} == {}
