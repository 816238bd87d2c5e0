"""Issue 16: the admin's fields that choose people (a team's Members, a ticket's assignee, an entry's agent) hold
the chosen people only, and search the model admin's own list of them (backoffice/people.py), which is the
form field's queryset, for whoever may add or change the model."""

import re

from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from tickets.models import HelpdeskTeam, Ticket
from timesheets.models import TimeEntry

from ..factories import UserFactory
from .test_admin import url


def people(client, model, field, **params) -> list[str]:
    """The usernames `<admin>/people/` offers for `field` (all its pages)."""
    opts = model._meta
    names, page = [], 1
    while True:
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_people"),
                              {"field_name": field, "page": page, **params})
        assert response.status_code == 200, response.content
        answer = response.json()
        names += [row["text"] for row in answer["results"]]
        if not answer["pagination"]["more"]:
            return names
        page += 1


def accepted(user, model, field) -> list[str]:
    """The usernames the admin's form field accepts, for `user`."""
    request = RequestFactory().get("/")
    request.user = user
    model_admin = admin.site.get_model_admin(model)
    return sorted({person.username for person in model_admin.get_form(request)().fields[field].queryset})


def test_a_teams_members_are_the_active_agents_and_managers(manager_client, world):
    UserFactory(username="gone", role="Agents", is_active=False)
    for n in range(25):
        UserFactory(username=f"agent_{n:02}", role="Agents", first_name="Field", last_name=f"Agent {n:02}")
    offered = people(manager_client, HelpdeskTeam, "members")
    assert offered == accepted(world.users["manager"], HelpdeskTeam, "members")
    assert "gone" not in offered and "accountant" not in offered
    assert {"agent_a", "agent_b", "lead_a", "manager", "agent_07"} <= set(offered)
    assert people(manager_client, HelpdeskTeam, "members", term="AGENT 07") == ["agent_07"]  # by name too

    # The change page holds the members only: not the 30 others.
    page = manager_client.get(url(world.a.team)).content.decode()
    members = re.search(r'<select name="members".*?</select>', page, re.S)[0]
    assert re.findall(r"<option [^>]*>([^<]*)</option>", members) == ["agent_a", "lead_a"]
    # Any agent is a valid choice, though not on the page; an accountant is not.
    data = {"name": "Team A", "timesheet_on_ticket": "on", "project": world.a.team.project_id,
            "time_reinvoicing": "on", "invoiced_timesheets": "all", "members": [world.users["agent_a"].pk],
            "_save": "Save"}
    assert manager_client.post(url(world.a.team),
                               {**data, "members": [world.users["agent_b"].pk]}).status_code == 302
    assert list(world.a.team.members.values_list("username", flat=True)) == ["agent_b"]
    refused = manager_client.post(url(world.a.team),
                                  {**data, "members": [world.users["accountant"].pk]})
    assert refused.status_code == 200 and "members" in refused.context["adminform"].form.errors


def test_a_lead_assigns_and_logs_among_their_teammates_only(lead_client, manager_client, world):
    lead = world.users["lead_a"]
    assert people(lead_client, Ticket, "assignee") == accepted(lead, Ticket, "assignee") == ["agent_a", "lead_a"]
    assert people(lead_client, TimeEntry, "user") == accepted(lead, TimeEntry, "user") == ["lead_a"]
    everyone = people(manager_client, Ticket, "assignee")
    assert everyone == accepted(world.users["manager"], Ticket, "assignee")
    assert "agent_b" in everyone


def test_the_search_is_for_those_who_edit_and_for_people_fields_only(manager_client, world):
    address = reverse("admin:tickets_helpdeskteam_people")
    books = Client()
    books.force_login(world.users["accountant"])  # reads teams, does not change them
    assert books.get(address, {"field_name": "members"}).status_code == 403
    assert manager_client.get(address, {"field_name": "project"}).status_code == 404
    assert manager_client.get(address, {"field_name": "members", "page": "x" * 30, "term": "a\x00" * 400}
                              ).status_code == 200


def test_the_members_field_says_how_it_is_used(manager_client):
    response = manager_client.get("/admin/tickets/helpdeskteam/add/")
    assert b"type a name to add one" in response.content
    assert b"Hold down" not in response.content
