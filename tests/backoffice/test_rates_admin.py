"""Work types, rounding per ticket and rates in the admin (DESIGN Rules 13 and 14): managers set them up,
the services save them, the time follows and the audit log says who changed what.
"""

from decimal import Decimal

import pytest
from django.test import Client

from audit.models import AuditEvent
from invoicing.services import invoice_create_from_order
from sales.models import AgentRate, Product, WorkType, WorkTypeRate
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log

from ..factories import (
    ProductFactory,
    SaleOrderLineFactory,
    TicketFactory,
    UserFactory,
    confirmed_line,
    days_ago,
)
from .test_admin import extra_row, form_data, page_errors, url


def rate_inlines(response) -> dict:
    """Return {verbose_name_plural: inline admin formset} of an order's change page."""
    return {str(inline.opts.verbose_name_plural): inline for inline in response.context["inline_admin_formsets"]}


def refresh(*objects) -> None:
    for obj in objects:
        obj.refresh_from_db()


# --- Work types -------------------------------------------------------------------------

def test_a_manager_adds_a_work_type_and_switching_its_billing_moves_its_unbilled_time(manager_client, manager,
                                                                                        agent, ticket, line_a):
    response = manager_client.post(url(WorkType, "add"), {"name": "Internal", "billing": "non_billable",
                                                          "_save": "Save"})
    assert response.status_code == 302, page_errors(response)
    internal = WorkType.objects.get(name="Internal")
    entry = timesheet_log(user=agent, ticket=ticket, date=days_ago(1), minutes=45, work_type=internal)
    timesheet_log(user=agent, ticket=ticket, date=days_ago(1), minutes=60)
    line_a.refresh_from_db()
    assert (entry.sale_line, entry.billable_minutes, line_a.delivered) == (None, 0, Decimal("1.00"))
    listed = manager_client.get(url(WorkType, "changelist"))
    assert [(w.name, w.billing) for w in listed.context["cl"].result_list] == [("Internal", "non_billable")]

    response = manager_client.post(url(internal), {"name": "Internal", "billing": "billable", "_save": "Save"})

    assert response.status_code == 302, page_errors(response)
    entry.refresh_from_db()
    line_a.refresh_from_db()
    assert (entry.sale_line, entry.billable_minutes, line_a.delivered) == (line_a, 45, Decimal("1.75"))
    event = AuditEvent.objects.get(action=AuditEvent.Action.WORK_TYPE_CHANGED)
    assert (event.actor, event.changes) == (manager, {"billing": ["non_billable", "billable"]})


def test_a_work_type_named_twice_is_a_form_error(manager_client):
    WorkType.objects.create(name="On-site")
    response = manager_client.post(url(WorkType, "add"), {"name": "On-site", "billing": "billable", "_save": "Save"})
    assert response.status_code == 200
    assert page_errors(response) == ["Work type with this Name already exists."]
    assert WorkType.objects.count() == 1


def test_the_team_form_sets_the_default_work_type(manager_client, agent, ticket, line_a):
    remote = WorkType.objects.create(name="Remote support")
    team = ticket.team
    data = form_data(manager_client.get(url(team)))
    data["default_work_type"] = str(remote.pk)
    response = manager_client.post(url(team), data)
    assert response.status_code == 302, page_errors(response)
    team.refresh_from_db()
    assert team.default_work_type == remote
    assert timesheet_log(user=agent, ticket=ticket, date=days_ago(0), minutes=30).work_type == remote


# --- Rounding per ticket with a minimum ------------------------------------------------------

def test_a_product_set_per_ticket_with_a_minimum_recounts_and_invoices_per_ticket(manager_client, manager, agent):
    product = ProductFactory(name="Support, 15-min blocks", billing_increment_minutes=15)
    line = confirmed_line(product=product, price_unit=Decimal("60.00"))
    first = TicketFactory(customer=line.order.customer, sale_line=line)
    second = TicketFactory(team=first.team, customer=line.order.customer, sale_line=line)
    for ticket, minutes in ((first, 10), (second, 20), (second, 20)):
        timesheet_log(user=agent, ticket=ticket, date=days_ago(1), minutes=minutes)
    line.refresh_from_db()
    assert line.delivered == Decimal("1.25")  # per entry: 15 + 30 + 30

    data = form_data(manager_client.get(url(product)))
    data.update({"rounding": "ticket", "billing_increment_minutes": "15", "minimum_minutes": "30"})
    response = manager_client.post(url(product), data)

    assert response.status_code == 302, page_errors(response)
    product.refresh_from_db()
    assert (product.rounding, product.billing_increment_minutes, product.minimum_minutes) == ("ticket", 15, 30)
    line.refresh_from_db()
    assert line.delivered == Decimal("0.83")  # per ticket: the 50 minutes as logged, rounded on the invoice
    event = AuditEvent.objects.get(action=AuditEvent.Action.PRODUCT_RULE_CHANGED)
    assert (event.actor, event.changes) == (manager, {"rounding": ["entry", "ticket"], "minimum_minutes": [0, 30]})
    listed = manager_client.get(url(Product, "changelist")).content.decode()
    assert "Per ticket" in listed

    # Create Invoice: the first ticket's 0:10 is raised to the 0:30 minimum, the second's 0:40 rounded to 0:45.
    invoice = invoice_create_from_order(order=line.order, actor=manager)
    inv_line = invoice.lines.get()
    assert (inv_line.minutes, inv_line.quantity, inv_line.amount_untaxed) == (75, Decimal("1.25"), Decimal("75.00"))
    explanation = "3 entries, 0:50 worked → 1:15 billed: per ticket, 15-min increment, 30-min minimum"
    assert inv_line.explanation == explanation
    page = manager_client.get(url(invoice))
    assert page.status_code == 200
    assert explanation in page.content.decode()


def test_a_minimum_below_zero_is_a_form_error(manager_client):
    product = ProductFactory()
    data = form_data(manager_client.get(url(product)))
    data["minimum_minutes"] = "-5"
    response = manager_client.post(url(product), data)
    assert response.status_code == 200
    assert page_errors(response) == ["Ensure this value is greater than or equal to 0."]
    assert Product.objects.get(pk=product.pk).minimum_minutes == 0


# --- Rates on the sales order -----------------------------------------------------------------

@pytest.fixture
def senior(line_a):
    """A "Senior support" line at 120.00 on line A's order."""
    return SaleOrderLineFactory(order=line_a.order, product=ProductFactory(name="Senior support"),
                                price_unit=Decimal("120.00"))


def test_rate_rows_offer_this_orders_timesheet_lines_and_the_agents(manager_client, agent, manager, line_a, senior):
    SaleOrderLineFactory(order=line_a.order, product=ProductFactory(name="Setup", service_policy="delivered_manual"))
    confirmed_line(order__customer=line_a.order.customer)  # another order of the same customer
    onsite = WorkType.objects.create(name="On-site")
    inlines = rate_inlines(manager_client.get(url(line_a.order)))
    agents, types = inlines["Rates by agent"].formset.form.base_fields, \
        inlines["Rates by work type"].formset.form.base_fields
    assert list(agents["sale_line"].queryset) == list(types["sale_line"].queryset) == [line_a, senior]
    assert list(agents["user"].queryset) == [agent]
    assert list(types["work_type"].queryset) == [onsite]


def test_an_agent_rate_added_in_the_admin_moves_the_agents_unbilled_time_once(manager_client, manager, agent,
                                                                              ticket, line_a, senior, monkeypatch):
    other = UserFactory(username="other", role="Agents")
    timesheet_log(user=agent, ticket=ticket, date=days_ago(3), minutes=30)
    invoice_create_from_order(order=line_a.order)  # the agent's first 0:30 is billed on line A: it stays
    free = [timesheet_log(user=agent, ticket=ticket, date=days_ago(2), minutes=m) for m in (45, 15)]
    pinned = timesheet_log(user=agent, ticket=ticket, date=days_ago(1), minutes=20, sale_line=line_a)
    timesheet_log(user=other, ticket=ticket, date=days_ago(1), minutes=60)
    onsite = WorkType.objects.create(name="On-site")
    refresh(line_a, senior)
    assert (line_a.delivered, senior.delivered) == (Decimal("2.83"), Decimal("0.00"))

    moves = []
    from timesheets import relinks
    follow = relinks.timesheets_follow_order
    monkeypatch.setattr(relinks, "timesheets_follow_order", lambda *, order: moves.append(order.pk) or follow(
        order=order))
    data = form_data(manager_client.get(url(line_a.order)))
    data.update({f"{extra_row(data, 'agent_rates')}-user": str(agent.pk),
                 f"{extra_row(data, 'agent_rates')}-sale_line": str(senior.pk),
                 f"{extra_row(data, 'work_type_rates')}-work_type": str(onsite.pk),
                 f"{extra_row(data, 'work_type_rates')}-sale_line": str(senior.pk)})
    response = manager_client.post(url(line_a.order), data)

    assert response.status_code == 302, page_errors(response)
    assert moves == [line_a.order.pk]  # two rows written, the time moved once
    assert list(AgentRate.objects.values_list("user", "sale_line")) == [(agent.pk, senior.pk)]
    assert list(WorkTypeRate.objects.values_list("work_type", "sale_line")) == [(onsite.pk, senior.pk)]
    # 0:45 + 0:15 of the agent's unbilled time moved; the billed 0:30, the hand-set 0:20 and the other's 1:00 stay.
    refresh(line_a, senior)
    assert (line_a.delivered, line_a.invoiced, senior.delivered) == (Decimal("1.83"), Decimal("0.50"),
                                                                     Decimal("1.00"))
    assert set(TimeEntry.objects.filter(sale_line=senior).values_list("pk", flat=True)) == {e.pk for e in free}
    assert TimeEntry.objects.get(pk=pinned.pk).sale_line == line_a
    event = AuditEvent.objects.get(action=AuditEvent.Action.ORDER_RATES_CHANGED)
    assert (event.actor, event.changes) == (manager, {
        "agent_rates": [[], [f"user {agent.pk} → line {senior.pk}"]],
        "work_type_rates": [[], [f"work_type {onsite.pk} → line {senior.pk}"]]})

    # Deleting the row moves the time back, once more.
    data = form_data(manager_client.get(url(line_a.order)))
    data["agent_rates-0-DELETE"] = "on"
    response = manager_client.post(url(line_a.order), data)
    assert response.status_code == 302, page_errors(response)
    assert moves == [line_a.order.pk] * 2
    refresh(line_a, senior)
    assert (line_a.delivered, senior.delivered) == (Decimal("2.83"), Decimal("0.00"))
    assert not AgentRate.objects.exists() and WorkTypeRate.objects.count() == 1


def test_saving_the_order_without_touching_its_rates_moves_nothing(manager_client, agent, line_a, senior,
                                                                   monkeypatch):
    AgentRate.objects.create(order=line_a.order, user=agent, sale_line=senior)
    from timesheets import relinks
    monkeypatch.setattr(relinks, "timesheets_follow_order", lambda *, order: pytest.fail("time moved"))
    response = manager_client.post(url(line_a.order), form_data(manager_client.get(url(line_a.order))))
    assert response.status_code == 302, page_errors(response)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ORDER_RATES_CHANGED).exists()


def test_a_line_of_another_order_is_refused_on_the_row(manager_client, agent, line_a, senior):
    stranger = confirmed_line()
    data = form_data(manager_client.get(url(line_a.order)))
    data.update({f"{extra_row(data, 'agent_rates')}-user": str(agent.pk),
                 f"{extra_row(data, 'agent_rates')}-sale_line": str(stranger.pk)})
    response = manager_client.post(url(line_a.order), data)
    assert response.status_code == 200
    assert page_errors(response) == ["Select a valid choice. That choice is not one of the available choices."]
    assert not AgentRate.objects.exists()


def test_a_cancelled_order_shows_its_rates_read_only(manager_client, agent, line_a, senior):
    AgentRate.objects.create(order=line_a.order, user=agent, sale_line=senior)
    type(line_a.order).objects.filter(pk=line_a.order.pk).update(state="cancel")
    inline = rate_inlines(manager_client.get(url(line_a.order)))["Rates by agent"]
    assert not (inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission)


# --- Who may ---------------------------------------------------------------------------------

def test_an_agent_cannot_reach_work_types_products_or_rates(world, lead_client):
    product, order = world.a.line.product, world.a.order
    onsite = WorkType.objects.create(name="On-site")
    agent = Client()
    agent.force_login(world.users["agent_a"])
    for address in (url(WorkType, "changelist"), url(WorkType, "add"), url(onsite), url(product), url(order)):
        response = agent.get(address)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), address
    assert agent.post(url(WorkType, "add"), {"name": "Free", "billing": "no_charge"}).status_code == 302

    # A team lead (an agent who is staff) reads work types and products, changes neither, and sees no rates.
    assert lead_client.get(url(WorkType, "add")).status_code == 403
    assert lead_client.post(url(onsite), {"name": "On-site", "billing": "no_charge"}).status_code == 403
    assert lead_client.post(url(product), {"name": product.name, "rounding": "ticket"}).status_code == 403
    assert set(rate_inlines(lead_client.get(url(order)))) == {"Order Lines", "invoices"}
    data = {"agent_rates-TOTAL_FORMS": "1", "agent_rates-INITIAL_FORMS": "0",
            "agent_rates-0-user": str(world.users["lead_a"].pk), "agent_rates-0-sale_line": str(world.a.line.pk)}
    lead_client.post(url(order), data)
    assert WorkType.objects.get(pk=onsite.pk).billing == "billable"
    assert not AgentRate.objects.exists() and not Product.objects.filter(rounding="ticket").exists()


def test_the_accountant_sets_rates_but_not_work_types(world):
    accountant = Client()
    accountant.force_login(world.users["accountant"])
    assert accountant.get(url(WorkType, "add")).status_code == 403
    inlines = rate_inlines(accountant.get(url(world.a.order)))
    assert inlines["Rates by agent"].has_add_permission


def test_the_invoice_admin_shows_each_lines_explanation(manager_client, agent, ticket, line_a):
    timesheet_log(user=agent, ticket=ticket, date=days_ago(1), minutes=90)
    invoice = invoice_create_from_order(order=line_a.order)
    page = manager_client.get(url(invoice)).content.decode()
    assert "1 entry, 1:30 worked → 1:30 billed" in page


def test_time_logged_in_the_admin_takes_a_work_type_and_bills_as_it_says(manager_client, agent, ticket, line_a):
    internal = WorkType.objects.create(name="Internal", billing=WorkType.Billing.NON_BILLABLE)
    goodwill = WorkType.objects.create(name="Goodwill", billing=WorkType.Billing.NO_CHARGE)
    add = url(TimeEntry, "add")
    for work_type in (internal, goodwill):
        response = manager_client.post(add, {
            "ticket": ticket.pk, "task": "", "user": agent.pk, "date": days_ago(0).isoformat(), "minutes": "45m",
            "description": work_type.name, "work_type": work_type.pk, "sale_line": "", "_save": "Save"})
        assert response.status_code == 302
    placed = {e.description: (e.sale_line_id, e.billable_minutes) for e in TimeEntry.objects.all()}
    assert placed == {"Internal": (None, 0), "Goodwill": (line_a.pk, 0)}
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 0
    changelist = manager_client.get(url(TimeEntry, "changelist"), {"work_type__id__exact": goodwill.pk})
    assert [e.description for e in changelist.context["cl"].result_list] == ["Goodwill"]
