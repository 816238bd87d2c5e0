"""Work types, rates by agent and by work type (DESIGN Rule 13) and rounding per ticket (Rule 14) through
the API: /work-types/, the time entries' `work_type`, an order's rates, products' rounding, the invoice
lines' explanation and charges, and Create Invoice's preview. Exact figures, refusals, flat queries."""

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from invoicing.models import Invoice
from invoicing.services import invoice_create_from_order
from sales.models import AgentRate, Product, Rounding, WorkType
from timesheets.models import TimeEntry
from timesheets.rates import order_rates_set
from timesheets.services import timesheet_log

from ..factories import (
    ProductFactory,
    SaleOrderLineFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    confirmed_line,
    days_ago,
)
from .conftest import API, client_for, log

MANAGERS_ONLY = {"detail": "Only managers change the configuration."}
SELLERS_ONLY = {"detail": "Only accountants and managers change sales orders."}
INVOICERS_ONLY = {"detail": "Only accountants and managers create, post, cancel and credit invoices."}


@pytest.fixture
def order_lines(db):
    """One order: Support at 90.00 (its tickets' line), Senior support at 120.00, On-site at 150.00."""
    support = confirmed_line(price_unit=Decimal("90.00"))
    senior = confirmed_line(order=support.order, product=ProductFactory(name="Senior support"),
                            price_unit=Decimal("120.00"))
    onsite = confirmed_line(order=support.order, product=ProductFactory(name="On-site"),
                            price_unit=Decimal("150.00"))
    return support, senior, onsite


@pytest.fixture
def support_ticket(order_lines, agent):
    """A ticket billed to Support, in a team the agent belongs to."""
    ticket = TicketFactory(customer=order_lines[0].order.customer, sale_line=order_lines[0])
    ticket.team.members.add(agent)
    return ticket


def delivered(line) -> Decimal:
    line.refresh_from_db()
    return line.delivered


def order_url(order) -> str:
    return f"{API}/sale-orders/{order.pk}/"


# --- Rounding per ticket: 45 + 45 + 5 minutes on a 60-minute increment -----------------------------

def test_45_45_5_minutes_rounded_per_ticket_bill_two_hours(manager_api, accountant_api, agent, agent_api):
    response = manager_api.post(f"{API}/products/", {
        "name": "Support per hour", "list_price": "60", "uom": "hour", "service_policy": "delivered_timesheet",
        "billing_increment_minutes": 60, "rounding": "ticket", "minimum_minutes": 0})
    assert response.status_code == 201, response.json()
    product = Product.objects.get(pk=response.json()["id"])
    line = confirmed_line(product=product, price_unit=Decimal("60.00"), quantity=0)
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    ticket.team.members.add(agent)
    ids = [log(agent_api, ticket, duration).json()["id"] for duration in ("0:45", "0:45", "0:05")]
    # Per ticket, each entry counts as logged: Delivered is 1:35.
    assert [TimeEntry.objects.get(pk=pk).billable_minutes for pk in ids] == [45, 45, 5]
    assert delivered(line) == Decimal("1.58")

    preview = accountant_api.post(f"{order_url(line.order)}invoice-preview/", {})
    assert preview.status_code == 200, preview.json()
    explanation = "3 entries, 1:35 worked → 2:00 billed: per ticket, 60-min increment"
    assert preview.json() == {
        "lines": [{"sale_line": line.pk, "name": "Support per hour", "quantity": "2.00", "uom": "hour",
                   "price_unit": "60.00", "amount_untaxed": "120.00", "minutes": 120, "rounding_minutes": 25,
                   "explanation": explanation}],
        "amount_untaxed": "120.00", "amount_tax": "0.00", "amount_total": "120.00", "error": "",
        "left_out": {"reasons": [], "examples": []}}
    assert not Invoice.objects.exists()  # a preview creates nothing
    # The order says it too: 1:35 to invoice, which Create Invoice bills as 2:00.
    [order_line] = accountant_api.get(order_url(line.order)).json()["lines"]
    assert (order_line["to_invoice"], order_line["to_invoice_billed"]) == ("1.58", "2.00")

    created = accountant_api.post(f"{order_url(line.order)}create-invoice/", {})
    assert created.status_code == 201
    [inv_line] = created.json()["lines"]
    assert inv_line | {"id": 0} == {
        "id": 0, "sale_line": line.pk, "name": "Support per hour", "quantity": "2.00", "uom": "hour",
        "price_unit": "60.00", "tax_rate": "0.00", "amount_untaxed": "120.00", "amount_tax": "0.00",
        "minutes": 120, "worked_minutes": 95, "entry_count": 3, "rounding_minutes": 25, "explanation": explanation,
        "charges": [{"ticket": ticket.pk, "task": None, "entries": 3, "minutes": 95, "billed": 120}],
        "timesheets": sorted(ids)}
    assert accountant_api.get(f"{API}/invoices/{created.json()['id']}/").json()["lines"] == [inv_line]
    [order_line] = accountant_api.get(order_url(line.order)).json()["lines"]
    assert (order_line["delivered"], order_line["invoiced"], order_line["to_invoice"],
            order_line["rounding_minutes"]) == ("1.58", "2.00", "0.00", 25)


def test_a_minimum_charge_and_the_rule_changed_through_the_api_are_audited(manager, manager_api):
    product = ProductFactory(name="Call-out")
    url = f"{API}/products/{product.pk}/"

    response = manager_api.patch(url, {"rounding": "ticket", "billing_increment_minutes": 15, "minimum_minutes": 30})

    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("rounding", "billing_increment_minutes", "minimum_minutes")} == {
        "rounding": "ticket", "billing_increment_minutes": 15, "minimum_minutes": 30}
    event = AuditEvent.objects.get(action=AuditEvent.Action.PRODUCT_RULE_CHANGED)
    assert (event.actor, event.changes) == (manager, {"rounding": ["entry", "ticket"],
                                                      "billing_increment_minutes": [1, 15],
                                                      "minimum_minutes": [0, 30]})
    assert manager_api.get(f"{API}/products/?rounding=ticket").json()["count"] == 1


@pytest.mark.parametrize("fields, errors", [
    ({"rounding": "month"}, {"rounding": ['"month" is not a valid choice.']}),
    ({"minimum_minutes": -5}, {"minimum_minutes": ["Ensure this value is greater than or equal to 0."]}),
    ({"minimum_minutes": "soon"}, {"minimum_minutes": ["A valid integer is required."]}),
])
def test_product_rounding_refusals(manager_api, fields, errors):
    response = manager_api.post(f"{API}/products/", {"name": "Odd", **fields})

    assert (response.status_code, response.json()) == (400, errors)
    assert not Product.objects.exists()


# --- Work types -------------------------------------------------------------------------------------

def test_work_types_crud_by_managers(manager, manager_api):
    response = manager_api.post(f"{API}/work-types/", {"name": "On-site", "billing": "billable"})
    assert response.status_code == 201
    work_type = WorkType.objects.get()
    assert response.json() == {"id": work_type.pk, "name": "On-site", "billing": "billable"}

    response = manager_api.patch(f"{API}/work-types/{work_type.pk}/", {"billing": "no_charge"})
    assert response.json() == {"id": work_type.pk, "name": "On-site", "billing": "no_charge"}
    event = AuditEvent.objects.get(action=AuditEvent.Action.WORK_TYPE_CHANGED)
    assert (event.actor, event.changes) == (manager, {"billing": ["billable", "no_charge"]})
    response = manager_api.put(f"{API}/work-types/{work_type.pk}/", {"name": "On site"})
    assert response.json() == {"id": work_type.pk, "name": "On site", "billing": "no_charge"}
    assert manager_api.get(f"{API}/work-types/?billing=no_charge").json()["count"] == 1
    assert manager_api.get(f"{API}/work-types/?billing=billable").json()["count"] == 0
    assert manager_api.delete(f"{API}/work-types/{work_type.pk}/").status_code == 204
    assert not WorkType.objects.exists()


@pytest.mark.parametrize("fields, errors", [
    ({"name": "Internal"}, {"name": ["work type with this name already exists."]}),
    ({"name": ""}, {"name": ["This field may not be blank."]}),
    ({"name": "Travel", "billing": "free"}, {"billing": ['"free" is not a valid choice.']}),
    ({"name": "x" * 101}, {"name": ["Ensure this field has no more than 100 characters."]}),
])
def test_work_type_refusals(manager_api, kinds, fields, errors):
    response = manager_api.post(f"{API}/work-types/", fields)

    assert (response.status_code, response.json()) == (400, errors)
    assert WorkType.objects.count() == 4


def test_every_role_reads_work_types_and_only_managers_write(agent_api, accountant_api, kinds):
    internal = kinds["Internal"]
    for client in (agent_api, accountant_api):
        assert [w["name"] for w in client.get(f"{API}/work-types/").json()["results"]] == [
            "Goodwill", "Internal", "On-site", "Remote support"]
        assert client.get(f"{API}/work-types/{internal.pk}/").json() == {
            "id": internal.pk, "name": "Internal", "billing": "non_billable"}
        for response in (client.post(f"{API}/work-types/", {"name": "Travel"}),
                         client.patch(f"{API}/work-types/{internal.pk}/", {"billing": "billable"}),
                         client.delete(f"{API}/work-types/{internal.pk}/")):
            assert (response.status_code, response.json()) == (403, MANAGERS_ONLY)
    internal.refresh_from_db()
    assert internal.billing == "non_billable"


@pytest.mark.parametrize("used_by, by", [
    ("entry", "Timesheets"), ("team", "Helpdesk Teams"), ("rate", "Rates by work type")])
def test_a_work_type_in_use_is_not_deleted(manager_api, kinds, support_ticket, order_lines, agent, used_by, by):
    on_site = kinds["On-site"]
    if used_by == "entry":
        timesheet_log(user=agent, ticket=support_ticket, date=days_ago(1), minutes=30, work_type=on_site)
    elif used_by == "team":
        TeamFactory(default_work_type=on_site)
    else:
        order_rates_set(order=order_lines[0].order, work_type_rates=[{"work_type": on_site,
                                                                       "sale_line": order_lines[2]}])

    response = manager_api.delete(f"{API}/work-types/{on_site.pk}/")

    assert (response.status_code, response.json()) == (
        409, {"detail": f"This record is still used by {by} and cannot be deleted."})
    assert WorkType.objects.filter(pk=on_site.pk).exists()


def test_switching_a_work_type_to_billable_bills_its_unbilled_time(manager_api, agent, support_ticket, kinds,
                                                                    order_lines):
    support = order_lines[0]
    internal = timesheet_log(user=agent, ticket=support_ticket, date=days_ago(1), minutes=30,
                             work_type=kinds["Internal"])
    assert delivered(support) == Decimal("0.00")

    manager_api.patch(f"{API}/work-types/{kinds['Internal'].pk}/", {"billing": "billable"})

    internal.refresh_from_db()
    assert (internal.sale_line, internal.billable_minutes) == (support, 30)
    assert delivered(support) == Decimal("0.50")


# --- Time entries' work type ------------------------------------------------------------------------

def test_time_takes_the_teams_default_work_type_unless_another_is_given(manager_api, agent_api, support_ticket,
                                                                       kinds, order_lines):
    support = order_lines[0]
    team = support_ticket.team
    response = manager_api.patch(f"{API}/teams/{team.pk}/", {"default_work_type": kinds["Remote support"].pk})
    assert response.json()["default_work_type"] == kinds["Remote support"].pk

    default = log(agent_api, support_ticket, "1:00")
    also_default = log(agent_api, support_ticket, "0:30", work_type=None)
    internal = log(agent_api, support_ticket, "0:20", work_type=kinds["Internal"].pk)
    goodwill = log(agent_api, support_ticket, "0:10", work_type=kinds["Goodwill"].pk)

    assert [r.status_code for r in (default, also_default, internal, goodwill)] == [201] * 4
    assert [(r.json()["work_type"], r.json()["sale_line"], r.json()["billable_minutes"])
            for r in (default, also_default, internal, goodwill)] == [
        (kinds["Remote support"].pk, support.pk, 60), (kinds["Remote support"].pk, support.pk, 30),
        (kinds["Internal"].pk, None, 0), (kinds["Goodwill"].pk, support.pk, 0)]
    assert delivered(support) == Decimal("1.50")
    filtered = agent_api.get(f"{API}/timesheets/?work_type={kinds['Remote support'].pk}&ordering=id").json()
    assert [e["id"] for e in filtered["results"]] == [default.json()["id"], also_default.json()["id"]]
    assert agent_api.get(f"{API}/timesheets/?work_type={kinds['On-site'].pk}").json()["count"] == 0


def test_changing_an_entrys_work_type_moves_its_time(agent_api, support_ticket, kinds, order_lines):
    support = order_lines[0]
    entry = log(agent_api, support_ticket, "0:45").json()
    url = f"{API}/timesheets/{entry['id']}/"

    response = agent_api.patch(url, {"work_type": kinds["Internal"].pk})
    assert (response.status_code, response.json()["sale_line"], response.json()["billable_minutes"]) == (
        200, None, 0)
    assert delivered(support) == Decimal("0.00")

    response = agent_api.patch(url, {"work_type": None})
    assert (response.json()["work_type"], response.json()["sale_line"]) == (None, support.pk)
    assert delivered(support) == Decimal("0.75")


@pytest.mark.parametrize("fields, errors", [
    (lambda k, line: {"work_type": k["Internal"].pk, "sale_line": line.pk},
     {"sale_line": ["Internal is non-billable: its time bills no Sales Order Item."]}),
    (lambda k, line: {"work_type": 999999}, {"work_type": ['Invalid pk "999999" - object does not exist.']}),
    (lambda k, line: {"work_type": "On-site"},
     {"work_type": ["Incorrect type. Expected pk value, received str."]}),
])
def test_work_type_refusals_on_time(agent_api, support_ticket, kinds, order_lines, fields, errors):
    response = log(agent_api, support_ticket, "0:30", **fields(kinds, order_lines[0]))

    assert (response.status_code, response.json()) == (400, errors)
    assert not TimeEntry.objects.exists()
    entry = log(agent_api, support_ticket, "0:30").json()
    response = agent_api.patch(f"{API}/timesheets/{entry['id']}/", fields(kinds, order_lines[0]))
    assert (response.status_code, response.json()) == (400, errors)
    assert TimeEntry.objects.get().work_type is None


# --- Rates by agent and by work type on the order ---------------------------------------------------

def test_rates_set_by_patch_move_time_and_both_lines_delivered_follow(accountant, accountant_api, agent, agent_api,
                                                                     support_ticket, kinds, order_lines):
    support, senior, onsite = order_lines
    log(agent_api, support_ticket, "1:00")
    log(agent_api, support_ticket, "0:30", work_type=kinds["On-site"].pk)
    assert (delivered(support), delivered(senior), delivered(onsite)) == (Decimal("1.50"), 0, 0)

    response = accountant_api.patch(order_url(support.order), {"agent_rates": [
        {"user": agent.pk, "sale_line": senior.pk}]})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["agent_rates"], body["work_type_rates"]) == ([{"user": agent.pk, "sale_line": senior.pk}], [])
    assert [line["delivered"] for line in body["lines"]] == ["0.00", "1.50", "0.00"]

    response = accountant_api.patch(order_url(support.order), {"work_type_rates": [
        {"work_type": kinds["On-site"].pk, "sale_line": onsite.pk}]})
    body = response.json()
    assert (body["agent_rates"], body["work_type_rates"]) == (
        [{"user": agent.pk, "sale_line": senior.pk}], [{"work_type": kinds["On-site"].pk, "sale_line": onsite.pk}])
    assert [line["delivered"] for line in body["lines"]] == ["0.00", "1.00", "0.50"]
    assert agent_api.get(order_url(support.order)).json()["work_type_rates"] == body["work_type_rates"]

    # The invoice says which rate put the time on each line.
    invoice = accountant_api.post(f"{order_url(support.order)}create-invoice/", {}).json()
    assert [(line["sale_line"], line["explanation"]) for line in invoice["lines"]] == [
        (senior.pk, f"1 entry, 1:00 worked → 1:00 billed · rate for agent {agent}"),
        (onsite.pk, "1 entry, 0:30 worked → 0:30 billed · work type On-site")]
    assert invoice["amount_untaxed"] == "195.00"  # 1 h at 120.00, 0.5 h at 150.00

    # An empty list removes them; unbilled time goes back to the ticket's line (none left here).
    body = accountant_api.patch(order_url(support.order), {"agent_rates": []}).json()
    assert (body["agent_rates"], len(body["work_type_rates"])) == ([], 1)
    events = AuditEvent.objects.filter(action=AuditEvent.Action.ORDER_RATES_CHANGED).order_by("pk")
    assert [(e.actor, sorted(e.changes)) for e in events] == [
        (accountant, ["agent_rates"]), (accountant, ["work_type_rates"]), (accountant, ["agent_rates"])]


def test_a_patch_without_rates_changes_nothing(manager_api, order_lines, agent):
    order = order_lines[0].order
    order_rates_set(order=order, agent_rates=[{"user": agent, "sale_line": order_lines[1]}])
    events = AuditEvent.objects.filter(action=AuditEvent.Action.ORDER_RATES_CHANGED)

    for body in ({}, {"agent_rates": [{"user": agent.pk, "sale_line": order_lines[1].pk}]}):
        response = manager_api.patch(order_url(order), body)
        assert (response.status_code, response.json()["agent_rates"]) == (
            200, [{"user": agent.pk, "sale_line": order_lines[1].pk}])
    assert events.count() == 1  # the first setting only


def rate_refusals(order_lines, agent, kinds):
    """(body, errors) pairs: each is refused with a 400 naming what is wrong, and changes nothing."""
    support, senior, _ = order_lines
    other = confirmed_line()
    manual = confirmed_line(order=support.order, product=ProductFactory(name="Setup",
                                                                        service_policy="delivered_manual"))
    return [
        ({"agent_rates": {"user": agent.pk, "sale_line": senior.pk}},
         {"agent_rates": {"non_field_errors": ['Expected a list of items but got type "dict".']}}),
        ({"agent_rates": [{"user": "alice", "sale_line": senior.pk}]},
         {"agent_rates": {"0": {"user": ["A valid integer is required."]}}}),
        ({"agent_rates": [{"user": agent.pk}]}, {"agent_rates": {"0": {"sale_line": ["This field is required."]}}}),
        ({"work_type_rates": [{"work_type": senior.pk, "sale_line": senior.pk}, {"work_type": 0, "sale_line": 1}]},
         {"work_type_rates": {"1": {"work_type": ["Ensure this value is greater than or equal to 1."]}}}),
        ({"agent_rates": None}, {"agent_rates": ["This field may not be null."]}),
        ({"agent_rates": [{"user": 999999, "sale_line": 888888}],
          "work_type_rates": [{"work_type": 777777, "sale_line": senior.pk}]},
         {"agent_rates": ["No user has the id 999999.", "No Sales Order Item has the id 888888."],
          "work_type_rates": ["No work type has the id 777777."]}),
        ({"agent_rates": [{"user": agent.pk, "sale_line": other.pk}]},
         {"agent_rates": [f"{other} is not a line of {support.order}: a rate maps to a line of the same order."]}),
        ({"work_type_rates": [{"work_type": kinds["On-site"].pk, "sale_line": manual.pk}]},
         {"work_type_rates": [f"{manual} is not billed on timesheets: choose a service line."]}),
        ({"agent_rates": [{"user": agent.pk, "sale_line": senior.pk}, {"user": agent.pk, "sale_line": support.pk}]},
         {"agent_rates": [f"{agent} has two rates: give one line each."]}),
        ({"agent_rates": [{"user": agent.pk, "sale_line": senior.pk}] * 201},
         {"agent_rates": {"non_field_errors": ["Ensure this field has no more than 200 elements."]}}),
    ]


def test_rate_refusals(manager_api, order_lines, agent, kinds, support_ticket):
    entry = timesheet_log(user=agent, ticket=support_ticket, date=days_ago(1), minutes=60)
    for body, errors in rate_refusals(order_lines, agent, kinds):
        response = manager_api.patch(order_url(order_lines[0].order), body)
        assert (response.status_code, response.json()) == (400, errors), body
    assert not AgentRate.objects.exists()
    entry.refresh_from_db()
    assert entry.sale_line == order_lines[0]


def test_agents_read_rates_and_cannot_set_them(agent, agent_api, other_agent_api, support_ticket, order_lines):
    support, senior, _ = order_lines
    order_rates_set(order=support.order, agent_rates=[{"user": agent, "sale_line": senior}])

    assert agent_api.get(order_url(support.order)).json()["agent_rates"] == [{"user": agent.pk,
                                                                              "sale_line": senior.pk}]
    response = agent_api.patch(order_url(support.order), {"agent_rates": []})
    assert (response.status_code, response.json()) == (403, SELLERS_ONLY)
    response = other_agent_api.patch(order_url(support.order), {"agent_rates": []})
    assert (response.status_code, response.json()) == (403, SELLERS_ONLY)
    assert other_agent_api.get(order_url(support.order)).status_code == 404
    assert AgentRate.objects.count() == 1


def test_the_rates_of_a_cancelled_order_no_longer_change(manager_api, accountant, line_a):
    manager_api.post(f"{order_url(line_a.order)}cancel/")

    response = manager_api.patch(order_url(line_a.order), {"agent_rates": [{"user": accountant.pk,
                                                                            "sale_line": line_a.pk}]})

    assert (response.status_code, response.json()) == (
        400, {"detail": f"{line_a.order.name} is cancelled: its rates no longer change."})


# --- Create Invoice's preview -----------------------------------------------------------------------

def test_the_preview_shows_what_is_left_out_and_why(accountant_api, agent, agent_api, support_ticket, kinds,
                                                    order_lines):
    support = order_lines[0]
    log(agent_api, support_ticket, "1:00", days=1)
    internal = log(agent_api, support_ticket, "0:20", days=2, work_type=kinds["Internal"].pk).json()
    late = log(agent_api, support_ticket, "0:40", days=0).json()

    response = accountant_api.post(f"{order_url(support.order)}invoice-preview/", {
        "period_end": days_ago(1).isoformat()})

    assert response.status_code == 200
    body = response.json()
    assert [(line["sale_line"], line["quantity"], line["explanation"]) for line in body["lines"]] == [
        (support.pk, "1.00", "1 entry, 1:00 worked → 1:00 billed")]
    assert (body["amount_untaxed"], body["amount_total"], body["error"]) == ("90.00", "90.00", "")
    assert body["left_out"] == {
        "reasons": [{"reason": "non-billable work type", "entries": 1, "minutes": 20},
                    {"reason": "after the period", "entries": 1, "minutes": 40}],
        "examples": [
            {"id": internal["id"], "date": days_ago(2).isoformat(), "user": agent.pk, "ticket": support_ticket.pk,
             "minutes": 20, "reason": "non-billable work type"},
            {"id": late["id"], "date": days_ago(0).isoformat(), "user": agent.pk, "ticket": support_ticket.pk,
             "minutes": 40, "reason": "after the period"}]}
    assert not Invoice.objects.exists()
    assert delivered(support) == Decimal("1.67")  # nothing was linked


def test_a_preview_with_nothing_to_invoice_says_why(accountant_api, line_a):
    response = accountant_api.post(f"{order_url(line_a.order)}invoice-preview/")

    assert response.status_code == 200
    body = response.json()
    assert (body["lines"], body["amount_untaxed"], body["amount_tax"], body["amount_total"]) == ([], None, None, None)
    assert body["error"] == accountant_api.post(f"{order_url(line_a.order)}create-invoice/").json()["detail"]
    assert body["left_out"] == {"reasons": [], "examples": []}


@pytest.mark.parametrize("period, errors", [
    ({"period_start": "2026-02-01", "period_end": "2026-01-01"}, {"period_end": ["The period ends before it starts."]}),
    ({"period_start": "soon"},
     {"period_start": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
])
def test_a_bad_period_is_refused(accountant_api, line_a, period, errors):
    response = accountant_api.post(f"{order_url(line_a.order)}invoice-preview/", period)

    assert (response.status_code, response.json()) == (400, errors)


def test_agents_do_not_preview(agent_api, support_ticket, order_lines):
    response = agent_api.post(f"{order_url(order_lines[0].order)}invoice-preview/", {})

    assert (response.status_code, response.json()) == (403, INVOICERS_ONLY)


# --- Queries ----------------------------------------------------------------------------------------

def invoice_of(lines: int, agent) -> Invoice:
    """An invoice of `lines` lines, each rounding two tickets' time per ticket: one charge per ticket."""
    product = ProductFactory(rounding=Rounding.TICKET, billing_increment_minutes=30, minimum_minutes=30)
    first = confirmed_line(product=product)
    for n in range(lines):
        line = first if n == 0 else SaleOrderLineFactory(order=first.order, product=product)
        for minutes in (10, 40):
            ticket = TicketFactory(customer=first.order.customer, sale_line=line)
            timesheet_log(user=agent, ticket=ticket, date=days_ago(1), minutes=minutes)
    return invoice_create_from_order(order=first.order)


# The token and its user, the user's groups, the invoice, its lines, their charges, its reminders, and the three
# queries of `invoice_line_entry_ids` (billed, credited, given back): 9, for 1 line as for 10.
@pytest.mark.parametrize("lines", [1, 10])
def test_an_invoices_queries_do_not_grow_with_its_lines(accountant, agent, django_assert_max_num_queries, lines):
    invoice = invoice_of(lines, agent)
    client = client_for(accountant)

    with django_assert_max_num_queries(9):
        response = client.get(f"{API}/invoices/{invoice.pk}/")

    body = response.json()
    assert len(body["lines"]) == lines
    assert {(c["minutes"], c["billed"]) for line in body["lines"] for c in line["charges"]} == {(10, 30), (40, 60)}
    assert body["amount_untaxed"] == f"{Decimal('135.00') * lines:.2f}"  # 0:30 + 1:00 at 90.00 per line


def test_an_orders_queries_do_not_grow_with_its_rates(accountant, order_lines, django_assert_max_num_queries):
    support, senior, onsite = order_lines
    agents = [UserFactory(role="Agents") for _ in range(10)]
    order_rates_set(order=support.order, agent_rates=[{"user": a, "sale_line": senior} for a in agents])
    client = client_for(accountant)

    # The token and its user, the groups, the order, its lines, its two kinds of rates, awaiting approval,
    # the company's currency.
    with django_assert_max_num_queries(8):
        response = client.get(order_url(support.order))

    assert len(response.json()["agent_rates"]) == 10
