"""Every screen needs a login; the top bar offers what the role may use; refusals are pages, not errors."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ..factories import UserFactory


def web_routes():
    """Return (name, how many ids its address takes) of every browser screen: the routes of web.urls,
    without the auth views and the language choice (a POST anyone may send: tests/i18n)."""
    resolver = get_resolver("web.urls")
    routes = []

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name not in ("login", "logout", "language_choose"):
                routes.append((pattern.name, str(pattern.pattern).count("<int:")))

    walk(resolver.url_patterns)
    return routes


@pytest.mark.parametrize("name, ids", web_routes())
def test_every_screen_sends_a_stranger_to_the_login_page(client, db, name, ids):
    address = reverse(name, args=[1] * ids)
    response = client.get(address)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={address}"


def test_login_then_the_agent_lands_on_the_helpdesk_overview(client, member):
    response = client.post(reverse("login"), {"username": "agent", "password": "secret-pass-123"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Log out" in response.content.decode() and "<h1>Helpdesk overview</h1>" in response.content.decode()


def test_a_wrong_password_is_refused_on_the_form(client, member):
    response = client.post(reverse("login"), {"username": "agent", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_is_a_post_and_ends_the_session(agent_client):
    response = agent_client.post(reverse("logout"))
    assert response.status_code == 302
    assert agent_client.get(reverse("ticket_list")).status_code == 302


def nav_links(response) -> list[str]:
    html = response.content.decode()
    nav = html[html.index('<nav aria-label="Main">'):html.index("</nav>")]
    return [label for label in ("Tickets", "Tasks", "Sales Orders", "Invoices", "Admin") if f">{label}</a>" in nav]


def test_the_top_bar_offers_what_each_role_may_use(client, member, accountant, manager):
    for user, links in [(member, ["Tickets", "Tasks"]),
                        (accountant, ["Tickets", "Tasks", "Sales Orders", "Invoices"]),
                        (manager, ["Tickets", "Tasks", "Sales Orders", "Invoices", "Admin"])]:
        client.force_login(user)
        assert nav_links(client.get(reverse("ticket_list"))) == links, user


def test_home_is_the_helpdesk_overview_for_every_role_and_the_tickets_for_none(client, member, accountant,
                                                                                manager):
    for user in (member, accountant, manager):
        client.force_login(user)
        response = client.get(reverse("home"))
        assert response.status_code == 200 and "<h1>Helpdesk overview</h1>" in response.content.decode(), user
    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("home"))["Location"] == reverse("ticket_list")


def test_a_refusal_is_the_403_page_with_its_reason(agent_client, line_a):
    response = agent_client.post(reverse("invoice_create", args=[line_a.order.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You may not do this" in html
    assert "Only accountants and managers create, post, cancel and credit invoices." in html


def test_a_user_without_a_role_reads_but_does_not_log_time(client, member, ticket):
    ticket.team.members.add(nobody := UserFactory(username="nobody"))
    client.force_login(nobody)
    response = client.get(reverse("ticket_detail", args=[ticket.pk]))
    assert response.status_code == 200
    assert 'id="log-time"' not in response.content.decode()
    refused = client.post(reverse("ticket_detail", args=[ticket.pk]),
                          {"action": "log", "log-date": "2026-01-01", "log-duration": "1:00"})
    assert refused.status_code == 403


def test_an_unknown_page_is_the_404_page(agent_client):
    response = agent_client.get("/tickets/999999/")
    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()


@pytest.mark.parametrize("address", [
    "/tickets/99999999999999999999/", "/invoices/?order=99999999999999999999", "/tickets/?page=abc",
    "/invoices/?ticket=99999999999999999999", "/orders/99999999999999999999/",
    "/timesheets/week/?week=99999999999999999999", "/timesheets/week/?agent=99999999999999999999",
    "/timesheets/week/?add=99999999999999999999&add=-1&week=0001-01-01",
])
def test_absurd_numbers_in_addresses_are_404_or_ignored_never_an_error(manager_client, address):
    assert manager_client.get(address).status_code in (200, 404)
