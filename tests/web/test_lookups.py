"""Issue 16, point 2: the searchable selects. A page holds the chosen option only; /lookup/<kind>/ answers the
others, 20 a page, from the very queryset the field validates against, limited to what the user may see."""

import re

import pytest
from django.urls import reverse

from web.forms.approval import ApprovalFilter
from web.forms.orders import QuotationForm
from web.forms.runs import ToInvoiceFilter
from web.forms.tickets import SaleLineForm, TicketFilterForm
from web.lookups import KINDS, lookup_url, url_name

from ..factories import (
    CustomerFactory,
    SaleOrderLineFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    confirmed_line,
)
from .conftest import signed_in


def ask(client, kind, of=None, **params):
    response = client.get(lookup_url(kind, of), params)
    assert response.status_code == 200, response.content
    return response.json()


def texts(answer) -> list[str]:
    return [row["text"] for row in answer["results"]]


def options(html: str) -> int:
    return html.count("<option")


# --- The endpoint ----------------------------------------------------------------------------------------

def test_customers_come_20_a_page_in_name_order_and_are_searched(manager_client, ticket):
    for n in range(24):
        TicketFactory(team=ticket.team, customer=CustomerFactory(name=f"Globex {n:02}"))
    first = ask(manager_client, "ticket-customers", q="GLOBEX")
    assert texts(first) == [f"Globex {n:02}" for n in range(20)]
    assert first["more"] is True
    second = ask(manager_client, "ticket-customers", q="globex", page=2)
    assert texts(second) == ["Globex 20", "Globex 21", "Globex 22", "Globex 23"]
    assert second["more"] is False
    assert ask(manager_client, "ticket-customers", q="globex", page=3) == {"results": [], "more": False}
    everyone = ask(manager_client, "ticket-customers")
    assert everyone["results"][0] == {"id": str(ticket.customer.pk), "text": ticket.customer.name}  # "Customer n"
    assert ask(manager_client, "ticket-customers", q="  obex 07 ")["results"] == [
        {"id": str(ticket.team.tickets.get(customer__name="Globex 07").customer.pk), "text": "Globex 07"}]


def test_a_person_is_listed_by_name_and_found_by_username_or_name(manager_client, ticket):
    ticket.assignee = UserFactory(username="jdoe", first_name="Jane", last_name="Doe", role="Agents")
    ticket.save()
    assert texts(ask(manager_client, "ticket-assignees", q="jdo")) == ["Jane Doe"]
    assert texts(ask(manager_client, "ticket-assignees", q="doe")) == ["Jane Doe"]
    assert texts(ask(manager_client, "ticket-assignees", q="nobody")) == []


@pytest.mark.parametrize("params", [
    {"page": "abc"}, {"page": "0"}, {"page": "-1"}, {"page": "²"}, {"page": "1e3"}, {"page": "10001"},
    {"page": "9" * 40}, {"q": "x" * 301}, {"q": "a\x00b"},
])
def test_hostile_questions_get_400(manager_client, ticket, params):
    response = manager_client.get(lookup_url("ticket-customers"), params)
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize("q", ["%", "_", "'; DROP TABLE sales_customer; --", "\\", "💥", "x" * 300])
def test_odd_searches_are_plain_text(manager_client, ticket, q):
    assert ask(manager_client, "ticket-customers", q=q) == {"results": [], "more": False}


def test_a_dependent_list_needs_an_object_the_user_sees(agent_client, ticket, outsider, client):
    assert texts(ask(agent_client, "ticket-sale-lines", ticket)) == [
        f"{ticket.sale_line.order.name} · Service on Timesheet · 0.00 h delivered"]
    other = TicketFactory(title="Not yours")
    assert agent_client.get(lookup_url("ticket-sale-lines", other)).status_code == 404
    assert agent_client.get(reverse(url_name("ticket-sale-lines"), args=[2**63 - 1])).status_code == 404
    assert signed_in(client, outsider).get(lookup_url("ticket-sale-lines", ticket)).status_code == 404


def test_each_list_is_no_wider_than_its_screen(client, agent, accountant, ticket, member):
    agent_client = signed_in(client, agent)
    for kind in ("approval-teams", "approval-agents", "approval-customers", "to-invoice-customers",
                 "to-invoice-teams", "quotation-customers", "quotation-accountants"):
        assert agent_client.get(lookup_url(kind)).status_code == 403, kind
    # An accountant does not work tickets: no Sales Order Item to choose.
    assert signed_in(client, accountant).get(lookup_url("ticket-sale-lines", ticket)).status_code == 403
    client.logout()
    assert client.get(lookup_url("ticket-customers"))["Location"].startswith(reverse("login"))


def test_an_agent_never_sees_another_teams_customers_lines_or_people(client, ticket, member, outsider):
    theirs = TicketFactory(team=outsider.helpdesk_teams.get(), customer=CustomerFactory(name="Outsider's client"),
                           assignee=outsider)
    confirmed_line(order__customer=theirs.customer, name="Outsider's line")
    signed_in(client, member)
    answers = [ask(client, kind, q=q) for kind in ("ticket-customers", "ticket-teams", "ticket-assignees",
                                                   "report-customers", "report-teams", "report-agents",
                                                   "report-orders", "report-tickets") for q in ("", "outsider")]
    shown = " ".join(" ".join(texts(answer)) for answer in answers)
    assert "Outsider" not in shown and "Other team" not in shown and "outsider" not in shown
    assert ticket.customer.name in shown
    assert texts(ask(client, "report-agents")) == ["agent"]  # an agent's report is their own time
    assert ask(client, "report-orders") == {"results": [], "more": False}


def test_each_kind_lists_exactly_what_its_field_accepts(manager, member, ticket, outsider):
    """The lookup's rows are the field's queryset: nothing offered is refused, nothing accepted is hidden."""
    TicketFactory(team=outsider.helpdesk_teams.get(), assignee=outsider)
    SaleOrderLineFactory(order__customer=ticket.customer)  # a quotation's line: not billable
    UserFactory(username="books", role="Accountants")
    UserFactory(username="gone", role="Accountants", is_active=False)
    from tickets.selectors import tickets_for

    def same(kind, field, user, of=None):
        rows = KINDS[kind].rows(user=user, of=of) if of else KINDS[kind].rows(user=user)
        assert set(rows) == set(field.queryset), kind

    for user in (member, manager):
        tickets = TicketFilterForm(tickets=tickets_for(user=user))
        for name in ("team", "customer", "assignee"):
            same(f"ticket-{name}s", tickets.fields[name], user)
    same("ticket-sale-lines", SaleLineForm(ticket=ticket).fields["sale_line"], member, ticket)
    approval, runs, quotation = ApprovalFilter(), ToInvoiceFilter(), QuotationForm()
    for name in ("team", "agent", "customer"):
        same(f"approval-{name}s", approval.fields[name], manager)
    for name in ("customer", "team"):
        same(f"to-invoice-{name}s", runs.fields[name], manager)
    same("quotation-customers", quotation.fields["customer"], manager)
    same("quotation-accountants", quotation.fields["accountant"], manager)
    assert [user.username for user in quotation.fields["accountant"].queryset] == ["books"]


# --- The forms: any allowed id is valid, though not on the page ---------------------------------------------

def test_the_ticket_list_filters_by_a_customer_not_on_the_page(agent_client, ticket, member):
    other = TicketFactory(team=ticket.team, customer=CustomerFactory(name="Initech"), title="Fax is down")
    html = agent_client.get(reverse("ticket_list")).content.decode()
    assert "Initech" in html  # in the rows, not among the options
    # The select holds its empty option only; its data-text-* say the script's words in the page's language.
    assert re.search(r'<select name="customer" id="id_customer" data-lookup="/lookup/ticket-customers/"'
                     r' data-text-more="More…" data-text-none="No match" data-text-search="Type to search">\s*'
                     r'<option value="" selected>All customers</option>\s*</select>', html)
    listed = agent_client.get(reverse("ticket_list"), {"customer": other.customer.pk})
    assert [t.pk for t in listed.context["page_obj"]] == [other.pk]
    assert f'<option value="{other.customer.pk}" selected>Initech</option>' in listed.content.decode()
    assert options(listed.content.decode()) == options(html) + 1


def test_a_sales_order_item_not_on_the_page_can_be_saved(agent_client, ticket):
    second = confirmed_line(order__customer=ticket.customer, name="Second block")
    html = agent_client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert "Second block" not in html
    response = agent_client.post(reverse("ticket_sale_line", args=[ticket.pk]), {"sale_line": second.pk})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.sale_line == second
    # Another customer's line is refused, as before.
    foreign = confirmed_line()
    agent_client.post(reverse("ticket_sale_line", args=[ticket.pk]), {"sale_line": foreign.pk})
    ticket.refresh_from_db()
    assert ticket.sale_line == second


@pytest.mark.parametrize("value", ["abc", "-1", "²", "9" * 30, "1.5"])
def test_a_hostile_choice_is_a_form_error_not_a_500(agent_client, ticket, value):
    assert agent_client.get(reverse("ticket_list"), {"customer": value}).status_code == 200
    response = agent_client.post(reverse("ticket_sale_line", args=[ticket.pk]), {"sale_line": value})
    assert response.status_code == 302


# --- Pages that do not grow ----------------------------------------------------------------------------------

def grow(n, team, product):
    """n more customers, each with a confirmed order and line (of `product`: the catalog stays as it is), a
    ticket of `team` and an agent assigned, and n more teams."""
    for k in range(n):
        line = confirmed_line(order__customer=CustomerFactory(name=f"Grown customer {k:02}"), product=product)
        agent = UserFactory(username=f"grown{k:02}", role="Agents")
        team.members.add(agent)
        TicketFactory(team=team, customer=line.order.customer, sale_line=line, assignee=agent, title=f"Grown {k:02}")
        TeamFactory(name=f"Grown team {k:02}")


def form_of(html: str, marker: str) -> str:
    """The <form> of the page that holds `marker`."""
    start = html.rindex("<form", 0, html.index(marker))
    return html[start:html.index("</form>", start)]


PAGES = [  # (the page, the part of it that must not grow: the filter form, or all of it)
    (lambda ticket: reverse("ticket_list"), 'role="search"'),
    (lambda ticket: reverse("ticket_detail", args=[ticket.pk]), None),
    (lambda ticket: reverse("order_detail", args=[ticket.sale_line.order_id]), None),
    (lambda ticket: reverse("quotation_create"), None),
    (lambda ticket: reverse("report_time"), 'id="report-form"'),
    (lambda ticket: reverse("report_unbilled"), 'id="report-form"'),
    (lambda ticket: reverse("to_approve"), 'id="approval-filters"'),
    (lambda ticket: reverse("to_invoice"), 'id="to-invoice-filters"'),
]


def test_no_page_grows_with_the_customers_agents_orders_and_lines(manager_client, ticket, manager):
    ticket.team.members.add(manager)

    def sizes():
        found = []
        for address, part in PAGES:
            html = manager_client.get(address(ticket)).content.decode()
            html = form_of(html, part) if part else html
            found.append((address(ticket), len(html), options(html)))
        return found

    few = sizes()
    grow(30, ticket.team, ticket.sale_line.product)
    assert sizes() == few
