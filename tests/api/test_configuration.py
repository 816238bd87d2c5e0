"""Customers, taxes, products, projects, tasks and teams: every role reads, managers write."""

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from projects.models import Project, Task
from projects.services import task_create
from sales.models import Customer, Product, Tax
from tickets.models import HelpdeskTeam

from ..factories import CustomerFactory, ProjectFactory, SaleOrderFactory, TaxFactory, TeamFactory, UserFactory
from .conftest import API, client_for, log

MANAGERS_ONLY = {"detail": "Only managers change the configuration."}


# --- Customers -----------------------------------------------------------------------------

def test_customers_crud(manager_api):
    response = manager_api.post(f"{API}/customers/", {
        "name": "Acme", "email": "billing@acme.test", "address": "1 Road\nTown", "vat_number": "be 0477.123.402",
        "country": "BE", "payment_terms_days": 15})
    assert response.status_code == 201
    customer = Customer.objects.get()
    # The VAT number is checked for its country and stored compacted.
    assert response.json() == {"id": customer.pk, "name": "Acme", "email": "billing@acme.test", "billing_email": "",
                               "address": "1 Road\nTown", "country": "BE", "vat_number": "BE0477123402",
                               "payment_terms_days": 15}

    response = manager_api.patch(f"{API}/customers/{customer.pk}/", {"name": "Acme SA"})
    assert (response.status_code, response.json()["name"]) == (200, "Acme SA")

    response = manager_api.put(f"{API}/customers/{customer.pk}/", {"name": "Acme NV"})
    assert response.json() == {"id": customer.pk, "name": "Acme NV", "email": "billing@acme.test", "billing_email": "",
                               "address": "1 Road\nTown", "country": "BE", "vat_number": "BE0477123402",
                               "payment_terms_days": 15}

    assert manager_api.get(f"{API}/customers/?name=Acme%20NV").json()["count"] == 1
    assert manager_api.delete(f"{API}/customers/{customer.pk}/").status_code == 204
    assert Customer.objects.count() == 0


def test_customer_refusals(manager_api):
    response = manager_api.post(f"{API}/customers/", {"name": "", "email": "not-an-email"})

    assert response.status_code == 400
    assert response.json() == {"name": ["This field may not be blank."], "email": ["Enter a valid email address."]}

    response = manager_api.post(f"{API}/customers/", {"name": "Acme", "country": "BE", "vat_number": "BE0999999999"})
    assert (response.status_code, response.json()) == (400, {"vat_number": [
        "BE0999999999 is not a valid VAT number (the number's checksum or check digit is invalid): "
        "e.g. BE0403019261."]})
    assert not Customer.objects.exists()


def test_a_customer_in_use_is_not_deleted(manager_api):
    customer = CustomerFactory()
    SaleOrderFactory(customer=customer)

    response = manager_api.delete(f"{API}/customers/{customer.pk}/")

    assert response.status_code == 409
    assert response.json() == {"detail": "This record is still used by sales orders and cannot be deleted."}


def test_every_role_reads_customers_and_only_managers_write(agent_api, accountant_api):
    customer = CustomerFactory(name="Acme")

    assert agent_api.get(f"{API}/customers/{customer.pk}/").json()["name"] == "Acme"
    assert accountant_api.get(f"{API}/customers/").json()["count"] == 1
    for client in (agent_api, accountant_api):
        response = client.patch(f"{API}/customers/{customer.pk}/", {"name": "Mine"})
        assert (response.status_code, response.json()) == (403, MANAGERS_ONLY)
        response = client.post(f"{API}/customers/", {"name": "New"})
        assert (response.status_code, response.json()) == (403, MANAGERS_ONLY)
        response = client.delete(f"{API}/customers/{customer.pk}/")
        assert (response.status_code, response.json()) == (403, MANAGERS_ONLY)


def test_a_user_without_a_role_is_refused(db):
    response = client_for(UserFactory(username="nobody")).get(f"{API}/customers/")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your account has no role: ask a manager to add you to Agents, Managers or Accountants."}


# --- Taxes and products ------------------------------------------------------------------------

def test_taxes_crud(manager_api):
    response = manager_api.post(f"{API}/taxes/", {"name": "VAT 21%", "rate": "21"})
    assert response.status_code == 201
    tax = Tax.objects.get()
    assert response.json() == {"id": tax.pk, "name": "VAT 21%", "rate": "21.00"}

    assert manager_api.patch(f"{API}/taxes/{tax.pk}/", {"rate": "6"}).json()["rate"] == "6.00"
    assert manager_api.get(f"{API}/taxes/").json()["results"] == [{"id": tax.pk, "name": "VAT 21%", "rate": "6.00"}]
    assert manager_api.delete(f"{API}/taxes/{tax.pk}/").status_code == 204


@pytest.mark.parametrize("rate, errors", [
    ("150", {"rate": ["Ensure this value is less than or equal to 100."]}),
    ("-1", {"rate": ["Ensure this value is greater than or equal to 0."]}),
    ("21.555", {"rate": ["Ensure that there are no more than 2 decimal places."]}),
])
def test_tax_refusals(manager_api, rate, errors):
    response = manager_api.post(f"{API}/taxes/", {"name": "Odd", "rate": rate})

    assert response.status_code == 400
    assert response.json() == errors


def test_products_crud(manager_api):
    tax = TaxFactory()
    response = manager_api.post(f"{API}/products/", {
        "name": "Service on Timesheet", "list_price": "90", "uom": "hour", "service_policy": "delivered_timesheet",
        "tax": tax.pk})
    assert response.status_code == 201
    product = Product.objects.get()
    assert response.json() == {"id": product.pk, "name": "Service on Timesheet", "list_price": "90.00",
                               "uom": "hour", "service_policy": "delivered_timesheet", "tax": tax.pk,
                               "billing_increment_minutes": 1, "rounding": "entry", "minimum_minutes": 0,
                               "alert_delivered_percent": 100, "alert_remaining_hours": None}

    response = manager_api.patch(f"{API}/products/{product.pk}/", {"billing_increment_minutes": 15, "tax": None})
    assert (response.json()["billing_increment_minutes"], response.json()["tax"]) == (15, None)
    # The alert thresholds (reports.alerts), audited with the billing rule.
    response = manager_api.patch(f"{API}/products/{product.pk}/", {"alert_delivered_percent": 80,
                                                                   "alert_remaining_hours": "2.5"}, format="json")
    assert (response.json()["alert_delivered_percent"], response.json()["alert_remaining_hours"]) == (80, "2.50")
    event = AuditEvent.objects.filter(action=AuditEvent.Action.PRODUCT_RULE_CHANGED).latest("pk")
    assert {key: event.changes[key] for key in ("alert_delivered_percent", "alert_remaining_hours")} == {
        "alert_delivered_percent": [100, 80], "alert_remaining_hours": [None, "2.50"]}
    assert manager_api.get(f"{API}/products/?service_policy=delivered_manual").json()["count"] == 0
    assert manager_api.get(f"{API}/products/?service_policy=delivered_timesheet").json()["count"] == 1


@pytest.mark.parametrize("fields, errors", [
    ({"billing_increment_minutes": 0},
     {"billing_increment_minutes": ["Ensure this value is greater than or equal to 1."]}),
    ({"list_price": "-5"}, {"list_price": ["Ensure this value is greater than or equal to 0."]}),
    ({"uom": "week"}, {"uom": ['"week" is not a valid choice.']}),
    ({"service_policy": "free"}, {"service_policy": ['"free" is not a valid choice.']}),
    ({"alert_delivered_percent": 0}, {"alert_delivered_percent": ["Ensure this value is greater than or equal to 1."]}),
    ({"alert_remaining_hours": "-1"}, {"alert_remaining_hours": ["Ensure this value is greater than or equal to 0."]}),
])
def test_product_refusals(manager_api, fields, errors):
    response = manager_api.post(f"{API}/products/", {"name": "Odd", **fields})

    assert response.status_code == 400
    assert response.json() == errors


def test_a_product_on_an_order_is_not_deleted(manager_api, line_a):
    response = manager_api.delete(f"{API}/products/{line_a.product_id}/")

    assert response.status_code == 409
    assert response.json() == {"detail": "This record is still used by sales order items and cannot be deleted."}


# --- Projects and tasks ----------------------------------------------------------------------

def test_projects_crud(manager_api, line_a):
    customer = line_a.order.customer

    response = manager_api.post(f"{API}/projects/", {
        "name": "Support 2026", "customer": customer.pk, "billable": True, "sale_line": line_a.pk})
    assert response.status_code == 201
    project = Project.objects.get(name="Support 2026")
    assert response.json() == {"id": project.pk, "name": "Support 2026", "customer": customer.pk, "billable": True,
                               "sale_line": line_a.pk}

    response = manager_api.patch(f"{API}/projects/{project.pk}/", {"sale_line": None, "billable": False})
    assert response.json() | {"id": 0} == {"id": 0, "name": "Support 2026", "customer": customer.pk,
                                           "billable": False, "sale_line": None}
    assert manager_api.get(f"{API}/projects/?billable=false").json()["count"] == 1
    assert manager_api.delete(f"{API}/projects/{project.pk}/").status_code == 204


def test_project_refusals(manager_api, line_a):
    response = manager_api.post(f"{API}/projects/", {
        "name": "Internal", "customer": line_a.order.customer_id, "billable": False, "sale_line": line_a.pk})
    assert response.status_code == 400
    assert response.json() == {"sale_line": ["Only a Billable project can have a Sales Order Item."]}

    response = manager_api.post(f"{API}/projects/", {
        "name": "Other", "customer": CustomerFactory().pk, "billable": True, "sale_line": line_a.pk})
    assert response.status_code == 400
    assert response.json()["sale_line"][0].startswith(f"{line_a.order.name} belongs to {line_a.order.customer}")


def test_a_project_with_a_team_is_not_deleted(manager_api):
    team = TeamFactory()

    response = manager_api.delete(f"{API}/projects/{team.project_id}/")

    assert response.status_code == 409
    assert response.json() == {"detail": "This record is still used by Helpdesk Teams and cannot be deleted."}


def test_tasks_crud(manager_api, agent_api, team_ticket, line_a):
    project = team_ticket.team.project
    project.customer = line_a.order.customer
    project.save()

    response = manager_api.post(f"{API}/tasks/", {"project": project.pk, "name": "Fuser", "sale_line": None})
    assert response.status_code == 201
    task = Task.objects.get()
    assert response.json() == {"id": task.pk, "project": project.pk, "name": "Fuser", "sale_line": None,
                               "ticket": None}

    response = manager_api.patch(f"{API}/tasks/{task.pk}/", {"name": "Fuser unit", "sale_line": line_a.pk})
    assert response.json() == {"id": task.pk, "project": project.pk, "name": "Fuser unit", "sale_line": line_a.pk,
                               "ticket": None}
    assert manager_api.get(f"{API}/tasks/?project={project.pk}").json()["count"] == 1
    assert manager_api.delete(f"{API}/tasks/{task.pk}/").status_code == 204


def test_task_refusals(manager_api, line_a):
    internal = ProjectFactory(billable=False, customer=line_a.order.customer)
    response = manager_api.post(f"{API}/tasks/", {"project": internal.pk, "name": "Fuser", "sale_line": line_a.pk})
    assert response.status_code == 400
    assert response.json() == {"sale_line": ["Only a task of a Billable project can have a Sales Order Item."]}

    task = task_create(project=internal, name="Fuser")
    response = manager_api.patch(f"{API}/tasks/{task.pk}/", {"project": ProjectFactory().pk})
    assert response.status_code == 400
    assert response.json() == {"project": ["A task stays in its project: create a task in the other project."]}


def test_a_task_with_time_is_not_deleted(manager_api, agent_api, team_ticket):
    task = task_create(project=team_ticket.team.project, name="Fuser")
    agent_api.patch(f"{API}/tickets/{team_ticket.pk}/", {"task": task.pk})
    log(agent_api, team_ticket, "1:00")

    response = manager_api.delete(f"{API}/tasks/{task.pk}/")

    assert response.status_code == 409
    assert response.json() == {"detail": "This record is still used by Timesheets and cannot be deleted."}


def test_agents_see_their_teams_projects_and_tasks(agent_api, other_agent_api, team_ticket):
    project = team_ticket.team.project
    task = task_create(project=project, name="Fuser")
    task_create(project=ProjectFactory(), name="Elsewhere")

    assert [p["id"] for p in agent_api.get(f"{API}/projects/").json()["results"]] == [project.pk]
    assert [t["id"] for t in agent_api.get(f"{API}/tasks/").json()["results"]] == [task.pk]
    assert other_agent_api.get(f"{API}/tasks/{task.pk}/").status_code == 404
    assert other_agent_api.get(f"{API}/projects/{project.pk}/").status_code == 404
    response = agent_api.patch(f"{API}/tasks/{task.pk}/", {"name": "Mine"})
    assert (response.status_code, response.json()) == (403, MANAGERS_ONLY)


# --- Teams ---------------------------------------------------------------------------------

def test_teams_crud(manager_api):
    project = ProjectFactory(billable=True)

    response = manager_api.post(f"{API}/teams/", {
        "name": "Customer Care", "timesheet_on_ticket": True, "project": project.pk, "time_reinvoicing": True})
    assert response.status_code == 201
    team = HelpdeskTeam.objects.get()
    assert response.json() == {"id": team.pk, "name": "Customer Care", "timesheet_on_ticket": True,
                               "project": project.pk, "time_reinvoicing": True, "invoiced_timesheets": "all",
                               "timesheets_lock_date": None, "default_work_type": None, "portal_tickets": False,
                               "hold_disputed": True}

    response = manager_api.patch(f"{API}/teams/{team.pk}/", {"time_reinvoicing": False})
    assert response.json()["time_reinvoicing"] is False
    assert manager_api.get(f"{API}/teams/?time_reinvoicing=false").json()["count"] == 1
    assert manager_api.delete(f"{API}/teams/{team.pk}/").status_code == 204


@pytest.mark.parametrize("fields, errors", [
    ({"timesheet_on_ticket": True}, {"project": ["Timesheet on Ticket needs a project where the time goes."]}),
    ({"time_reinvoicing": True}, {"time_reinvoicing": ["Time Reinvoicing needs Timesheet on Ticket."]}),
])
def test_team_refusals(manager_api, fields, errors):
    response = manager_api.post(f"{API}/teams/", {"name": "Care", **fields})

    assert response.status_code == 400
    assert response.json() == errors


def test_reinvoicing_needs_a_billable_project(manager_api):
    project = ProjectFactory(name="Internal", billable=False)

    response = manager_api.post(f"{API}/teams/", {
        "name": "Care", "timesheet_on_ticket": True, "project": project.pk, "time_reinvoicing": True})

    assert response.status_code == 400
    assert response.json() == {
        "time_reinvoicing": ["Time Reinvoicing needs a Billable project: mark Internal Billable."]}


def test_turning_reinvoicing_off_moves_unbilled_time(manager_api, agent_api, team_ticket, line_a):
    log(agent_api, team_ticket, "1:00")

    manager_api.patch(f"{API}/teams/{team_ticket.team_id}/", {"time_reinvoicing": False})

    line_a.refresh_from_db()
    assert line_a.delivered == Decimal("0.00")


def test_agents_see_their_teams(agent_api, team_ticket):
    TeamFactory()

    assert [t["id"] for t in agent_api.get(f"{API}/teams/").json()["results"]] == [team_ticket.team_id]
    response = agent_api.post(f"{API}/teams/", {"name": "Mine"})
    assert (response.status_code, response.json()) == (403, MANAGERS_ONLY)
