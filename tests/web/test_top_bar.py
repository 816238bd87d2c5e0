"""The top bar: the same links on every page a signed-in user sees, Django's 403 and 404 pages included."""

import re

import pytest
from django.urls import reverse


def nav(response) -> list[str]:
    """Return the top bar's links as "label href", the current one marked with a star."""
    html = response.content.decode()
    bar = html[html.index('<nav aria-label="Main">'):html.index("</nav>")]
    return [f"{label} {href}{' *' if current else ''}"
            for href, current, label in re.findall(r'<a href="([^"]*)"( aria-current="page")?>([^<]+)</a>', bar)]


def test_a_signed_in_agents_404_and_403_pages_have_the_home_pages_links(agent_client, other_ticket):
    home = nav(agent_client.get(reverse("home")))
    assert home == ["Tickets /tickets/", "Tasks /tasks/", "My Timesheets /timesheets/week/", "Reports /reports/"]
    missing = agent_client.get("/no-such-page/")
    hidden = agent_client.get(reverse("ticket_detail", args=[other_ticket.pk]))  # Http404 raised by the view
    refused = agent_client.get(reverse("billing_run_list"))  # PermissionDenied raised by the view
    assert (missing.status_code, hidden.status_code, refused.status_code) == (404, 404, 403)
    assert nav(missing) == home
    assert nav(hidden) == ["Tickets /tickets/ *", *home[1:]]  # the ticket's address: Tickets is where one is
    assert nav(refused) == home
    assert 'class="role">Agent</span>' in refused.content.decode()


def test_a_managers_404_page_has_every_link_of_the_role(manager_client):
    home = nav(manager_client.get(reverse("home")))
    assert home == ["Tickets /tickets/", "Tasks /tasks/", "My Timesheets /timesheets/week/", "To Approve /to-approve/",
                    "Sales Orders /orders/", "To Invoice /to-invoice/", "Invoices /invoices/",
                    "Overdue /invoices/overdue/", "Reports /reports/", "Admin /admin/"]
    assert nav(manager_client.get("/no-such-page/")) == home


@pytest.mark.parametrize("persona, shown", [("member", True), ("manager", True), ("accountant", False)])
def test_my_timesheets_is_offered_to_whoever_logs_time(request, client, persona, shown):
    client.force_login(request.getfixturevalue(persona))
    assert ("My Timesheets /timesheets/week/" in nav(client.get(reverse("home")))) is shown


def test_my_timesheets_is_marked_current_on_its_page(agent_client):
    links = nav(agent_client.get(reverse("my_timesheets")))
    assert "My Timesheets /timesheets/week/ *" in links
    assert [link for link in links if link.endswith(" *")] == ["My Timesheets /timesheets/week/ *"]


def test_a_stranger_sees_no_top_bar_links_on_a_404(client, db):
    html = client.get("/no-such-page/").content.decode()
    assert '<nav aria-label="Main">' not in html and "Log out" not in html


def test_the_500_page_keeps_the_top_bars_look_without_reading_anything(db, monkeypatch, member):
    """Django renders it without the request (the user may be what failed): the brand, no links."""
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(member)

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("web.views.tasks.tasks_for", broken)
    response = client.get(reverse("task_list"))
    html = response.content.decode()
    assert response.status_code == 500
    assert '<header class="topbar">' in html and "<h1>Something went wrong</h1>" in html
    assert '<nav aria-label="Main">' not in html


def test_the_browsers_icon_is_the_apps(client):
    """Browsers ask /favicon.ico of every page, the admin's too: they get the app's icon, not a 404 page."""
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (301, "/static/img/icon.svg")
