"""Issue 17: New ticket for agents and managers, assignment on the ticket page, status changes with who and when,
the ticket's History, and the Tickets list's sales order filter."""

import pytest
from django.urls import reverse
from django.utils.timezone import localtime

from audit.models import AuditEvent
from audit.selectors import audit_events_for
from tickets.models import Ticket
from tickets.services import ticket_link_task
from web.forms.tickets import AssignForm, NewTicketForm
from web.lookups import KINDS, lookup_url, url_name

from ..factories import (
    CustomerFactory,
    SaleOrderLineFactory,
    TaskFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    confirmed_line,
)
from .conftest import signed_in

NEW = "/tickets/new/"


@pytest.fixture
def teammate(member, ticket):
    user = UserFactory(username="jdoe", first_name="Jane", last_name="Doe", role="Agents")
    ticket.team.members.add(user)
    return user


@pytest.fixture
def task(ticket):
    return TaskFactory(project=ticket.team.project, name="Replace the fuser")


def filing(ticket, **fields):
    """A New ticket form as the browser posts it: the ticket's team and customer, a title."""
    return {"team": ticket.team_id, "customer": ticket.customer_id, "title": "VPN drops every hour",
            "description": "", "task": "", "sale_line": "", "assignee": "", **fields}


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def events(ticket) -> list[tuple]:
    return [(event.action, event.actor_name, event.changes) for event in audit_events_for(obj=ticket)]


def errors(response) -> dict:
    return {name: list(messages) for name, messages in response.context["form"].errors.items()}


# --- New ticket ------------------------------------------------------------------------------------------

def test_the_route_is_the_new_ticket_screen():
    assert reverse("ticket_new") == NEW


def test_an_agent_files_a_ticket_with_its_task_line_and_a_teammate(agent_client, member, ticket, line_a, teammate,
                                                                  task):
    before = Ticket.objects.count()
    response = agent_client.post(NEW, filing(ticket, title="  VPN drops every hour ",
                                             description="Since Monday.\nRemote staff only.", task=task.pk,
                                             sale_line=line_a.pk, assignee=teammate.pk), follow=True)

    created = Ticket.objects.get(title="VPN drops every hour")
    assert Ticket.objects.count() == before + 1
    assert response.redirect_chain == [(reverse("ticket_detail", args=[created.pk]), 302)]
    assert messages_of(response) == [f"Ticket #{created.pk} created."]
    assert (created.team, created.customer, created.description, created.task, created.sale_line, created.assignee,
            created.status) == (ticket.team, ticket.customer, "Since Monday.\nRemote staff only.", task, line_a,
                                teammate, "new")
    assert events(created) == [("ticket.created", "agent", {"team": ticket.team.name, "customer": ticket.customer.name,
                                                             "status": "new", "assignee": "jdoe"})]
    html = response.content.decode()
    assert f"Ticket created in {ticket.team.name} for {ticket.customer.name}, assigned to jdoe" in html


def test_the_form_starts_with_the_agents_team_and_themselves_as_assignee(agent_client, member, ticket):
    response = agent_client.get(NEW)
    assert response.status_code == 200
    html = response.content.decode()
    team, me = ticket.team, member
    assert f'<option value="{team.pk}" selected>{team.name}</option>' in html
    assert f'<option value="{me.pk}" selected>agent</option>' in html
    # The team's lists ask for the team's rows; the customer's, for none until one is chosen.
    assert f'data-lookup="/lookup/team-tasks/{team.pk}/" data-lookup-of="/lookup/team-tasks/0/"' in html
    assert f'data-lookup="/lookup/team-people/{team.pk}/" data-lookup-of="/lookup/team-people/0/"' in html
    assert 'data-lookup="/lookup/customer-sale-lines/0/" data-lookup-of="/lookup/customer-sale-lines/0/"' in html
    assert 'src="/static/js/ticket_form.js"' in html


def test_the_defaults_file_a_ticket_assigned_to_whoever_files_it(agent_client, member, ticket):
    response = agent_client.post(NEW, filing(ticket, assignee=member.pk))
    created = Ticket.objects.get(title="VPN drops every hour")
    assert response.status_code == 302
    assert (created.assignee, created.task, created.sale_line) == (member, None, None)


def test_a_manager_files_in_any_team_for_any_customer(manager_client, manager, ticket, other_ticket):
    other_team = other_ticket.team
    somebody = UserFactory(username="somebody", role="Agents")
    other_team.members.add(somebody)
    stranger = CustomerFactory(name="Brand new customer")
    assert manager_client.get(NEW).status_code == 200
    response = manager_client.post(NEW, filing(other_ticket, customer=stranger.pk, assignee=somebody.pk))
    created = Ticket.objects.get(title="VPN drops every hour")
    assert response.status_code == 302
    assert (created.team, created.customer, created.assignee) == (other_team, stranger, somebody)
    assert events(created)[0][1] == "manager"


def test_accountants_and_strangers_do_not_file_tickets(accountant_client, client, ticket):
    before = Ticket.objects.count()
    assert accountant_client.get(NEW).status_code == 403
    response = accountant_client.post(NEW, filing(ticket))
    assert response.status_code == 403
    assert "Only agents and managers file tickets." in response.content.decode()
    client.logout()
    assert client.get(NEW)["Location"] == f"{reverse('login')}?next={NEW}"
    assert Ticket.objects.count() == before


def test_an_agent_in_no_team_is_told_why_there_is_no_team_to_choose(client, ticket):
    loner = UserFactory(username="loner", role="Agents")
    html = signed_in(client, loner).get(NEW).content.decode()
    assert "You are in no Helpdesk Team yet: a manager adds you to one in the admin." in html
    assert client.post(NEW, filing(ticket)).status_code == 400


def refused(client, data) -> dict:
    """Post the form; assert it comes back (400) and files nothing; return its errors."""
    before = Ticket.objects.count()
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert Ticket.objects.count() == before
    assert AuditEvent.objects.filter(action="ticket.created").count() == 0
    return errors(response)


def test_another_teams_team_or_customer_is_no_choice(agent_client, member, ticket, outsider):
    theirs = TicketFactory(team=outsider.helpdesk_teams.get(), customer=CustomerFactory(name="Outsider's client"))
    assert refused(agent_client, filing(ticket, team=theirs.team_id)) == {
        "team": ["Choose one of the Helpdesk Teams you work in."]}
    assert refused(agent_client, filing(ticket, customer=theirs.customer_id)) == {
        "customer": ["Choose one of the customers in the list."]}


def test_an_outsider_is_no_assignee(agent_client, member, ticket, outsider):
    assert refused(agent_client, filing(ticket, assignee=outsider.pk)) == {
        "assignee": ["Choose yourself, a member of the team or a manager."]}


def test_a_teammate_of_another_of_ones_teams_is_refused_by_the_rules(agent_client, member, ticket):
    second = TeamFactory(name="Second line")
    second.members.add(member)
    colleague = UserFactory(username="colleague", role="Agents")
    second.members.add(colleague)
    assert refused(agent_client, filing(ticket, assignee=colleague.pk)) == {
        "assignee": [f"colleague is not in the team {ticket.team.name}: assign the ticket to one of its members."]}


def test_a_deactivated_teammate_is_no_assignee(agent_client, member, ticket, teammate):
    teammate.is_active = False
    teammate.save()
    assert refused(agent_client, filing(ticket, assignee=teammate.pk)) == {
        "assignee": ["Choose yourself, a member of the team or a manager."]}


def test_a_task_already_linked_to_a_ticket_is_refused(agent_client, member, ticket, task):
    ticket_link_task(ticket=ticket, task=task)
    assert refused(agent_client, filing(ticket, task=task.pk)) == {
        "task": ["Replace the fuser is already linked to another ticket."]}


def test_a_task_of_another_project_is_refused(agent_client, member, ticket):
    second = TeamFactory(name="Second line")
    second.members.add(member)
    elsewhere = TaskFactory(project=second.project, name="Elsewhere")
    assert refused(agent_client, filing(ticket, task=elsewhere.pk)) == {
        "task": [f"Choose a task of {ticket.team.project.name}, the team's project."]}
    unseen = TaskFactory(name="Not yours")  # a project of no team of the agent's
    assert refused(agent_client, filing(ticket, task=unseen.pk)) == {"task": ["Choose a task of the team's project."]}


def test_a_line_of_another_customer_or_a_quotation_is_refused(agent_client, member, ticket, line_a):
    globex = TicketFactory(team=ticket.team, customer=CustomerFactory(name="Globex")).customer
    globex_line = confirmed_line(order__customer=globex)
    assert refused(agent_client, filing(ticket, sale_line=globex_line.pk)) == {"sale_line": [
        f"{globex_line.order.name} belongs to Globex, not to {ticket.customer.name}: "
        "choose a line of this customer's order."]}
    quotation = SaleOrderLineFactory(order__customer=ticket.customer)
    assert refused(agent_client, filing(ticket, sale_line=quotation.pk)) == {"sale_line": [
        f"{quotation.order.name} is not a confirmed sales order: confirm it before billing time to it."]}
    foreign = confirmed_line()  # a customer the agent does not work for
    assert refused(agent_client, filing(ticket, sale_line=foreign.pk)) == {
        "sale_line": ["Choose a Sales Order Item of the customer's confirmed orders."]}


def test_a_title_is_required(agent_client, member, ticket):
    assert refused(agent_client, filing(ticket, title="   ")) == {"title": ["This field is required."]}
    assert refused(agent_client, filing(ticket, title="x" * 301)) == {
        "title": ["Ensure this value has at most 300 characters (it has 301)."]}


@pytest.mark.parametrize("name", ["team", "customer", "task", "sale_line", "assignee"])
@pytest.mark.parametrize("value", ["abc", "-1", "²", "9" * 30, "1.5", "0", "1 OR 1=1"])
def test_a_hostile_choice_is_a_form_error(agent_client, member, ticket, name, value):
    assert name in refused(agent_client, filing(ticket, **{name: value}))


@pytest.mark.parametrize("fields, field", [
    ({"title": "Printer\x00"}, "title"), ({"description": "a\x00b"}, "description"),
    ({"team": ""}, "team"), ({"customer": ""}, "customer"),
])
def test_hostile_text_and_missing_choices_are_form_errors(agent_client, member, ticket, fields, field):
    assert field in refused(agent_client, filing(ticket, **fields))


def test_markup_in_a_title_is_shown_as_text(agent_client, member, ticket):
    agent_client.post(NEW, filing(ticket, title="<script>alert(1)</script>"))
    created = Ticket.objects.get(title="<script>alert(1)</script>")
    html = agent_client.get(reverse("ticket_detail", args=[created.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- The lists of New ticket and Assign ------------------------------------------------------------------

def ask(client, kind, of=None, **params):
    response = client.get(lookup_url(kind, of), params)
    assert response.status_code == 200, response.content
    return [row["text"] for row in response.json()["results"]]


def test_the_lists_offer_the_agents_teams_customers_free_tasks_people_and_lines(
        agent_client, member, ticket, line_a, teammate, task, manager, outsider, accountant):
    ticket_link_task(ticket=ticket, task=TaskFactory(project=ticket.team.project, name="Already linked"))
    TicketFactory(team=outsider.helpdesk_teams.get(), customer=CustomerFactory(name="Outsider's client"))
    UserFactory(username="gone", role="Agents", is_active=False).helpdesk_teams.add(ticket.team)
    SaleOrderLineFactory(order__customer=ticket.customer)  # a quotation's line
    confirmed_line(order=line_a.order, name="Senior support")
    assert ask(agent_client, "new-ticket-teams") == [ticket.team.name]
    assert ask(agent_client, "new-ticket-customers") == [ticket.customer.name]
    assert ask(agent_client, "team-tasks", ticket.team) == ["Replace the fuser"]
    assert ask(agent_client, "team-people", ticket.team) == ["agent", "Jane Doe", "manager"]
    assert ask(agent_client, "team-people", ticket.team, q="doe") == ["Jane Doe"]
    assert ask(agent_client, "customer-sale-lines", ticket.customer) == [
        f"{line_a.order.name} · Service on Timesheet · 0.00 h delivered",
        f"{line_a.order.name} · Senior support · 0.00 h delivered"]
    # Another team's team or customer: 404; an accountant files no ticket: 403.
    other_team, other_customer = outsider.helpdesk_teams.get(), CustomerFactory(name="Nobody's")
    for kind, of in (("team-tasks", other_team), ("team-people", other_team),
                     ("customer-sale-lines", other_customer)):
        assert agent_client.get(lookup_url(kind, of)).status_code == 404, kind
    assert agent_client.get(reverse(url_name("team-people"), args=[0])).status_code == 404
    agent_client.force_login(accountant)
    for kind, of in (("new-ticket-teams", None), ("new-ticket-customers", None), ("team-tasks", ticket.team),
                     ("team-people", ticket.team), ("customer-sale-lines", ticket.customer)):
        assert agent_client.get(lookup_url(kind, of)).status_code == 403, kind


def test_each_list_offers_nothing_the_form_refuses(member, manager, ticket, line_a, teammate, task, outsider):
    """The fixed lists are the fields' querysets; the dependent ones, the rows of the chosen team or customer
    that the rules accept, which the wider fields (what the user sees) hold too."""
    TicketFactory(team=outsider.helpdesk_teams.get(), customer=CustomerFactory(name="Outsider's client"))
    UserFactory(username="books", role="Accountants")
    for user in (member, manager):
        form = NewTicketForm(user=user)
        assert set(KINDS["new-ticket-teams"].rows(user=user)) == set(form.fields["team"].queryset)
        assert set(KINDS["new-ticket-customers"].rows(user=user)) == set(form.fields["customer"].queryset)
        tasks = set(KINDS["team-tasks"].rows(user=user, of=ticket.team))
        assert tasks == {task} and tasks <= set(form.fields["task"].queryset)
        people = set(KINDS["team-people"].rows(user=user, of=ticket.team))
        assert people == {member, teammate, manager} and people <= set(form.fields["assignee"].queryset)
        lines = set(KINDS["customer-sale-lines"].rows(user=user, of=ticket.customer))
        assert lines == {line_a} and lines <= set(form.fields["sale_line"].queryset)
    assign = AssignForm(ticket=ticket)
    assert set(KINDS["team-people"].rows(user=member, of=ticket.team)) == set(assign.fields["assignee"].queryset)


# --- Assignment --------------------------------------------------------------------------------------------

def test_an_agent_assigns_a_ticket_to_a_teammate_then_to_themselves_then_nobody(agent_client, member, ticket,
                                                                               teammate):
    address = reverse("ticket_assign", args=[ticket.pk])
    page = agent_client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert f'action="{address}" class="inline" id="assign-me"' in page
    assert f'<input type="hidden" name="assignee" value="{member.pk}"><button class="btn small" type="submit">' \
           "Assign to me</button>" in page
    assert 'data-lookup="/lookup/team-people/%d/"' % ticket.team_id in page

    response = agent_client.post(address, {"assignee": teammate.pk}, follow=True)
    assert messages_of(response) == [f"{ticket} is assigned to Jane Doe."]
    response = agent_client.post(address, {"assignee": member.pk}, follow=True)
    assert messages_of(response) == [f"{ticket} is assigned to agent."]
    assert 'id="assign-me"' not in response.content.decode()  # already theirs
    response = agent_client.post(address, {"assignee": ""}, follow=True)
    assert messages_of(response) == [f"{ticket} is assigned to nobody."]
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert events(ticket) == [("ticket.assigned", "agent", {"assignee": [None, "jdoe"]}),
                              ("ticket.assigned", "agent", {"assignee": ["jdoe", "agent"]}),
                              ("ticket.assigned", "agent", {"assignee": ["agent", None]})]


def test_the_assign_select_shows_the_assignee_without_a_query_of_its_own(agent_client, member, ticket, teammate):
    ticket.assignee = teammate
    ticket.save()
    html = agent_client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert f'<option value="{teammate.pk}" selected>Jane Doe</option>' in html


def test_an_outsider_or_a_stranger_is_no_assignee(agent_client, member, ticket, outsider):
    address = reverse("ticket_assign", args=[ticket.pk])
    for value in (outsider.pk, "abc", "9" * 30, UserFactory(username="books", role="Accountants").pk):
        response = agent_client.post(address, {"assignee": value}, follow=True)
        assert messages_of(response) == [f"Choose a member of {ticket.team.name}, a manager or nobody."]
    ticket.refresh_from_db()
    assert ticket.assignee is None and events(ticket) == []


def test_assigning_is_for_the_tickets_workers(client, accountant_client, ticket, outsider, accountant):
    address = reverse("ticket_assign", args=[ticket.pk])
    assert accountant_client.post(address, {"assignee": ""}).status_code == 403
    assert 'id="assign"' not in accountant_client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert signed_in(client, outsider).post(address, {"assignee": outsider.pk}).status_code == 404
    assert client.get(address).status_code == 405


def test_a_manager_assigns_anyone_of_the_team_or_themselves(manager_client, manager, ticket, teammate):
    address = reverse("ticket_assign", args=[ticket.pk])
    assert manager_client.post(address, {"assignee": teammate.pk}).status_code == 302
    assert manager_client.post(address, {"assignee": manager.pk}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == manager
    assert [actor for _, actor, _ in events(ticket)] == ["manager", "manager"]


# --- Status changes and the History ------------------------------------------------------------------------

def test_status_changes_say_who_and_when_in_the_history(agent_client, member, ticket, teammate, task):
    response = agent_client.post(NEW, filing(ticket, title="Scanner offline", assignee=member.pk))
    created = Ticket.objects.get(title="Scanner offline")
    agent_client.post(reverse("ticket_status", args=[created.pk]), {"status": "in_progress"})
    agent_client.post(reverse("ticket_assign", args=[created.pk]), {"assignee": teammate.pk})
    agent_client.post(reverse("ticket_status", args=[created.pk]), {"status": "solved"})
    agent_client.post(reverse("ticket_status", args=[created.pk]), {"status": "solved"})  # no change: no line

    response = agent_client.get(reverse("ticket_detail", args=[created.pk]))
    html = response.content.decode()
    history = html[html.index('<div class="card flush" id="history">'):]
    rows = [(event.actor_name, event.sentence) for event in response.context["events"]]
    assert rows == [("agent", f"Ticket created in {ticket.team.name} for {ticket.customer.name}, assigned to agent"),
                    ("agent", "Status changed from New to In Progress"),
                    ("agent", "Assigned to jdoe (was agent)"),
                    ("agent", "Status changed from In Progress to Solved")]
    for actor, sentence in rows:
        assert f"<td>{actor}</td>\n        <td>{sentence}</td>" in history
    when = localtime(response.context["events"][0].at).strftime("%Y-%m-%d %H:%M")
    assert f'<td class="date">{when}</td>\n        <td>agent</td>\n        <td>Ticket created in' in history


def test_a_ticket_without_events_says_so(agent_client, ticket):
    html = agent_client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert '<td colspan="3" class="empty">Nothing recorded yet.</td>' in html


# --- The Tickets list --------------------------------------------------------------------------------------

def test_the_list_offers_new_ticket_to_those_who_file_them(client, member, manager, accountant, ticket):
    button = f'<a class="btn primary" href="{NEW}" id="new-ticket">New ticket</a>'
    for user, offered in ((member, True), (manager, True), (accountant, False)):
        assert (button in signed_in(client, user).get(reverse("ticket_list")).content.decode()) is offered, user


def test_the_time_spent_column_is_named_for_what_it_shows(agent_client, ticket):
    html = agent_client.get(reverse("ticket_list")).content.decode()
    assert '<th class="num">Time spent</th>' in html and "Hours spent" not in html
    assert '<td class="num" data-col="time">0:00</td>' in html


def listed(response) -> list[str]:
    return [ticket.title for ticket in response.context["page_obj"]]


def test_the_list_filters_by_sales_order_and_shows_it(accountant_client, ticket, line_a, other_ticket):
    second_line = confirmed_line(order=line_a.order, name="Senior support")
    on_second = TicketFactory(team=other_ticket.team, customer=ticket.customer, sale_line=second_line,
                              title="Senior on it")
    elsewhere = confirmed_line()
    TicketFactory(customer=elsewhere.order.customer, sale_line=elsewhere, title="Elsewhere")
    order = line_a.order

    response = accountant_client.get(reverse("ticket_list"), {"order": order.pk})
    assert listed(response) == [on_second.title, ticket.title]
    html = response.content.decode()
    assert f'<span class="chip">Sales order {order.name}' in html
    assert f'<a href="{reverse("ticket_list")}" aria-label="Show the tickets of every sales order"' in html
    assert f'<input type="hidden" name="order" value="{order.pk}" id="id_order">' in html
    # With another filter, the chip's × keeps it.
    response = accountant_client.get(reverse("ticket_list"), {"order": order.pk, "status": "new", "q": "senior"})
    assert listed(response) == [on_second.title]
    assert f'href="{reverse("ticket_list")}?status=new&amp;q=senior"' in response.content.decode()
    # An order none of the tickets bill: none listed, the chip says which.
    empty = confirmed_line().order
    response = accountant_client.get(reverse("ticket_list"), {"order": empty.pk})
    assert listed(response) == [] and f"Sales order {empty.name}" in response.content.decode()


@pytest.mark.parametrize("value", ["abc", "-1", "²", "9" * 30, "1.5", "999999"])
def test_an_unknown_order_is_a_message_not_an_error(manager_client, ticket, value):
    response = manager_client.get(reverse("ticket_list"), {"order": value})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "order": ["That sales order is not one you can see: the list shows every ticket."]}
    assert "That sales order is not one you can see" in response.content.decode()
    assert listed(response) == [ticket.title]


def test_an_agent_filters_by_their_teams_orders_only(agent_client, member, ticket, line_a, outsider):
    theirs = confirmed_line()
    TicketFactory(team=outsider.helpdesk_teams.get(), customer=theirs.order.customer, sale_line=theirs)
    assert listed(agent_client.get(reverse("ticket_list"), {"order": line_a.order_id})) == [ticket.title]
    response = agent_client.get(reverse("ticket_list"), {"order": theirs.order_id})
    assert "order" in response.context["form"].errors
    assert theirs.order.name not in response.content.decode()


def test_the_demo_tickets_have_a_history(client, django_user_model):
    from io import StringIO

    from django.core.management import call_command

    call_command("load_demo", stdout=StringIO())
    printers = Ticket.objects.get(title="Printers on the 3rd floor print blank pages")
    assert [(event.actor_name, event.sentence) for event in audit_events_for(obj=printers)] == [
        ("agent", "Ticket created in Customer Care for Acme Corporation, assigned to agent"),
        ("agent", "Status changed from New to In Progress"),
        # Issue 18: Acme's contact asked on the portal, the agent answered.
        ("contact@acme.example", "Message from the customer"), ("agent", "Message from the support team")]
    assert not AuditEvent.objects.filter(object_type="tickets.ticket", actor=None).exists()
    html = signed_in(client, django_user_model.objects.get(username="agent")).get(
        reverse("ticket_detail", args=[printers.pk])).content.decode()
    assert "<td>agent</td>\n        <td>Status changed from New to In Progress</td>" in html
