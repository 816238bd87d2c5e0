"""The admin keeps a team lead (an agent who is staff) to their teams, as the screens and the API do.

The world is the permission matrix's (tests/security/conftest.py): teams A and B, and
lead_a, an agent of team A who is staff. Lists, pages, choices, searches and filters show
them team A's rows only; another team's row answers 404; they log and change only their
own time, and see a teammate's read-only.
"""

from django.contrib import admin
from django.urls import reverse

from sales.models import SaleOrder
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log

from ..factories import TeamFactory, TicketFactory, confirmed_line, days_ago
from .test_admin import extra_row, form_data, page_errors, url

INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."
NOT_YOURS = "You can only change your own time."


def listed(client, model, **params) -> list:
    response = client.get(url(model, "changelist"), params)
    assert response.status_code == 200
    return sorted(response.context["cl"].result_list, key=lambda obj: obj.pk)


def found(client, source, field) -> list[str]:
    """Return the ids the admin's autocomplete offers for `field` of `source` ("app.model")."""
    app, model = source.split(".")
    response = client.get(reverse("admin:autocomplete"),
                          {"app_label": app, "model_name": model, "field_name": field, "term": ""})
    assert response.status_code == 200
    return [result["id"] for result in response.json()["results"]]


def entry_form(ticket, user, **changes) -> dict:
    data = {"ticket": ticket.pk, "task": "", "user": user.pk, "date": days_ago(0).isoformat(), "minutes": "0:30",
            "description": "Admin work", "sale_line": "", "_save": "Save"}
    return {**data, **changes}


# --- What the lead sees -------------------------------------------------------------

def test_every_list_shows_the_lead_their_teams_rows_and_a_manager_all(world, lead_client, manager_client):
    a, b = world.a, world.b
    assert listed(lead_client, a.ticket) == [a.ticket]
    assert listed(lead_client, a.task) == [a.task]
    assert listed(lead_client, a.team) == [a.team]
    assert listed(lead_client, a.team.project) == [a.team.project]
    assert listed(lead_client, TimeEntry) == [a.invoiced_entry, a.drafted_entry, a.open_entry]
    # Their team's order; not the quotation of the same customer, which bills nothing of theirs.
    assert listed(lead_client, SaleOrder) == [a.order]
    assert listed(lead_client, a.line) == [a.line, a.manual_line]
    assert listed(lead_client, a.posted) == [a.posted, a.draft]
    assert listed(lead_client, a.order.customer) == [a.order.customer]

    assert listed(manager_client, a.ticket) == [a.ticket, b.ticket]
    assert len(listed(manager_client, TimeEntry)) == 6
    assert listed(manager_client, SaleOrder) == [a.order, a.quotation, b.order, b.quotation]


def filter_choices(client, model) -> dict:
    """Return {title: [(id, label)]} of the related-object filters of `model`'s list."""
    response = client.get(url(model, "changelist"))
    return {spec.title: list(spec.lookup_choices) for spec in response.context["cl"].filter_specs
            if isinstance(spec, admin.RelatedFieldListFilter)}


def test_list_filters_name_only_the_leads_teams_their_projects_and_agents(world, lead_client, manager_client):
    a, b, lead = world.a, world.b, world.users["lead_a"]
    # The lead works in a second team too (a filter with one choice is not shown).
    c = TeamFactory(name="Team C", project__name="Project of team C")
    c.members.add(lead)
    ticket = TicketFactory(team=c, customer=a.order.customer, title="Printer of team C jams")
    timesheet_log(user=lead, date=days_ago(0), minutes=20, ticket=ticket)

    assert filter_choices(lead_client, TimeEntry) == {
        "agent": [(a.agent.pk, "agent_a"), (lead.pk, "lead_a")],
        "project": [(a.team.project.pk, "Project of team A"), (c.project.pk, "Project of team C")],
        "team": [(a.team.pk, "Team A"), (c.pk, "Team C")]}
    assert filter_choices(lead_client, a.ticket) == {"team": [(a.team.pk, "Team A"), (c.pk, "Team C")]}
    assert filter_choices(manager_client, a.ticket)["team"] == [(a.team.pk, "Team A"), (b.team.pk, "Team B"),
                                                                (c.pk, "Team C")]


def test_the_autocomplete_offers_the_lead_their_teams_tickets_tasks_lines_and_customers(world, lead_client,
                                                                                       manager_client):
    a, b = world.a, world.b
    assert found(lead_client, "timesheets.timeentry", "ticket") == [str(a.ticket.pk)]
    assert found(lead_client, "timesheets.timeentry", "task") == [str(a.task.pk)]
    # Lines time may bill: the manual "Setup" line is not one.
    assert found(lead_client, "timesheets.timeentry", "sale_line") == [str(a.line.pk)]
    assert found(lead_client, "tickets.ticket", "customer") == [str(a.order.customer.pk)]
    assert sorted(found(manager_client, "timesheets.timeentry", "sale_line")) == sorted([str(a.line.pk),
                                                                                       str(b.line.pk)])


def test_another_teams_rows_answer_404_on_every_page(world, lead_client):
    b = world.b
    for obj in (b.ticket, b.task, b.team, b.team.project, b.open_entry, b.order, b.line, b.posted,
                b.order.customer):
        for view in ("change", "history"):
            assert lead_client.get(url(obj, view)).status_code == 404, (obj, view)
    assert lead_client.get(url(b.open_entry, "delete")).status_code == 404
    assert lead_client.post(url(b.open_entry, "delete"), {"post": "yes"}).status_code == 404
    assert TimeEntry.objects.filter(pk=b.open_entry.pk).exists()


# --- Time: their own, as themselves -------------------------------------------------

def test_the_lead_edits_their_own_entry_then_cannot_reach_another_teams_by_id(world, lead_client):
    a, b, lead = world.a, world.b, world.users["lead_a"]
    # Step 1: the lead logs time on their team's ticket, then corrects it on its change form.
    response = lead_client.post(url(TimeEntry, "add"), entry_form(a.ticket, lead))
    assert response.status_code == 302, page_errors(response)
    own = TimeEntry.objects.get(user=lead)
    response = lead_client.post(url(own), {"date": days_ago(0).isoformat(), "minutes": "1:15",
                                           "description": "Admin work", "sale_line": a.line.pk, "_save": "Save"})
    assert response.status_code == 302, page_errors(response)
    own.refresh_from_db()
    assert (own.minutes, own.sale_line) == (75, a.line)
    a.line.refresh_from_db()
    assert a.line.delivered_minutes == 30 + 45 + 60 + 75  # agent A's three entries, and the lead's

    # Step 2: the same form posted to team B's open entry, by its id: missing to the lead.
    before = (b.open_entry.minutes, b.open_entry.description)
    response = lead_client.post(url(b.open_entry), {"date": days_ago(0).isoformat(), "minutes": "9:00",
                                                     "description": "Moved", "sale_line": b.line.pk,
                                                     "_save": "Save"})
    assert response.status_code == 404
    b.open_entry.refresh_from_db()
    assert (b.open_entry.minutes, b.open_entry.description) == before
    b.line.refresh_from_db()
    assert b.line.delivered_minutes == 30 + 45 + 60


def test_a_teammates_entry_is_read_only_to_the_lead(world, lead_client):
    a = world.a
    page = lead_client.get(url(a.open_entry))
    assert page.status_code == 200
    assert not page.context["has_change_permission"] and not page.context["has_delete_permission"]
    response = lead_client.post(url(a.open_entry), {"date": days_ago(0).isoformat(), "minutes": "9:00",
                                                     "description": "Mine now", "_save": "Save"})
    assert response.status_code == 403
    a.open_entry.refresh_from_db()
    assert (a.open_entry.minutes, a.open_entry.description) == (60, "Work of team A #2")


def test_the_lead_logs_time_only_as_themselves_and_only_on_their_teams_tickets(world, lead_client):
    a, b = world.a, world.b
    response = lead_client.post(url(TimeEntry, "add"), entry_form(b.ticket, world.users["lead_a"]))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"ticket": [INVALID_CHOICE]}
    assert b.ticket.title not in response.content.decode()  # the form comes back without it
    response = lead_client.post(url(TimeEntry, "add"), entry_form(a.ticket, a.agent))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"user": [INVALID_CHOICE]}
    assert TimeEntry.objects.count() == 6


def test_a_sales_order_item_of_another_team_is_no_choice_one_of_another_customer_is_refused(world, lead_client):
    a, b, lead = world.a, world.b, world.users["lead_a"]
    # Team A also works for another customer: that customer's line is in the lead's scope.
    other = confirmed_line(order__customer__name="Globex")
    TicketFactory(team=a.team, customer=other.order.customer, sale_line=other, title="Globex's scanner")

    # Team B's line is not offered: refused as no choice, its customer unnamed.
    response = lead_client.post(url(TimeEntry, "add"), entry_form(a.ticket, lead, sale_line=b.line.pk))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"sale_line": [INVALID_CHOICE]}
    assert b.order.customer.name not in response.content.decode()

    # Globex's line is offered, and refused by the service: it is not the ticket's customer's.
    response = lead_client.post(url(TimeEntry, "add"), entry_form(a.ticket, lead, sale_line=other.pk))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"sale_line": [
        f"{other.order.name} belongs to Globex, not to Customer of team A: choose a line of this customer's order."]}

    # So is team A's manual line: it is not billed on timesheets.
    response = lead_client.post(url(TimeEntry, "add"), entry_form(a.ticket, lead, sale_line=a.manual_line.pk))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"sale_line": [
        "Setup is not billed on timesheets: choose a service line."]}

    assert not TimeEntry.objects.filter(user=lead).exists()
    for line in (a.line, b.line, other):
        line.refresh_from_db()
    assert (a.line.delivered_minutes, b.line.delivered_minutes, other.delivered_minutes) == (135, 135, 0)


# --- The Timesheets of the ticket ------------------------------------------------------

def test_on_their_teams_ticket_the_lead_sees_every_row_changes_none_of_a_teammates_and_adds_their_own(
        world, lead_client):
    a, b, lead = world.a, world.b, world.users["lead_a"]
    response = lead_client.get(url(a.ticket))
    [inline] = response.context["inline_admin_formsets"]
    rows = inline.formset.forms[:-1]
    assert [form.instance for form in rows] == [a.open_entry, a.drafted_entry, a.invoiced_entry]  # newest first
    # Every row read-only: two invoiced, one agent A's; the new row is the lead's.
    assert all(form.fields[name].disabled for form in rows for name in ("date", "minutes", "DELETE"))
    assert [str(pk) for pk, _ in inline.formset.forms[-1].fields["sale_line"].choices if pk] == [str(a.line.pk)]
    data = form_data(response)
    rows = {data[f"time_entries-{i}-id"]: f"time_entries-{i}" for i in range(3)}

    # A change posted to agent A's row is refused on the row.
    changed = {**data, f"{rows[str(a.open_entry.pk)]}-minutes": "9:00"}
    response = lead_client.post(url(a.ticket), changed)
    assert response.status_code == 200
    assert page_errors(response) == [NOT_YOURS]

    # A new row naming team B's line, or another agent: the line is no choice, the agent stays the lead.
    row = extra_row(data)
    response = lead_client.post(url(a.ticket), {**data, f"{row}-minutes": "0:20", f"{row}-sale_line": b.line.pk})
    assert response.status_code == 200
    assert page_errors(response) == [INVALID_CHOICE]
    response = lead_client.post(url(a.ticket), {**data, f"{row}-minutes": "0:20", f"{row}-user": a.agent.pk})
    assert response.status_code == 302, page_errors(response)
    new = TimeEntry.objects.get(description="", minutes=20)
    assert (new.user, new.ticket, new.sale_line) == (lead, a.ticket, a.line)
    a.open_entry.refresh_from_db()
    assert a.open_entry.minutes == 60


# --- A choice out of scope that the object already holds -----------------------------

def test_a_tasks_sales_order_item_out_of_the_leads_scope_stays_when_they_rename_the_task(world, lead_client):
    a = world.a
    # A second order of team A's customer, which no time of theirs bills: not in the lead's scope.
    unseen = confirmed_line(order__customer=a.order.customer)
    project = a.team.project
    project.customer = a.order.customer
    project.save()
    a.task.sale_line = unseen
    a.task.save()
    assert found(lead_client, "projects.task", "sale_line") == [str(a.line.pk)]

    data = form_data(lead_client.get(url(a.task)))
    data["name"] = "Task of team A, renamed"
    response = lead_client.post(url(a.task), data)
    assert response.status_code == 302, page_errors(response)
    a.task.refresh_from_db()
    assert (a.task.name, a.task.sale_line) == ("Task of team A, renamed", unseen)


# --- Tickets ------------------------------------------------------------------------------

def test_the_lead_files_tickets_in_their_team_assigned_to_their_teammates(world, lead_client):
    a, b = world.a, world.b
    data = form_data(lead_client.get(url(a.ticket, "add")))
    data.update({"team": a.team.pk, "customer": a.order.customer.pk, "title": "Scanner jams"})

    for field, value in (("team", b.team.pk), ("assignee", b.agent.pk), ("task", b.task.pk)):
        response = lead_client.post(url(a.ticket, "add"), {**data, field: value})
        assert response.status_code == 200
        assert response.context["adminform"].form.errors == {field: [INVALID_CHOICE]}

    response = lead_client.post(url(a.ticket, "add"), {**data, "assignee": a.agent.pk})
    assert response.status_code == 302, page_errors(response)
    ticket = a.team.tickets.get(title="Scanner jams")
    assert (ticket.assignee, ticket.customer) == (a.agent, a.order.customer)
    assert not b.team.tickets.filter(title="Scanner jams").exists()
