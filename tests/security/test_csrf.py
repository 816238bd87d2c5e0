"""CSRF: every form of the screens carries the token, and a POST without it is refused (403)."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from sales.contacts import link_path

from .conftest import CONTACT_PASSWORD
from .test_permission_matrix import PORTAL_WEB, WEB, browser_of

POSTS = [case for case in WEB if case.method == "POST" and case.name != "admin"]
PAGES = [case for case in WEB if case.method == "GET" and case.name not in ("home", "admin")]


def csrf_client(world, persona="manager") -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[persona])
    return client


@pytest.mark.parametrize("case", POSTS, ids=lambda case: case.name)
def test_a_post_without_the_csrf_token_is_refused(world, case):
    response = csrf_client(world).post(case.url(world.a, world.b), case.data(world.a, world.b) if case.data else {})
    assert response.status_code == 403
    assert b"CSRF" in response.content


def test_login_and_logout_need_the_token_too(world):
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("login"), {"username": "manager", "password": "secret-pass-123"}).status_code == 403
    assert client.post(reverse("admin:login"), {"username": "manager", "password": "x"}).status_code == 403
    assert csrf_client(world).post(reverse("logout")).status_code == 403


def test_every_form_on_every_screen_carries_the_token(world):
    missing = []
    for persona in ("agent_a", "manager"):
        client = browser_of(world, persona)
        for case in PAGES:
            response = client.get(case.url(world.a, world.b))
            if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                continue
            for form in re.findall(r"<form\b[^>]*>.*?</form>", response.content.decode(), flags=re.S | re.I):
                if re.search(r'method="post"', form, re.I) and "csrfmiddlewaretoken" not in form:
                    missing.append(f"{persona} {case.name}: {form[:120]}")
    assert missing == []


def test_the_api_with_a_browser_session_needs_the_token_but_a_token_client_does_not(world):
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(world.users["agent_a"])
    data = {"ticket": world.a.ticket.pk, "duration": "0:30"}
    refused = session.post("/api/v1/timesheets/", data, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    from rest_framework.authtoken.models import Token

    token = APIClient(enforce_csrf_checks=True)
    token.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=world.users['agent_a']).key}")
    assert token.post("/api/v1/timesheets/", data, format="json").status_code == 201


# --- The customer portal (issue 18) ------------------------------------------------------------

PORTAL_POSTS = [case for case in PORTAL_WEB if case.method == "POST"]
PORTAL_PAGES = [case for case in PORTAL_WEB if case.method == "GET"]


def test_a_portal_post_without_the_csrf_token_is_refused(world):
    client = csrf_client(world, "contact_a")
    for case in PORTAL_POSTS:
        response = client.post(case.url(world.a, world.b), case.data(world.a, world.b) if case.data else {})
        assert (response.status_code, b"CSRF" in response.content) == (403, True), case.name


def test_the_portals_login_and_links_need_the_token_too(world):
    contact = world.users["contact_a"]
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("portal_login"), {"username": contact.email, "password": CONTACT_PASSWORD}
                       ).status_code == 403
    assert client.post(reverse("portal_password_forgot"), {"email": contact.email}).status_code == 403
    assert client.post(link_path(contact), {"password1": "hijacked-2026", "password2": "hijacked-2026"}
                       ).status_code == 403
    contact.refresh_from_db()
    assert contact.check_password(CONTACT_PASSWORD)


def test_every_form_on_every_portal_screen_carries_the_token(world):
    missing = []
    client = browser_of(world, "contact_a")
    pages = [case.url(world.a, world.b) for case in PORTAL_PAGES]
    pages += [reverse("portal_ticket", args=[world.a.ticket.pk])]
    for address in pages + [reverse("portal_login"), reverse("portal_password_forgot"), link_path(world.users[
            "contact_b"])]:
        response = (client if "/password/" not in address and "login" not in address else Client()).get(address)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        for form in re.findall(r"<form\b[^>]*>.*?</form>", response.content.decode(), flags=re.S | re.I):
            if re.search(r'method="post"', form, re.I) and "csrfmiddlewaretoken" not in form:
                missing.append(f"{address}: {form[:120]}")
    assert missing == []


def test_the_portal_api_with_a_browser_session_needs_the_token_but_a_token_client_does_not(world):
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(world.users["contact_a"])
    address = f"/api/v1/portal/tickets/{world.a.ticket.pk}/messages/"
    refused = session.post(address, {"body": "Hello"}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    from rest_framework.authtoken.models import Token

    token = APIClient(enforce_csrf_checks=True)
    token.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=world.users['contact_a']).key}")
    assert token.post(address, {"body": "Hello"}, format="json").status_code == 201
