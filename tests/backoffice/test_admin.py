"""The admin, where managers work: every page loads, saves go through the services, refusals show."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.errors import Conflict
from invoicing.models import Invoice
from invoicing.services import invoice_create_from_order, invoice_post
from sales.contacts import contact_invite
from sales.models import Company, Contact, SaleOrder, SaleOrderLine, WorkType
from tickets.models import HelpdeskTeam, Ticket
from timesheets.durations import HINT
from timesheets.models import LockDate, TimeEntry
from timesheets.services import INVOICED_MESSAGE, timesheet_log

from ..factories import (
    ProjectFactory,
    SaleOrderLineFactory,
    TaskFactory,
    TaxFactory,
    TicketFactory,
    confirmed_line,
    days_ago,
)

OUR_APPS = {"sales", "projects", "tickets", "timesheets", "invoicing"}


def url(obj, view="change"):
    opts = obj._meta
    args = [] if view in ("changelist", "add") else [obj.pk]
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def form_data(response) -> dict:
    """Return what the change form in `response` posts when saved as it is, as a browser sends it."""
    data = {"_save": "Save"}
    page_forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): str(management[name].value()) for name in management.fields})
        page_forms += inline.formset.forms
    for form in page_forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue  # browsers do not send disabled fields
            value, key = form[name].value(), form.add_prefix(name)
            if isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            elif isinstance(value, (list, tuple)):
                data[key] = [str(v) for v in value]
            else:
                data[key] = "" if value is None else str(value)
    return data


def redirected_with(client, address, data) -> list[str]:
    """Post, follow the redirect the admin answers with, and return the messages the next page shows."""
    response = client.post(address, data, follow=True)
    assert response.redirect_chain, "expected a redirect"
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def page_errors(response) -> list[str]:
    """Return the errors of the form and inline rows on a re-rendered change form."""
    errors = list(response.context["adminform"].form.errors.values())
    for inline in response.context["inline_admin_formsets"]:
        errors += [inline.formset.non_form_errors()]
        errors += [e for row in inline.formset.errors for e in row.values()]
    return [message for error_list in errors for message in error_list]


def extra_row(data, prefix="time_entries") -> str:
    """Return the prefix of the blank row at the end of an inline."""
    return f"{prefix}-{int(data[f'{prefix}-TOTAL_FORMS']) - 1}"


# --- Every page loads ---------------------------------------------------------------

def test_every_list_and_page_of_every_model_loads(manager_client, agent, ticket, line_a):
    TaxFactory()
    task = TaskFactory(project=ticket.team.project)
    ticket.task = task
    ticket.save()
    timesheet_log(user=agent, date=days_ago(1), minutes=90, ticket=ticket)
    invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)

    LockDate.objects.create(pk=1, lock_date=days_ago(30))
    WorkType.objects.create(name="Remote support")
    Company.current()
    contact_invite(customer=line_a.order.customer, email="contact@example.com")  # issue 18: the portal's contacts
    registered = [model for model in admin.site._registry if model._meta.app_label in OUR_APPS]
    assert len(registered) == 15
    for model in registered:
        obj = model.objects.order_by("pk").first()
        assert obj is not None, model
        # The company is one row: its list is that row's page.
        expected = 302 if model is Company else 200
        assert manager_client.get(url(obj, "changelist")).status_code == expected, model
        assert manager_client.get(url(obj)).status_code == 200, model
        # Invoices and lines are made by services and on their order, not added on their own; the
        # lock date and the company are one row, changed once it exists; contacts are invited from their customer.
        expected = 403 if model in (Invoice, SaleOrderLine, LockDate, Company, Contact) else 200
        assert manager_client.get(url(obj, "add")).status_code == expected, model


def test_the_admin_index_uses_the_seeds_words(manager_client):
    content = manager_client.get(reverse("admin:index")).content.decode()
    assert "Helpdesk Teams" in content
    assert "Timesheets" in content


def _queries(client, address) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(address).status_code == 200
    return len(captured)


def test_pages_listing_timesheets_do_not_query_once_per_row(manager_client, agent, ticket, line_a):
    timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    ticket_page, entries = url(ticket), url(TimeEntry, "changelist")
    tickets, order_page = url(ticket, "changelist"), url(line_a.order)
    for page in (ticket_page, entries, tickets, order_page):  # warm the content types' cache
        _queries(manager_client, page)
    before = [_queries(manager_client, page) for page in (ticket_page, entries, tickets, order_page)]
    for n in range(4):
        timesheet_log(user=agent, date=days_ago(n), minutes=15, ticket=ticket)
        TicketFactory(team=ticket.team, customer=ticket.customer, sale_line=line_a)
    after = [_queries(manager_client, page) for page in (ticket_page, entries, tickets, order_page)]
    assert after == before


# --- Sales orders -------------------------------------------------------------------

def test_confirm_turns_a_quotation_into_a_sales_order_and_refuses_a_second_time(manager_client):
    quotation = SaleOrderLineFactory().order
    changelist = url(quotation, "changelist")
    confirm = {"action": "confirm", "_selected_action": [quotation.pk]}
    assert redirected_with(manager_client, changelist, confirm) == [f"{quotation.name} is confirmed."]
    quotation.refresh_from_db()
    assert quotation.state == "sale"

    assert redirected_with(manager_client, changelist, confirm) == [
        f"Only a quotation can be confirmed; {quotation.name} is Sales Order."]


def test_confirm_from_the_order_page_refuses_an_empty_quotation(manager_client):
    empty = SaleOrderLineFactory().order
    empty.lines.all().delete()
    confirm = {"CHANGE_FORM-action": "confirm", "_selected_action": empty.pk, "index": "0"}
    assert redirected_with(manager_client, url(empty), confirm) == ["Add at least one order line before confirming."]
    empty.refresh_from_db()
    assert empty.state == "draft"


def test_order_lines_show_delivered_and_are_read_only_once_confirmed(manager_client, agent, ticket, line_a):
    timesheet_log(user=agent, date=days_ago(0), minutes=630, ticket=ticket)
    response = manager_client.get(url(line_a.order))
    [order_lines, _by_agent, _by_work_type, invoices] = response.context["inline_admin_formsets"]
    assert order_lines.opts.verbose_name_plural == "Order Lines"
    assert not order_lines.has_add_permission and not order_lines.has_change_permission
    assert not order_lines.has_delete_permission
    assert "Delivered" in response.content.decode()
    assert "10.50" in response.content.decode()
    assert list(invoices.formset.queryset) == []

    data = form_data(response)
    data["lines-0-price_unit"] = "1.00"
    manager_client.post(url(line_a.order), data)
    line_a.refresh_from_db()
    assert line_a.price_unit == Decimal("90.00")


def test_a_quotation_line_takes_the_products_price_when_left_empty(manager_client):
    line = SaleOrderLineFactory(price_unit=Decimal("75.00"))
    order = line.order
    data = form_data(manager_client.get(url(order)))
    row = extra_row(data, "lines")
    data.update({f"{row}-product": str(line.product.pk), f"{row}-quantity": "3", f"{row}-price_unit": ""})
    response = manager_client.post(url(order), data)
    assert response.status_code == 302, page_errors(response)
    assert order.lines.order_by("pk").last().price_unit == Decimal("90.00")


def test_create_invoice_bills_the_delivered_time_then_has_nothing_left(manager_client, manager, agent, ticket, line_a):
    timesheet_log(user=agent, date=days_ago(0), minutes=630, ticket=ticket)
    order = line_a.order
    shown = redirected_with(manager_client, url(order, "changelist"),
                            {"action": "create_invoice", "_selected_action": [order.pk]})
    invoice = Invoice.objects.get()
    assert invoice.amount_total == Decimal("945.00")
    assert invoice.created_by == manager
    assert shown == [f'<a href="{url(invoice)}">{invoice}</a> created for {order.name}.']

    shown = redirected_with(manager_client, url(order),
                            {"CHANGE_FORM-action": "create_invoice", "_selected_action": order.pk, "index": "0"})
    assert shown == [f"There is nothing to invoice on {order.name}."]
    assert Invoice.objects.count() == 1


def test_sales_order_item_search_lists_only_lines_time_may_bill(manager_client, line_a):
    quotation_line = SaleOrderLineFactory(order__customer=line_a.order.customer)
    response = manager_client.get(reverse("admin:autocomplete"), {
        "app_label": "tickets", "model_name": "ticket", "field_name": "sale_line", "term": ""})
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(line_a.pk)]
    assert str(quotation_line.pk) not in response.content.decode()


# --- Teams, projects, tickets -------------------------------------------------------

def test_time_reinvoicing_on_a_project_that_is_not_billable_is_a_form_error(manager_client, manager):
    internal = ProjectFactory(name="Internal", billable=False)
    response = manager_client.post(url(HelpdeskTeam, "add"), {
        "name": "Support", "timesheet_on_ticket": "on", "project": internal.pk, "time_reinvoicing": "on",
        "members": [manager.pk], "_save": "Save"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["time_reinvoicing"] == [
        "Time Reinvoicing needs a Billable project: mark Internal Billable."]
    assert not internal.teams.exists()


def test_tickets_are_searched_and_filtered_by_team_status_and_customer(manager_client, ticket):
    other = TicketFactory(title="Scanner jams", status="solved")
    changelist = url(Ticket, "changelist")

    def listed(**params):
        return list(manager_client.get(changelist, params).context["cl"].result_list)

    assert listed(q="scanner") == [other]
    assert ticket in listed(q=str(ticket.pk))  # by number (customer names hold numbers too)
    assert listed(team__id__exact=ticket.team.pk) == [ticket]
    assert listed(status__exact="solved") == [other]
    assert listed(customer__id__exact=other.customer.pk) == [other]


def test_changing_the_tickets_sales_order_item_moves_its_time(manager_client, agent, ticket, line_a):
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=90, ticket=ticket)
    line_b = confirmed_line(order__customer=ticket.customer)
    data = form_data(manager_client.get(url(ticket)))
    data["sale_line"] = str(line_b.pk)
    response = manager_client.post(url(ticket), data)
    assert response.status_code == 302, page_errors(response)
    entry.refresh_from_db()
    line_a.refresh_from_db()
    line_b.refresh_from_db()
    assert entry.sale_line == line_b
    assert (line_a.delivered_minutes, line_b.delivered_minutes) == (0, 90)


def test_a_line_of_another_customer_is_a_form_error_on_the_ticket(manager_client, ticket):
    stranger = confirmed_line()
    data = form_data(manager_client.get(url(ticket)))
    data["sale_line"] = str(stranger.pk)
    response = manager_client.post(url(ticket), data)
    assert response.status_code == 200
    assert "choose a line of this customer's order" in " ".join(page_errors(response))


# --- Timesheets on the ticket -------------------------------------------------------

def test_a_row_added_on_the_ticket_adds_exactly_its_minutes_to_delivered(manager_client, manager, agent, ticket,
                                                                         line_a):
    timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 30
    data = form_data(manager_client.get(url(ticket)))
    row = extra_row(data)
    data.update({f"{row}-minutes": "1:30", f"{row}-description": "Replaced the fuser"})

    response = manager_client.post(url(ticket), data)

    assert response.status_code == 302, page_errors(response)
    entry = ticket.time_entries.get(description="Replaced the fuser")
    assert (entry.minutes, entry.user, entry.date, entry.sale_line) == (90, manager, days_ago(0), line_a)
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 120
    assert line_a.delivered == Decimal("2.00")


def test_a_new_ticket_is_saved_with_its_first_row(manager_client, manager, ticket, line_a):
    data = form_data(manager_client.get(url(Ticket, "add")))
    data.update({"team": ticket.team.pk, "customer": ticket.customer.pk, "title": "Scanner jams",
                 "sale_line": line_a.pk, f"{extra_row(data)}-minutes": "0:45"})
    response = manager_client.post(url(Ticket, "add"), data)
    assert response.status_code == 302, page_errors(response)
    new = Ticket.objects.get(title="Scanner jams")
    [entry] = new.time_entries.all()
    assert (entry.minutes, entry.user, entry.sale_line) == (45, manager, line_a)
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 45


def test_a_row_refused_by_the_service_shows_on_the_row_and_nothing_is_saved(manager_client, ticket, line_a):
    data = form_data(manager_client.get(url(ticket)))
    row = extra_row(data)
    data.update({"title": "Renamed", f"{row}-minutes": "1:00", f"{row}-date": days_ago(-1).isoformat()})

    response = manager_client.post(url(ticket), data)

    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"]
    assert inline.formset.forms[-1].errors["date"] == ["Time cannot be logged in the future."]
    assert "Time cannot be logged in the future." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.title != "Renamed"  # the whole save was rolled back
    assert not TimeEntry.objects.exists()
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 0


def test_a_bad_duration_is_a_field_error(manager_client, ticket):
    data = form_data(manager_client.get(url(ticket)))
    data[f"{extra_row(data)}-minutes"] = "soon"
    response = manager_client.post(url(ticket), data)
    assert response.status_code == 200
    assert page_errors(response) == [f"“soon” is not a duration. {HINT}"]


def test_rows_changed_and_deleted_on_the_ticket_go_through_the_services(manager_client, agent, ticket, line_a):
    kept = timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    dropped = timesheet_log(user=agent, date=days_ago(2), minutes=45, ticket=ticket)
    data = form_data(manager_client.get(url(ticket)))
    rows = {data[f"time_entries-{i}-id"]: f"time_entries-{i}" for i in range(2)}
    data[f"{rows[str(kept.pk)]}-minutes"] = "2h"
    data[f"{rows[str(dropped.pk)]}-DELETE"] = "on"

    response = manager_client.post(url(ticket), data)

    assert response.status_code == 302, page_errors(response)
    kept.refresh_from_db()
    assert kept.minutes == 120
    assert not TimeEntry.objects.filter(pk=dropped.pk).exists()
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 120


def test_an_invoiced_row_cannot_be_changed_or_deleted_on_the_ticket(manager_client, agent, ticket, line_a):
    entry = timesheet_log(user=agent, date=days_ago(1), minutes=60, ticket=ticket)
    data = form_data(manager_client.get(url(ticket)))  # the page was opened before the invoice
    invoice_create_from_order(order=line_a.order)
    response = manager_client.get(url(ticket))
    [inline] = response.context["inline_admin_formsets"]
    assert all(field.disabled for field in inline.formset.forms[0].fields.values()
               if field.widget.is_hidden is False)

    data["time_entries-0-minutes"] = "3:00"
    response = manager_client.post(url(ticket), data)
    assert response.status_code == 200
    assert page_errors(response) == [INVOICED_MESSAGE]
    assert INVOICED_MESSAGE in response.content.decode()

    data["time_entries-0-minutes"] = "1:00"
    data["time_entries-0-DELETE"] = "on"
    response = manager_client.post(url(ticket), data)
    assert response.status_code == 200
    assert page_errors(response) == [INVOICED_MESSAGE]
    entry.refresh_from_db()
    assert entry.minutes == 60


def test_a_row_invoiced_while_the_page_was_open_is_not_deleted(manager_client, monkeypatch, agent, ticket,
                                                               line_a):
    entry = timesheet_log(user=agent, date=days_ago(1), minutes=60, ticket=ticket)
    data = form_data(manager_client.get(url(ticket)))
    data["time_entries-0-DELETE"] = "on"

    def invoiced_meanwhile(*, entry, actor=None):
        raise Conflict(INVOICED_MESSAGE)

    monkeypatch.setattr("backoffice.timesheets.timesheet_delete", invoiced_meanwhile)
    response = manager_client.post(url(ticket), data)

    assert response.status_code == 200
    [inline] = response.context["inline_admin_formsets"]
    assert inline.formset.non_form_errors() == [INVOICED_MESSAGE]
    assert TimeEntry.objects.filter(pk=entry.pk).exists()


def test_the_task_shows_the_tickets_rows_and_logs_on_both(manager_client, manager, agent, ticket, line_a):
    task = TaskFactory(project=ticket.team.project)
    ticket.task = task
    ticket.save()
    on_ticket = timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    response = manager_client.get(url(task))
    [inline] = response.context["inline_admin_formsets"]
    assert list(inline.formset.queryset) == [on_ticket]

    data = form_data(response)
    data[f"{extra_row(data)}-minutes"] = "15m"
    response = manager_client.post(url(task), data)
    assert response.status_code == 302, page_errors(response)
    on_task = TimeEntry.objects.exclude(pk=on_ticket.pk).get()
    assert (on_task.task, on_task.ticket, on_task.sale_line, on_task.minutes) == (task, ticket, line_a, 15)


def test_a_team_without_timesheet_on_ticket_logs_no_time_on_its_tickets(manager_client, ticket):
    team = ticket.team
    team.time_reinvoicing = team.timesheet_on_ticket = False
    team.save()
    [inline] = manager_client.get(url(ticket)).context["inline_admin_formsets"]
    assert not inline.has_add_permission


# --- The Timesheets admin -----------------------------------------------------------

def test_time_logged_in_the_timesheets_admin_goes_through_the_service(manager_client, agent, ticket, line_a):
    response = manager_client.post(url(TimeEntry, "add"), {
        "ticket": ticket.pk, "task": "", "user": agent.pk, "date": days_ago(0).isoformat(),
        "minutes": "45m", "description": "Call", "sale_line": "", "_save": "Save"})
    assert response.status_code == 302, page_errors(response)
    entry = TimeEntry.objects.get()
    assert (entry.minutes, entry.project, entry.sale_line, entry.sale_line_manual) == (45, ticket.team.project,
                                                                                    line_a, False)
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 45

    response = manager_client.post(url(entry), {"date": days_ago(0).isoformat(), "minutes": "1.25",
                                                "description": "Call", "sale_line": line_a.pk, "_save": "Save"})
    assert response.status_code == 302, page_errors(response)
    line_a.refresh_from_db()
    assert line_a.delivered_minutes == 75


def test_a_line_set_by_hand_that_the_customer_may_not_bill_is_a_form_error(manager_client, agent, ticket, line_a):
    entry = timesheet_log(user=agent, date=days_ago(0), minutes=60, ticket=ticket)
    stranger = confirmed_line()
    response = manager_client.post(url(entry), {"date": days_ago(0).isoformat(), "minutes": "2:00",
                                                "description": "", "sale_line": stranger.pk, "_save": "Save"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["sale_line"] == [
        f"{stranger.order.name} belongs to {stranger.order.customer}, not to {ticket.customer}: "
        "choose a line of this customer's order."]
    entry.refresh_from_db()
    assert (entry.minutes, entry.sale_line) == (60, line_a)


def test_time_on_neither_ticket_nor_task_is_a_form_error(manager_client, agent):
    response = manager_client.post(url(TimeEntry, "add"), {
        "ticket": "", "task": "", "user": agent.pk, "date": days_ago(0).isoformat(), "minutes": "1:00",
        "_save": "Save"})
    assert response.status_code == 200
    assert page_errors(response) == ["Log time on a ticket or on a task."]


def test_an_invoiced_entry_is_read_only_in_the_timesheets_admin(manager_client, agent, ticket, line_a):
    entry = timesheet_log(user=agent, date=days_ago(1), minutes=60, ticket=ticket)
    invoice_create_from_order(order=line_a.order)

    page = manager_client.get(url(entry))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert not page.context["has_delete_permission"]

    change = {"date": days_ago(1).isoformat(), "minutes": "3:00", "description": "", "_save": "Save"}
    assert redirected_with(manager_client, url(entry), change) == [INVOICED_MESSAGE]
    assert redirected_with(manager_client, url(entry, "delete"), {"post": "yes"}) == [INVOICED_MESSAGE]
    entry.refresh_from_db()
    assert entry.minutes == 60


# --- Invoices -------------------------------------------------------------------------

def test_invoices_are_read_only_documents(manager_client, agent, ticket, line_a):
    timesheet_log(user=agent, date=days_ago(1), minutes=60, ticket=ticket)
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))

    assert manager_client.get(url(invoice, "add")).status_code == 403
    assert manager_client.get(url(invoice, "delete")).status_code == 403
    assert manager_client.post(url(invoice, "delete"), {"post": "yes"}).status_code == 403
    page = manager_client.get(url(invoice))
    assert page.status_code == 200
    assert not page.context["has_change_permission"] and not page.context["has_delete_permission"]
    assert "INV/" in page.content.decode()
    assert manager_client.post(url(invoice), {"customer_name": "Someone else"}).status_code == 403
    changelist = manager_client.get(url(invoice, "changelist"))
    assert "delete_selected" not in changelist.content.decode()
    invoice.refresh_from_db()
    assert invoice.customer_name == ticket.customer.name
    assert SaleOrder.objects.get().invoices.get() == invoice
