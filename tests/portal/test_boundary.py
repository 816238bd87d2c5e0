"""The portal's boundary (core.boundary, api.authentication): a customer's contact reaches nothing internal.

Every internal screen (web.urls), every page of the admin and every internal API endpoint (api.urls, the
router's and the others) is asked by a contact signed in with a session, and the API by their token too: a
page is a redirect to the portal (GET), anything else a 403, the API a 403 in JSON, before any view runs. A
contact deactivated since loses their session and their token, and a contact is never staff.
"""

import json
import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.boundary import REFUSED
from core.errors import Conflict
from core.roles import CONTACTS
from sales.contacts import contact_deactivate, contact_invite
from sales.models import Contact

from ..factories import CustomerFactory, UserFactory
from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

PORTAL = "/portal/"
DOCUMENTS = ("/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/")  # not JSON: their refusal neither
CONVERTER = re.compile(r"<(?:\w+:)?\w+>")
GROUP = re.compile(r"\(\?P<\w+>([^()]*)\)")


def _group_value(match) -> str:
    """A value for a regex's named group: its first alternative when it lists words (the admin's app labels)."""
    inner = match.group(1)
    if re.fullmatch(r"[\w|-]+", inner):
        return inner.split("|")[0]
    return "1"


def concrete(prefix: str, pattern) -> str:
    """An address matching `pattern` (a route or a regex), its parameters given a value ("1")."""
    text = str(pattern.pattern)
    if text.startswith("^") or text.endswith("$"):
        text = GROUP.sub(_group_value, text).lstrip("^").rstrip("$").replace("\\.", ".").replace("\\", "")
    else:
        text = CONVERTER.sub("1", text)
    return prefix + text


def walk(prefix: str, patterns, skip=lambda address: False) -> list[str]:
    """Every address of `patterns` (included ones too), under `prefix`."""
    addresses = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            addresses += walk(concrete(prefix, pattern), pattern.url_patterns, skip)
        elif isinstance(pattern, URLPattern):
            address = concrete(prefix, pattern)
            if not skip(address):
                addresses.append(address)
    return sorted(set(addresses))


def screens() -> list[str]:
    """Every internal screen (web.urls), the login page included; not the sign-out and the language choice,
    which are the portal's too (settings.PORTAL_PATHS)."""
    return walk("/", get_resolver("web.urls").url_patterns, skip=lambda a: a in ("/logout/", "/language/"))


def admin_pages() -> list[str]:
    return walk("/admin/", admin.site.urls[0])


def api_endpoints() -> list[str]:
    """Every internal API endpoint (its router's and the others), not the portal's own, nor the catch-all."""
    from api.urls import not_found

    addresses = walk("/api/v1/", get_resolver("api.urls").url_patterns,
                     skip=lambda a: a.startswith("/api/v1/portal/"))
    return [a for a in addresses if resolve(a).func is not not_found]


def portal_built() -> bool:
    """Whether the portal's screens exist yet (issue 18 is built in parallel: H1)."""
    try:
        reverse("portal_tickets")
    except NoReverseMatch:
        return False
    return True


def portal_api_built() -> bool:
    """Whether the portal's API exists yet (H2)."""
    from api.urls import not_found

    return resolve("/api/v1/portal/me/").func is not not_found


def refusal(response) -> tuple:
    """(status, content type, JSON body) of an answer; the body None when it is not JSON."""
    kind = response.headers.get("Content-Type")
    return response.status_code, kind, json.loads(response.content) if kind == "application/json" else None


@pytest.fixture
def contact(portal):
    return portal["a"].contact


def signed_in(contact) -> Client:
    client = Client()
    client.force_login(contact.user)
    return client


def by_token(contact) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=contact.user)[0].key}")
    return client


def test_the_walk_finds_the_internal_addresses():
    """The walk is no empty list: it reaches the screens, the admin's pages and the API's endpoints, all real."""
    pages, admins, apis = screens(), admin_pages(), api_endpoints()
    assert {"/", "/login/", "/tickets/1/", "/orders/1/", "/invoices/1/pdf/"} <= set(pages)
    assert {"/admin/", "/admin/sales/customer/", "/admin/sales/customer/1/change/", "/admin/auth/user/"} <= set(admins)
    assert {"/api/v1/customers/", "/api/v1/tickets/1/", "/api/v1/invoices/1/pdf/", "/api/v1/schema/",
            "/api/v1/timesheets/week/", "/api/v1/company/"} <= set(apis)
    for address in pages + admins + apis:
        resolve(address)  # each one an address of the app (Resolver404 otherwise)


def test_a_contacts_session_is_sent_to_the_portal_from_every_internal_screen_and_admin_page(contact):
    client = signed_in(contact)
    wrong = []
    for address in screens() + admin_pages():
        got = client.get(address)
        if (got.status_code, got.get("Location")) != (302, PORTAL):
            wrong.append(f"GET {address}: {got.status_code} {got.get('Location')}")
        posted = client.post(address, {"name": "x"})
        if (posted.status_code, posted.content.decode()) != (403, str(REFUSED)):
            wrong.append(f"POST {address}: {posted.status_code}")
    assert "\n".join(wrong) == ""


@pytest.mark.parametrize("how", ["session", "token"])
def test_a_contact_reaches_no_internal_api_endpoint(contact, how):
    """By session the middleware refuses them before DRF (JSON); by token DRF does, in the view's own format
    (the schema's YAML, the docs' HTML): a 403 either way, and none of the page."""
    client = signed_in(contact) if how == "session" else by_token(contact)
    wrong = []
    for address in api_endpoints():
        for method in ("GET", "POST", "PATCH", "DELETE"):
            response = client.generic(method, address, "{}", content_type="application/json")
            if how == "token" and address in DOCUMENTS:
                refused = response.status_code == 403 and b"openapi" not in response.content.lower()
            else:
                refused = refusal(response) == (403, "application/json", {"detail": str(REFUSED)})
            if not refused:
                wrong.append(f"{method} {address}: {response.status_code} {response.content[:100]!r}")
    assert "\n".join(wrong) == ""


def test_the_boundary_lets_through_only_the_portals_own_addresses():
    """Every address of the app a contact may ask (core.boundary.contact_allowed) is the portal's, its API's, or one
    of the few shared ones: a route added later under a prefix the boundary lets through (/healthz..., /language/...)
    fails here until it is meant for contacts."""
    from core.boundary import contact_allowed

    allowed = [a for a in walk("/", get_resolver().url_patterns) if contact_allowed(a)]
    shared = {"/logout/", "/language/", "/healthz", "/favicon.ico"}
    assert [a for a in allowed if a not in shared and not a.startswith(("/portal/", "/api/v1/portal/"))] == []
    assert shared <= set(allowed)
    assert {"/portal/", "/portal/tickets/1/", "/api/v1/portal/me/", "/api/v1/portal/invoices/1/pdf/"} <= set(allowed)


def test_the_refusal_is_in_the_contacts_language(contact):
    client = by_token(contact)
    response = client.get("/api/v1/customers/", HTTP_ACCEPT_LANGUAGE="fr")
    with translation.override("fr"):
        french = str(REFUSED)
    assert (response.status_code, response.json()) == (403, {"detail": french})
    posted = signed_in(contact).post("/orders/", HTTP_ACCEPT_LANGUAGE="fr")
    assert (posted.status_code, posted.content.decode()) == (403, french)


def test_addresses_that_only_look_like_the_portals_are_refused(contact):
    """The boundary reads the path as Django routes it: dot segments and a missing slash lead nowhere inside."""
    client = signed_in(contact)
    for address in ("/portal/../admin/", "/portal/../tickets/", "/api/v1/portal/../customers/"):
        response = client.get(address)
        assert response.status_code == 404, address
    assert client.get("/portal").status_code in (301, 302, 404)
    assert (client.get("/admin").status_code, client.get("/admin")["Location"]) == (302, PORTAL)
    assert client.get("/api/v1/portalx/").status_code == 403
    # The API's docs pages and schema are internal too.
    for address in ("/api/v1/docs/", "/api/v1/redoc/", "/api/v1/schema/"):
        assert signed_in(contact).get(address).status_code == 403
        assert by_token(contact).get(address).status_code == 403


def test_the_portal_paths_stay_open_to_a_contact(contact):
    """What the boundary lets through: signing out, the language, the health check, the icon."""
    client = signed_in(contact)
    assert client.get("/healthz").status_code == 200
    assert client.get("/favicon.ico").status_code == 301
    assert client.post("/language/", {"language": "fr", "next": "/portal/"}).status_code == 302
    # The language choice's `next` to an internal page sends them there, and the boundary back to the portal.
    chosen = client.post("/language/", {"language": "en", "next": "/orders/"})
    assert chosen.status_code == 302
    assert (client.get(chosen["Location"]).status_code, client.get(chosen["Location"])["Location"]) == (302, PORTAL)
    assert client.post("/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_deactivated_contacts_session_and_token_stop_working(portal):
    contact = portal["a"].contact
    session, token = signed_in(contact), by_token(contact)
    assert session.get("/orders/")["Location"] == PORTAL  # a contact, signed in
    assert token.get("/api/v1/customers/").status_code == 403

    contact_deactivate(contact=contact, actor=portal["manager"])

    # The session now belongs to no one: anonymous, sent to the staff login like any stranger.
    assert session.get("/orders/")["Location"] == "/login/?next=/orders/"
    if portal_built():
        assert session.get("/portal/tickets/")["Location"] == "/portal/login/?next=/portal/tickets/"
    for address in ("/api/v1/customers/", "/api/v1/portal/me/", "/api/v1/portal/tickets/"):
        response = token.get(address)
        assert (response.status_code, response.json()) == (401, {"detail": "User inactive or deleted."}), address
    if portal_api_built():
        for address in ("/api/v1/customers/", "/api/v1/portal/me/", "/api/v1/portal/tickets/"):
            assert session.get(address).status_code == 401, address
    # Its password no longer opens a session either, on either login page.
    fresh = Client()
    assert not fresh.login(username=contact.user.username, password=PASSWORD)


def test_a_contact_is_never_staff(portal):
    contact = portal["a"].contact
    assert not contact.user.is_staff and not contact.user.is_superuser
    assert contact.user.groups.get().name == CONTACTS
    # The admin's login refuses their right password (not a staff account), and counts no failure.
    client = Client()
    response = client.post("/admin/login/", {"username": contact.user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert "Please enter the correct username and password for a staff account" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # A staff address cannot be invited as a contact, nor a contact's address again.
    staff = UserFactory(username="boss@example.com", email="boss@example.com", role="Managers", is_staff=True)
    for email in (staff.email, "BOSS@example.com", contact.user.email):
        with pytest.raises(Conflict):
            contact_invite(customer=CustomerFactory(), email=email)
    staff.refresh_from_db()
    assert staff.is_staff and not Contact.objects.filter(user=staff).exists()
    assert not staff.groups.filter(name=CONTACTS).exists()
    # Signing in at the staff login page opens no internal screen: the boundary sends them to the portal.
    client = Client()
    client.post("/login/", {"username": contact.user.username, "password": PASSWORD})
    assert client.get("/")["Location"] == PORTAL
    assert client.get("/admin/")["Location"] == PORTAL


def test_a_contact_made_staff_by_mistake_stays_in_the_portal(portal):
    """A superuser ticks "staff status" (even "superuser status") on a contact's account in the users' admin: the
    boundary still keeps them to the portal, by session and by token."""
    contact = portal["a"].contact
    type(contact.user).objects.filter(pk=contact.user.pk).update(is_staff=True, is_superuser=True)
    contact.user.refresh_from_db()
    client, token = signed_in(contact), by_token(contact)
    for address in ("/admin/", "/admin/auth/user/", "/orders/", "/"):
        assert (client.get(address).status_code, client.get(address)["Location"]) == (302, PORTAL), address
    assert client.post("/admin/auth/user/add/", {"username": "x"}).status_code == 403
    assert refusal(token.get("/api/v1/invoices/")) == (403, "application/json", {"detail": str(REFUSED)})
    assert refusal(client.get("/api/v1/invoices/")) == (403, "application/json", {"detail": str(REFUSED)})
