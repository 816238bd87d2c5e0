"""Who may do what: personas × every page and API endpoint × their own team's objects and the other's.

The personas: an agent of team A, an agent of team B, team A's lead (an agent who is
staff, so the admin is open to them), a manager, an accountant, and anonymous. Each case
names its route, what it sends, and the answer each persona gets on its own side's object
and on the other side's (for managers and accountants both sides are theirs); the lead
gets the agents' answers unless the case says otherwise (`lead`). Each request runs in a
savepoint that is rolled back, so every case starts from the same world (conftest).
Beyond the status codes, an agent's successful pages never show a marker of the other
team: ticket, task, entry, customer, order, invoice, team, project, agent.

The customer portal (issue 18) adds each side's customer's contact (`contact_a`, `contact_b`). Every
internal case has a `contact` answer, by default the boundary's (core.boundary): a page asked with GET
sends them to the portal (PORTAL), anything else is a 403, the API a 403; so nothing internal is
reachable. The portal's screens and its API (PORTAL_WEB, PORTAL_API) are theirs: their own customer's
ticket, timesheet and invoice, the other customer's not found (404); staff get a 403 there, strangers
the portal's login page (PORTAL_LOGIN) or a 401. A contact's successful pages never show the other
customer's markers, nor what is internal (the project, the task, drafts).
"""

import datetime
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEvent
from invoicing.documents import pdf_store
from invoicing.payments import payment_register
from invoicing.runs import run_start
from reports.alerts import alerts_scan
from reports.models import Alert
from sales.contacts import contact_invite
from sales.models import Company, Product, ServicePolicy
from tickets.services import ticket_message_add
from timesheets.disputes import dispute_resolve, entry_acknowledge, entry_dispute
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log
from web.lookups import KINDS, lookup_url, url_name

from ..factories import ProductFactory, confirmed_line, days_ago
from ..web.test_pages import web_routes

LOGIN, ADMIN_LOGIN = "login page", "admin login page"
# The portal's answers: a contact sent to the portal's home (core.boundary), a stranger to the portal's login.
PORTAL, PORTAL_LOGIN = "the portal", "portal login page"
BOUNDARY = "the boundary's answer"  # a contact's default on an internal case: PORTAL for a GET page, else 403
# Each list of the searchable selects: (agents on either side, accountant, manager), as its screen answers.
LOOKUP_ANSWERS = {
    **{kind: ((200, 200), 200, 200) for kind in ("ticket-teams", "ticket-customers", "ticket-assignees",
                                                 "report-customers", "report-teams", "report-agents",
                                                 "report-orders", "report-tickets")},
    **{kind: ((403, 403), 403, 200) for kind in ("approval-teams", "approval-agents", "approval-customers")},
    **{kind: ((403, 403), 200, 200) for kind in ("to-invoice-customers", "to-invoice-teams",
                                                 "quotation-customers", "quotation-accountants")},
    # New ticket's teams and customers: those one files tickets for (issue 17).
    **{kind: ((200, 200), 403, 200) for kind in ("new-ticket-teams", "new-ticket-customers")},
    # My Timesheets' "Add a ticket" and whose week (issue 17): those who log time; an agent's, their own.
    **{kind: ((200, 200), 403, 200) for kind in ("week-tickets", "week-agents")},
}
# The lists of a team's or a customer's rows (issue 17: New ticket, Assign): (kind, the side's object they are of).
DEPENDENT_LOOKUPS = {"team-tasks": "team", "team-people": "team", "customer-sale-lines": "order.customer"}
PERSONAS = ["agent_a", "agent_b", "lead_a", "manager", "accountant", "anonymous"]
AGENTS = {"agent_a": "a", "agent_b": "b", "lead_a": "a"}  # each agent's side
CONTACTS = {"contact_a": "a", "contact_b": "b"}  # each customer's contact's side (conftest.add_contact)
STAFF = ["agent_a", "agent_b", "lead_a", "manager", "accountant"]
TODAY = datetime.date.today().isoformat()
ME = object()  # in a case's data: the persona's own user id


@dataclass(frozen=True)
class Case:
    """A request and the answers: `agent` is (on their team's object, on the other team's); `lead`,
    the same for team A's lead when it differs from the agents'; `contact`, a customer's contact's (one
    answer, or (on their customer's object, on the other's)), by default the boundary's."""

    name: str
    method: str
    url: Callable
    agent: tuple
    accountant: object
    manager: object
    data: Callable | None = None
    anonymous: object = LOGIN
    lead: tuple | None = None
    contact: object = BOUNDARY

    def expected(self, persona: str, own: bool):
        if persona in CONTACTS:
            return self.contact[0 if own else 1] if isinstance(self.contact, tuple) else self.contact
        if persona == "lead_a" and self.lead is not None:
            return self.lead[0 if own else 1]
        if persona in AGENTS:
            return self.agent[0 if own else 1]
        return getattr(self, persona)


def url(name, attr=None):
    """Return a function of (side, other) giving the route of the side's object `attr` (a dotted path)."""
    def build(side, other):
        if attr is None:
            return reverse(name)
        obj = side
        for part in attr.split("."):
            obj = getattr(obj, part)
        return reverse(name, args=[obj.pk])
    return build


def url_object(side, attr):
    """The side's object `attr` (a dotted path)."""
    obj = side
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def stored_pdf(build):
    """Return `build`, run once the side's posted invoice has its stored PDF (as when its job has run)."""
    def stored(side, other):
        pdf_store(invoice_id=side.posted.pk)  # stores it once: later calls find it there
        return build(side, other)
    return stored


def payment_of(side):
    """A payment of 10.00 on the side's posted invoice, registered the first time a case asks for it."""
    if not hasattr(side, "payment"):
        accountant = get_user_model().objects.get(username="accountant")
        side.payment = payment_register(invoice=side.posted, amount=Decimal("10.00"), actor=accountant)
    return side.payment


def run_of(side):
    """The side's billing run (over its order), started the first time a case asks for it."""
    if not hasattr(side, "run"):
        side.run = run_start(order_ids=[side.order.pk])
    return side.run


def run_url(name):
    return lambda side, other: reverse(name, args=[run_of(side).pk])


def prepaid_of(side):
    """A prepaid block of 10 h on the side's order, added the first time a case asks for it."""
    if not hasattr(side, "prepaid"):
        side.prepaid = confirmed_line(order=side.order, quantity=10, name=f"Prepaid block of {side.name}",
                                      product=ProductFactory(name="Prepaid block",
                                                             service_policy=ServicePolicy.ORDERED_PREPAID))
    return side.prepaid


def alert_of(side):
    """An alert on the side's line (its Delivered passed 1% of the ordered 50 h), raised by the scan the first
    time a case asks for it."""
    if not hasattr(side, "alert"):
        Product.objects.filter(pk=side.line.product_id).update(alert_delivered_percent=1)
        alerts_scan()
        side.alert = Alert.objects.get(sale_line=side.line)
    return side.alert


def disputed_of(side):
    """An entry of 0:20 of the side's agent on its ticket, disputed by the side's contact, logged the first time a
    case asks for it (its description is a marker of the side)."""
    if not hasattr(side, "disputed"):
        description = f"Disputed work of team {side.name}"
        side.disputed = timesheet_log(user=side.agent, date=days_ago(1), minutes=20, ticket=side.ticket,
                                      description=description)
        entry_dispute(entry=side.disputed, contact=side.contact, reason=f"Not asked by {side.name}")
        side.markers.append(description)
        side.contact_markers.append(description)
    return side.disputed


def invited_of(side):
    """A contact of the side's customer invited and yet to set a password, invited the first time a case asks."""
    if not hasattr(side, "invited"):
        side.invited = contact_invite(customer=side.order.customer, email=f"invited-{side.name.lower()}@example.com")
    return side.invited


def resolve_form(side, other):
    return {"resolution": "kept", "answer": "Logged as agreed.", "duration": "", "next": ""}


def log_form(prefix="log"):
    return lambda side, other: {"action": "log", f"{prefix}-date": TODAY, f"{prefix}-duration": "0:30",
                                f"{prefix}-description": "More work"}


# --- Browser screens ---------------------------------------------------------------------------

WEB = [
    # The Helpdesk overview: every role, each their teams' cards (the alerts' case below opens it again).
    Case("home", "GET", url("home"), (200, 200), 200, 200),
    Case("ticket_list", "GET", url("ticket_list"), (200, 200), 200, 200),
    Case("ticket_detail", "GET", url("ticket_detail", "ticket"), (200, 404), 200, 200),
    Case("ticket_detail", "POST", url("ticket_detail", "ticket"), (302, 404), 403, 302, data=log_form()),
    # The entry is agent A's: their lead, a teammate, may not change it (403).
    Case("ticket_detail", "POST", url("ticket_detail", "ticket"), (302, 404), 403, 302,
         data=lambda s, o: {"action": "edit", "entry": s.open_entry.pk, "edit-date": TODAY,
                            "edit-duration": "1:00", "edit-description": "Edited"}, lead=(403, 404)),
    Case("ticket_detail", "POST", url("ticket_detail", "ticket"), (302, 404), 403, 302,
         data=lambda s, o: {"action": "delete", "entry": s.open_entry.pk}, lead=(403, 404)),
    # The other team's entry, through one's own ticket page: not among that page's rows.
    Case("ticket_detail", "POST", lambda s, o: reverse("ticket_detail", args=[o.ticket.pk]), (404, 404), 404, 404,
         data=lambda s, o: {"action": "delete", "entry": s.open_entry.pk}),
    # New ticket (issue 17): agents file in their own team for its customers (the other side's team is no
    # choice: the form comes back, 400), managers in any; accountants do not file tickets.
    Case("ticket_new", "GET", url("ticket_new"), (200, 200), 403, 200),
    Case("ticket_new", "POST", url("ticket_new"), (302, 400), 403, 302,
         data=lambda s, o: {"team": s.team.pk, "customer": s.order.customer_id, "title": "Scanner offline",
                            "description": "", "task": "", "sale_line": s.line.pk, "assignee": ME}),
    # Assign: to the side's agent, or to oneself ("Assign to me").
    Case("ticket_assign", "POST", url("ticket_assign", "ticket"), (302, 404), 403, 302,
         data=lambda s, o: {"assignee": s.agent.pk}),
    Case("ticket_assign", "POST", url("ticket_assign", "ticket"), (302, 404), 403, 302,
         data=lambda s, o: {"assignee": ME}),
    Case("ticket_status", "POST", url("ticket_status", "ticket"), (302, 404), 403, 302,
         data=lambda s, o: {"status": "in_progress"}),
    Case("ticket_sale_line", "POST", url("ticket_sale_line", "ticket"), (302, 404), 403, 302,
         data=lambda s, o: {"sale_line": s.line.pk}),
    Case("ticket_timer_start", "POST", url("ticket_timer_start", "ticket"), (302, 404), 403, 302),
    Case("ticket_timer_stop", "POST", url("ticket_timer_stop", "ticket"), (302, 404), 403, 302),
    Case("ticket_timesheets_csv", "GET", url("ticket_timesheets_csv", "ticket"), (200, 404), 200, 200),
    # Messages with the customer (issue 18): the team's agents and managers write; accountants read the ticket.
    Case("ticket_message", "POST", url("ticket_message", "ticket"), (302, 404), 403, 302,
         data=lambda s, o: {"body": "We are on it."}),
    # Resolving a customer's dispute is billing: accountants and managers; the list of open disputes too.
    Case("entry_resolve", "POST", lambda s, o: reverse("entry_resolve", args=[disputed_of(s).pk]), (403, 403),
         302, 302, data=resolve_form),
    Case("dispute_list", "GET", url("dispute_list"), (403, 403), 200, 200),
    Case("task_list", "GET", url("task_list"), (200, 200), 200, 200),
    Case("task_detail", "GET", url("task_detail", "task"), (200, 404), 200, 200),
    Case("task_detail", "POST", url("task_detail", "task"), (302, 404), 403, 302, data=log_form()),
    Case("task_timesheets_csv", "GET", url("task_timesheets_csv", "task"), (200, 404), 200, 200),
    # My Timesheets (issue 17): one's own week for agents and managers; another agent's for managers only (an
    # agent asking for anyone else's, their teammate's too, is refused). The grid's form logs on the side's
    # ticket: the other team's is no row of an agent's week (the page comes back with the refusal, 200).
    Case("my_timesheets", "GET", url("my_timesheets"), (200, 200), 403, 200),
    Case("my_timesheets", "GET", lambda s, o: f"{reverse('my_timesheets')}?agent={s.agent.pk}", (200, 403), 403, 200,
         lead=(403, 403)),
    Case("my_timesheets", "POST", url("my_timesheets"), (302, 200), 403, 302,
         data=lambda s, o: {f"cell:ticket-{s.ticket.pk}:{TODAY}": "0:30"}),
    Case("my_timesheets", "POST", lambda s, o: f"{reverse('my_timesheets')}?agent={s.agent.pk}", (302, 403), 403, 302,
         data=lambda s, o: {f"cell:ticket-{s.ticket.pk}:{TODAY}": "0:30"}, lead=(403, 403)),
    # One cell, as the grid's script saves it (JSON): no row of the other team's ticket (409); the side's
    # invoiced entry's cell is read-only to everyone (409).
    Case("week_cell", "POST", url("week_cell"), (200, 409), 403, 200,
         data=lambda s, o: {"row": f"ticket-{s.ticket.pk}", "date": TODAY, "duration": "0:30"}),
    Case("week_cell", "POST", url("week_cell"), (200, 403), 403, 200, lead=(403, 403),
         data=lambda s, o: {"row": f"ticket-{s.ticket.pk}", "date": TODAY, "duration": "0:30", "agent": s.agent.pk}),
    Case("week_cell", "POST", url("week_cell"), (409, 403), 403, 409, lead=(403, 403),
         data=lambda s, o: {"row": f"ticket-{s.ticket.pk}", "date": s.invoiced_entry.date.isoformat(),
                            "duration": "", "agent": s.agent.pk}),
    Case("order_list", "GET", url("order_list"), (200, 200), 200, 200),
    Case("quotation_create", "GET", url("quotation_create"), (403, 403), 200, 200),
    Case("quotation_edit", "GET", url("quotation_edit", "quotation"), (403, 403), 200, 200),
    Case("order_confirm", "POST", url("order_confirm", "quotation"), (403, 403), 302, 302),
    Case("line_set_delivered", "POST", url("line_set_delivered", "manual_line"), (403, 403), 302, 302,
         data=lambda s, o: {"delivered": "2"}),
    Case("line_timesheets_csv", "GET", url("line_timesheets_csv", "line"), (200, 404), 200, 200),
    Case("order_detail", "GET", url("order_detail", "order"), (200, 404), 200, 200),
    Case("invoice_create", "POST", url("invoice_create", "order"), (403, 403), 302, 302),
    # Create Invoice's preview: those who create invoices, for any order; it creates nothing.
    Case("invoice_preview", "GET", url("invoice_preview", "order"), (403, 403), 200, 200),
    Case("invoice_list", "GET", url("invoice_list"), (200, 200), 200, 200),
    Case("invoice_detail", "GET", url("invoice_detail", "posted"), (200, 404), 200, 200),
    Case("invoice_post", "POST", url("invoice_post", "draft"), (403, 403), 302, 302),
    Case("invoice_cancel", "POST", url("invoice_cancel", "draft"), (403, 403), 302, 302),
    Case("invoice_remove", "POST", url("invoice_remove", "draft"), (403, 403), 302, 302,
         data=lambda s, o: {"entry": s.drafted_entry.pk}),
    Case("invoice_credit", "POST", url("invoice_credit", "posted"), (403, 403), 302, 302,
         data=lambda s, o: {"mode": "full"}),
    # The PDF lists every team's Timesheets: accountants and managers only. A posted one's is its stored
    # file (its job ran first); a draft's is a preview.
    Case("invoice_pdf", "GET", stored_pdf(url("invoice_pdf", "posted")), (403, 404), 200, 200),
    Case("invoice_pdf", "GET", url("invoice_pdf", "draft"), (403, 404), 200, 200),
    Case("invoice_send", "POST", url("invoice_send", "posted"), (403, 403), 302, 302),
    Case("invoice_timesheets_csv", "GET", url("invoice_timesheets_csv", "posted"), (200, 404), 200, 200),
    # E-invoices: as the PDF (accountants and managers); a posted invoice's, from its stored PDF.
    Case("invoice_facturx", "GET", stored_pdf(url("invoice_facturx", "posted")), (403, 404), 200, 200),
    Case("invoice_ubl", "GET", url("invoice_ubl", "posted"), (403, 404), 200, 200),
    # The receivable: accountants register and reverse payments and set a draft's due date; managers see
    # the Overdue list and the payments, change nothing; agents neither (the other team's invoice: 404).
    Case("overdue_list", "GET", url("overdue_list"), (403, 403), 200, 200),
    Case("payment_register", "POST", url("payment_register", "posted"), (403, 404), 302, 403,
         data=lambda s, o: {"payment-date": TODAY, "payment-amount": "1.00", "payment-method": "transfer",
                            "payment-reference": ""}),
    Case("payment_reverse", "POST", url("payment_reverse", "posted"), (403, 404), 302, 403,
         data=lambda s, o: {"reverse-payment": payment_of(s).pk, "reverse-reason": "Returned by the bank"}),
    Case("invoice_due_date", "POST", url("invoice_due_date", "draft"), (403, 404), 302, 403,
         data=lambda s, o: {"due-due_date": ""}),
    # Approval: managers only (To Approve, Approve, Reject); a manager may approve an agent's time, the
    # answer is the screen again (302). Reinstating is a manager's, on an entry of a ticket they see: the
    # side's open entry is not written off, so the manager's answer is the page with that refusal (302).
    Case("to_approve", "GET", url("to_approve"), (403, 403), 403, 200),
    Case("to_approve", "POST", url("to_approve"), (403, 403), 403, 302,
         data=lambda s, o: {"action": "approve", "entry": s.open_entry.pk}),
    Case("to_approve", "POST", url("to_approve"), (403, 403), 403, 302,
         data=lambda s, o: {"action": "reject", "entry": s.open_entry.pk, "reason": "Which printer?"}),
    Case("ticket_detail", "POST", url("ticket_detail", "ticket"), (403, 404), 403, 302,
         data=lambda s, o: {"action": "reinstate", "entry": s.open_entry.pk}),
    # Write-off is billing: accountants and managers, on a draft.
    Case("invoice_write_off", "POST", url("invoice_write_off", "draft"), (403, 403), 302, 302,
         data=lambda s, o: {"entry": s.drafted_entry.pk, "reason": "Goodwill"}),
    # The billing run: accountants and managers only. Its jobs have not run: Post and Send wait for
    # Create Invoices, Resume for a stall (a refusal shown on the run's page: 302).
    Case("to_invoice", "GET", url("to_invoice"), (403, 403), 200, 200),
    Case("billing_run_list", "GET", url("billing_run_list"), (403, 403), 200, 200),
    Case("billing_run_create", "POST", url("billing_run_create"), (403, 403), 302, 302,
         data=lambda s, o: {"scope": "ticked", "order": s.order.pk}),
    Case("billing_run_detail", "GET", run_url("billing_run_detail"), (403, 403), 200, 200),
    Case("billing_run_post", "POST", run_url("billing_run_post"), (403, 403), 302, 302),
    Case("billing_run_send", "POST", run_url("billing_run_send"), (403, 403), 302, 302),
    Case("billing_run_resume", "POST", lambda s, o: reverse("billing_run_resume", args=[
        run_of(s).pk, run_of(s).steps.get().pk]), (403, 403), 302, 302),
    # Reports: agents open the index and the Time report, which holds their own time only (the markers are
    # checked: none of the other team's time, customer, ticket or agent shows); the other three, a prepaid
    # line's burn-down and alerts are for managers and accountants, who clear alerts.
    Case("reports", "GET", url("reports"), (200, 200), 200, 200),
    Case("report_time", "GET", url("report_time"), (200, 200), 200, 200),
    *[Case("report_time", "GET", lambda s, o, query=query: f"{reverse('report_time')}?{query}", (200, 200), 200, 200)
      for query in ("group_by=agent,day", "group_by=ticket", "group_by=order,month&status=to_invoice",
                    "export=csv", "export=xlsx")],
    Case("report_time", "GET", lambda s, o: f"{reverse('report_time')}?group_by=drop+table", (400, 400), 400, 400),
    Case("report_time_entries", "GET", url("report_time_entries"), (200, 200), 200, 200),
    # Another team's ticket as a filter: an agent's own time on it, none.
    Case("report_time_entries", "GET", lambda s, o: f"{reverse('report_time_entries')}?ticket={o.ticket.pk}",
         (200, 200), 200, 200),
    *[Case(name, "GET", lambda s, o, name=name, query=query: f"{reverse(name)}{query}", (403, 403), 200, 200)
      for name in ("report_unbilled", "report_revenue", "report_prepaid") for query in ("", "?export=csv")],
    Case("report_prepaid_line", "GET", lambda s, o: reverse("report_prepaid_line", args=[prepaid_of(s).pk]),
         (403, 403), 200, 200),
    Case("alert_clear", "POST", lambda s, o: reverse("alert_clear", args=[alert_of(s).pk]), (403, 403), 302, 302,
         data=lambda s, o: {"note": "Upsold 10 hours"}),
    Case("home", "GET", lambda s, o: alert_of(s) and reverse("home"), (200, 200), 200, 200),
    # The searchable selects' lists (web.lookups): as wide as the screen they serve, an agent's limited to their
    # teams' (the markers are checked on the first page and on a search); a ticket's Sales Order Items are
    # its workers' (another team's ticket: 404).
    *[Case(url_name(kind), "GET", lambda s, o, kind=kind, q=q: f"{reverse(url_name(kind))}?q={q}", *answers)
      for kind, answers in LOOKUP_ANSWERS.items() for q in ("", "team")],
    *[Case(url_name("ticket-sale-lines"), "GET", lambda s, o, q=q: f"{lookup_url('ticket-sale-lines', s.ticket)}?q={q}",
           (200, 404), 403, 200) for q in ("", "S0")],
    # New ticket's and Assign's lists of a team's free tasks and people, of a customer's Sales Order Items: the
    # side's own for its agents, 404 for the other side's team or customer (issue 17).
    *[Case(url_name(kind), "GET", lambda s, o, kind=kind, of=of, q=q: f"{lookup_url(kind, url_object(s, of))}?q={q}",
           (200, 404), 403, 200) for kind, of in DEPENDENT_LOOKUPS.items() for q in ("", "a")],
    # The admin: staff only (managers, accountants, team leads); agents and strangers get its login
    # page. The lead's admin is scoped to their team (ADMIN below); the audit log and the users are not theirs.
    Case("admin", "GET", lambda s, o: reverse("admin:index"), (ADMIN_LOGIN, ADMIN_LOGIN), 200, 200,
         anonymous=ADMIN_LOGIN, lead=(200, 200)),
    Case("admin", "GET", lambda s, o: reverse("admin:tickets_ticket_change", args=[s.ticket.pk]),
         (ADMIN_LOGIN, ADMIN_LOGIN), 200, 200, anonymous=ADMIN_LOGIN, lead=(200, 404)),
    Case("admin", "GET", lambda s, o: reverse("admin:invoicing_invoice_change", args=[s.posted.pk]),
         (ADMIN_LOGIN, ADMIN_LOGIN), 200, 200, anonymous=ADMIN_LOGIN, lead=(200, 404)),
    Case("admin", "GET", lambda s, o: reverse("admin:audit_auditevent_changelist"),
         (ADMIN_LOGIN, ADMIN_LOGIN), 200, 200, anonymous=ADMIN_LOGIN, lead=(403, 403)),
    # The audit log is read-only, for everyone.
    Case("admin", "POST", lambda s, o: reverse("admin:audit_auditevent_change", args=[
        AuditEvent.objects.filter(object_id=s.posted.pk, object_type="invoicing.invoice").first().pk]),
         (ADMIN_LOGIN, ADMIN_LOGIN), 403, 403, anonymous=ADMIN_LOGIN, data=lambda s, o: {"action": "x"},
         lead=(403, 403)),
    Case("admin", "GET", lambda s, o: reverse("admin:auth_user_changelist"), (ADMIN_LOGIN, ADMIN_LOGIN), 403, 403,
         anonymous=ADMIN_LOGIN, lead=(403, 403)),
]


# --- The admin ---------------------------------------------------------------------------------

def admin_url(model, view="change", attr=None):
    """Return a function of (side, other) giving the admin page `view` of `model` ("app.model"), of the
    side's object `attr` for a change, delete or history view."""
    app, name = model.split(".")
    return lambda side, other: reverse(f"admin:{app}_{name}_{view}",
                                       args=[getattr(side, attr).pk] if attr else [])


def autocomplete(source, field):
    """Return a function of (side, other) giving the admin's autocomplete of `field` on `source` ("app.model")."""
    app, name = source.split(".")
    return lambda side, other: (f"{reverse('admin:autocomplete')}?app_label={app}&model_name={name}"
                                f"&field_name={field}&term=")


def admin_case(name, method, address, manager, accountant, lead, data=None):
    """A case of the admin: agents who are not staff, and strangers, get its login page."""
    return Case(name, method, address, (ADMIN_LOGIN, ADMIN_LOGIN), accountant, manager, data=data,
                anonymous=ADMIN_LOGIN, lead=lead)


CHANGELISTS = ["tickets.ticket", "tickets.helpdeskteam", "timesheets.timeentry", "projects.task",
               "projects.project", "sales.saleorder", "sales.saleorderline", "sales.customer", "sales.product",
               "invoicing.invoice"]
CHANGE_VIEWS = {"tickets.ticket": "ticket", "tickets.helpdeskteam": "team", "timesheets.timeentry": "open_entry",
                "projects.task": "task", "sales.saleorder": "order", "sales.saleorderline": "line",
                "invoicing.invoice": "posted"}


def entry_change(side, other):
    """A change of the side's open entry (agent A's, for the lead a teammate's), as the change form posts it."""
    return {"date": TODAY, "minutes": "1:00", "description": "Edited", "sale_line": side.open_entry.sale_line_id,
            "_save": "Save"}


ADMIN = [
    # Every list the Agents group may open shows the lead only team A's rows (the markers are checked).
    *[admin_case(model, "GET", admin_url(model, "changelist"), 200, 200, (200, 200)) for model in CHANGELISTS],
    # The company: one row, its list opens it; managers change it, accountants read it, agents do neither.
    admin_case("sales.company", "GET", admin_url("sales.company", "changelist"), 302, 302, (403, 403)),
    admin_case("sales.company", "GET", lambda s, o: reverse("admin:sales_company_change", args=[1]), 200, 200,
               (403, 403)),
    admin_case("sales.company", "POST", lambda s, o: reverse("admin:sales_company_change", args=[1]), 302, 403,
               (403, 403), data=lambda s, o: {
                   "name": "Helpdesk Services SRL", "address": "12 Rue de la Loi", "country": "BE",
                   "vat_number": "BE0403019261", "email": "billing@example.com", "iban": "BE68 5390 0754 7034",
                   "bic": "GEBABEBB", "currency": "EUR", "payment_terms_days": "30", "reminder_days": "7, 21",
                   "invoice_footer": "", "_save": "Save"}),
    admin_case("sales.company", "GET", admin_url("sales.company", "add"), 403, 403, (403, 403)),
    admin_case("sales.company", "POST", lambda s, o: reverse("admin:sales_company_delete", args=[1]), 403, 403,
               (403, 403), data=lambda s, o: {"post": "yes"}),
    # Agents do not read taxes (the API lists them to everyone: they are configuration).
    admin_case("sales.tax", "GET", admin_url("sales.tax", "changelist"), 200, 200, (403, 403)),
    # Another team's row is missing to the lead: 404, as on the screens.
    *[admin_case(model, "GET", admin_url(model, "change", attr), 200, 200, (200, 404))
      for model, attr in CHANGE_VIEWS.items()],
    admin_case("projects.project", "GET", lambda s, o: reverse("admin:projects_project_change",
                                                                args=[s.team.project_id]), 200, 200, (200, 404)),
    admin_case("sales.customer", "GET", lambda s, o: reverse("admin:sales_customer_change",
                                                              args=[s.order.customer_id]), 200, 200, (200, 404)),
    admin_case("tickets.ticket", "GET", admin_url("tickets.ticket", "history", "ticket"), 200, 200, (200, 404)),
    admin_case("timesheets.timeentry", "GET", admin_url("timesheets.timeentry", "history", "open_entry"),
               200, 200, (200, 404)),
    # Agent A's entry: their lead sees it read-only and may not delete it; team B's is missing.
    admin_case("timesheets.timeentry", "GET", admin_url("timesheets.timeentry", "delete", "open_entry"),
               200, 403, (403, 404)),
    admin_case("timesheets.timeentry", "POST", admin_url("timesheets.timeentry", "change", "open_entry"),
               302, 403, (403, 404), data=entry_change),
    admin_case("timesheets.timeentry", "POST", admin_url("timesheets.timeentry", "delete", "open_entry"),
               302, 403, (403, 404), data=lambda s, o: {"post": "yes"}),
    # Time logged on the side's ticket: team B's ticket is not among the lead's choices (the form comes back).
    admin_case("timesheets.timeentry", "POST", admin_url("timesheets.timeentry", "add"), 302, 403, (302, 200),
               data=lambda s, o: {"ticket": s.ticket.pk, "task": "", "user": ME, "date": TODAY, "minutes": "0:30",
                                  "description": "Admin work", "sale_line": "", "_save": "Save"}),
    # The Timesheets lock date: managers set it, accountants read it, agents (the lead) do not see it.
    admin_case("timesheets.lockdate", "GET", admin_url("timesheets.lockdate", "changelist"), 200, 200, (403, 403)),
    admin_case("timesheets.lockdate", "POST", admin_url("timesheets.lockdate", "add"), 302, 403, (403, 403),
               data=lambda s, o: {"lock_date": "2026-01-31", "agent_grace_days": "7"}),
    # Work types are configuration: every staff role reads them (both sides'), managers change them. The
    # rates by agent and by work type are inlines of the order's page (sales.saleorder above).
    admin_case("sales.worktype", "GET", admin_url("sales.worktype", "changelist"), 200, 200, (200, 200)),
    admin_case("sales.worktype", "GET", admin_url("sales.worktype", "change", "work_type"), 200, 200, (200, 200)),
    admin_case("sales.worktype", "POST", admin_url("sales.worktype", "change", "work_type"), 302, 403, (403, 403),
               data=lambda s, o: {"name": f"{s.work_type.name} (renamed)", "billing": "no_charge", "_save": "Save"}),
    admin_case("sales.worktype", "POST", admin_url("sales.worktype", "add"), 302, 403, (403, 403),
               data=lambda s, o: {"name": "Travel", "billing": "non_billable", "_save": "Save"}),
    # The search behind the ticket, task, Sales Order Item and customer fields lists team A's only.
    *[admin_case("autocomplete", "GET", autocomplete(source, field), 200, 200, (200, 200))
      for source, field in [("timesheets.timeentry", "ticket"), ("timesheets.timeentry", "task"),
                            ("timesheets.timeentry", "sale_line"), ("tickets.ticket", "customer")]],
    # The search behind the fields that choose people (backoffice/people.py): whoever may add or change the model,
    # without the users' admin, which they may not open; the lead's lists hold their teams' people only.
    *[admin_case(model, "GET", lambda s, o, model=model, field=field, q=q: (
        f"{reverse('admin:' + model.replace('.', '_') + '_people')}?field_name={field}&term={q}"),
        200, 403, lead) for model, field, lead in [("tickets.helpdeskteam", "members", (403, 403)),
                                                   ("tickets.ticket", "assignee", (200, 200)),
                                                   ("timesheets.timeentry", "user", (200, 200))]
      for q in ("", "agent")],
    # Customers' contacts (issue 18): managers and accountants see and invite them, on the customer's page ("Invite
    # a contact") and in their own list, whose actions send the invitation again or close the access; the lead
    # (an agent) does neither, and team B's customer is missing to them (404).
    admin_case("sales.customer", "GET", lambda s, o: reverse("admin:sales_customer_invite",
                                                              args=[s.order.customer_id]), 200, 200, (403, 404)),
    admin_case("sales.customer", "POST", lambda s, o: reverse("admin:sales_customer_invite",
                                                               args=[s.order.customer_id]), 302, 302, (403, 404),
               data=lambda s, o: {"email": f"admin-invite-{s.name.lower()}@example.com", "name": "Adam Invited"}),
    # The side's contact's address has an account: the form comes back with the refusal.
    admin_case("sales.customer", "POST", lambda s, o: reverse("admin:sales_customer_invite",
                                                               args=[s.order.customer_id]), 200, 200, (403, 404),
               data=lambda s, o: {"email": s.contact.user.email, "name": ""}),
    admin_case("sales.contact", "GET", admin_url("sales.contact", "changelist"), 200, 200, (403, 403)),
    admin_case("sales.contact", "GET", admin_url("sales.contact", "change", "contact"), 200, 200, (403, 403)),
    admin_case("sales.contact", "GET", admin_url("sales.contact", "add"), 403, 403, (403, 403)),
    admin_case("sales.contact", "POST", admin_url("sales.contact", "changelist"), 302, 302, (403, 403),
               data=lambda s, o: {"action": "reinvite", "_selected_action": [invited_of(s).pk], "index": "0"}),
    admin_case("sales.contact", "POST", admin_url("sales.contact", "changelist"), 302, 302, (403, 403),
               data=lambda s, o: {"action": "deactivate", "_selected_action": [s.contact.pk], "index": "0"}),
    admin_case("sales.contact", "POST", admin_url("sales.contact", "delete", "contact"), 403, 403, (403, 403),
               data=lambda s, o: {"post": "yes"}),
    # Alerts, read-only: managers and accountants see them; the lead (an agent) does not.
    admin_case("reports.alert", "GET", admin_url("reports.alert", "changelist"), 200, 200, (403, 403)),
    admin_case("reports.alert", "GET", lambda s, o: reverse("admin:reports_alert_change", args=[alert_of(s).pk]),
               200, 200, (403, 403)),
    admin_case("reports.alert", "GET", lambda s, o: reverse("admin:reports_alert_history", args=[alert_of(s).pk]),
               200, 200, (403, 403)),
    admin_case("reports.alert", "POST", lambda s, o: reverse("admin:reports_alert_change", args=[alert_of(s).pk]),
               403, 403, (403, 403), data=lambda s, o: {"note": "Edited", "_save": "Save"}),
    admin_case("reports.alert", "POST", lambda s, o: reverse("admin:reports_alert_delete", args=[alert_of(s).pk]),
               403, 403, (403, 403), data=lambda s, o: {"post": "yes"}),
    admin_case("reports.alert", "GET", admin_url("reports.alert", "add"), 403, 403, (403, 403)),
]


# --- REST API ----------------------------------------------------------------------------------

API = "/api/v1"


def api(path):
    """Return a function of (side, other) formatting `path` with the side's objects ({ticket}, {line}...)."""
    return lambda side, other: API + path.format(**{name: getattr(side, name).pk for name in (
        "ticket", "task", "team", "order", "line", "manual_line", "quotation", "posted", "draft", "open_entry",
        "drafted_entry", "work_type")}, customer=side.order.customer_id, project=side.team.project_id)


def body(**data):
    return lambda side, other: {key: (value(side) if callable(value) else value) for key, value in data.items()}


API_CASES = [
    Case("customers", "GET", api("/customers/"), (200, 200), 200, 200, anonymous=401),
    Case("customers", "GET", api("/customers/{customer}/"), (200, 200), 200, 200, anonymous=401),
    Case("customers", "POST", api("/customers/"), (403, 403), 403, 201, anonymous=401, data=body(name="Initech")),
    Case("customers", "PATCH", api("/customers/{customer}/"), (403, 403), 403, 200, anonymous=401,
         data=body(email="billing@example.org")),
    Case("customers", "DELETE", api("/customers/{customer}/"), (403, 403), 403, 409, anonymous=401),
    # A customer's contacts (issue 18): managers and accountants see and invite them, agents neither.
    Case("customers", "GET", api("/customers/{customer}/contacts/"), (403, 403), 200, 200, anonymous=401),
    Case("customers", "POST", api("/customers/{customer}/contacts/"), (403, 403), 201, 201, anonymous=401,
         data=body(email="new.contact@example.com", name="New Contact")),
    # The side's contact's address has an account: 409.
    Case("customers", "POST", api("/customers/{customer}/contacts/"), (403, 403), 409, 409, anonymous=401,
         data=lambda s, o: {"email": s.contact.user.email}),
    Case("contacts", "GET", api("/contacts/"), (403, 403), 200, 200, anonymous=401),
    Case("contacts", "GET", lambda s, o: f"{API}/contacts/?customer={s.order.customer_id}", (403, 403), 200, 200,
         anonymous=401),
    Case("contacts", "POST", lambda s, o: f"{API}/contacts/{invited_of(s).pk}/reinvite/", (403, 403), 202, 202,
         anonymous=401),
    # The side's contact has set a password: no invitation again (409).
    Case("contacts", "POST", lambda s, o: f"{API}/contacts/{s.contact.pk}/reinvite/", (403, 403), 409, 409,
         anonymous=401),
    Case("contacts", "POST", lambda s, o: f"{API}/contacts/{s.contact.pk}/deactivate/", (403, 403), 200, 200,
         anonymous=401),
    Case("taxes", "GET", api("/taxes/"), (200, 200), 200, 200, anonymous=401),
    Case("taxes", "POST", api("/taxes/"), (403, 403), 403, 201, anonymous=401, data=body(name="VAT 6%", rate="6")),
    Case("products", "GET", api("/products/"), (200, 200), 200, 200, anonymous=401),
    Case("products", "POST", api("/products/"), (403, 403), 403, 201, anonymous=401,
         data=body(name="Audit", list_price="100")),
    # Work types: every role reads both sides' (configuration), managers write; the side's is used by its
    # order's rate, so it is not deleted (409).
    Case("work-types", "GET", api("/work-types/"), (200, 200), 200, 200, anonymous=401),
    Case("work-types", "GET", api("/work-types/{work_type}/"), (200, 200), 200, 200, anonymous=401),
    Case("work-types", "POST", api("/work-types/"), (403, 403), 403, 201, anonymous=401,
         data=body(name="Travel", billing="non_billable")),
    Case("work-types", "PATCH", api("/work-types/{work_type}/"), (403, 403), 403, 200, anonymous=401,
         data=body(billing="no_charge")),
    Case("work-types", "DELETE", api("/work-types/{work_type}/"), (403, 403), 403, 409, anonymous=401),
    Case("projects", "GET", api("/projects/"), (200, 200), 200, 200, anonymous=401),
    Case("projects", "GET", api("/projects/{project}/"), (200, 404), 200, 200, anonymous=401),
    Case("projects", "PATCH", api("/projects/{project}/"), (403, 403), 403, 200, anonymous=401,
         data=body(name="Renamed")),
    Case("tasks", "GET", api("/tasks/"), (200, 200), 200, 200, anonymous=401),
    Case("tasks", "GET", api("/tasks/{task}/"), (200, 404), 200, 200, anonymous=401),
    Case("tasks", "POST", api("/tasks/"), (403, 403), 403, 201, anonymous=401,
         data=body(project=lambda s: s.team.project_id, name="New task")),
    Case("tasks", "PATCH", api("/tasks/{task}/"), (403, 403), 403, 200, anonymous=401, data=body(name="Renamed")),
    Case("teams", "GET", api("/teams/"), (200, 200), 200, 200, anonymous=401),
    Case("teams", "GET", api("/teams/{team}/"), (200, 404), 200, 200, anonymous=401),
    Case("teams", "PATCH", api("/teams/{team}/"), (403, 403), 403, 200, anonymous=401, data=body(name="Renamed")),
    Case("tickets", "GET", api("/tickets/"), (200, 200), 200, 200, anonymous=401),
    Case("tickets", "GET", api("/tickets/{ticket}/"), (200, 404), 200, 200, anonymous=401),
    # An agent files tickets in their own teams only: another team is not a choice (400).
    Case("tickets", "POST", api("/tickets/"), (201, 400), 403, 201, anonymous=401,
         data=body(team=lambda s: s.team.pk, customer=lambda s: s.order.customer_id, title="New ticket")),
    # Issue 17: the ticket's History, seen as the ticket is; assigning it goes through its service.
    Case("tickets", "GET", api("/tickets/{ticket}/history/"), (200, 404), 200, 200, anonymous=401),
    Case("tickets", "PATCH", api("/tickets/{ticket}/"), (200, 404), 403, 200, anonymous=401,
         data=body(assignee=lambda s: s.agent.pk)),
    Case("tickets", "PATCH", api("/tickets/{ticket}/"), (200, 404), 403, 200, anonymous=401,
         data=body(status="in_progress")),
    # Messages with the customer: read as the ticket is; written by its team's agents and managers.
    Case("tickets", "GET", api("/tickets/{ticket}/messages/"), (200, 404), 200, 200, anonymous=401),
    Case("tickets", "POST", api("/tickets/{ticket}/messages/"), (201, 404), 403, 201, anonymous=401,
         data=body(body="We are on it.")),
    Case("sale-orders", "GET", api("/sale-orders/"), (200, 200), 200, 200, anonymous=401),
    Case("sale-orders", "GET", api("/sale-orders/{order}/"), (200, 404), 200, 200, anonymous=401),
    Case("sale-orders", "POST", api("/sale-orders/"), (403, 403), 201, 201, anonymous=401,
         data=body(customer=lambda s: s.order.customer_id,
                   lines=lambda s: [{"product": s.line.product_id, "quantity": "1"}])),
    Case("sale-orders", "POST", api("/sale-orders/{quotation}/confirm/"), (403, 403), 200, 200, anonymous=401),
    Case("sale-orders", "POST", api("/sale-orders/{quotation}/cancel/"), (403, 403), 200, 200, anonymous=401),
    Case("sale-orders", "POST", api("/sale-orders/{order}/create-invoice/"), (403, 403), 201, 201, anonymous=401,
         data=body()),
    Case("sale-orders", "PATCH", api("/sale-orders/{order}/lines/{manual_line}/"), (403, 403), 200, 200,
         anonymous=401, data=body(delivered="2")),
    # Rates: accountants and managers set them; mapping to the other side's line is refused (400).
    Case("sale-orders", "PATCH", api("/sale-orders/{order}/"), (403, 403), 200, 200, anonymous=401,
         data=lambda s, o: {"agent_rates": [{"user": s.agent.pk, "sale_line": s.line.pk}],
                            "work_type_rates": [{"work_type": o.work_type.pk, "sale_line": s.line.pk}]}),
    Case("sale-orders", "PATCH", api("/sale-orders/{order}/"), (403, 403), 400, 400, anonymous=401,
         data=lambda s, o: {"agent_rates": [{"user": s.agent.pk, "sale_line": o.line.pk}]}),
    Case("sale-orders", "POST", api("/sale-orders/{order}/invoice-preview/"), (403, 403), 200, 200, anonymous=401,
         data=body()),
    Case("timesheets", "GET", api("/timesheets/"), (200, 200), 200, 200, anonymous=401),
    Case("timesheets", "GET", api("/timesheets/{open_entry}/"), (200, 404), 200, 200, anonymous=401),
    # Time goes on the tickets one sees: another team's ticket is not a choice (400).
    Case("timesheets", "POST", api("/timesheets/"), (201, 400), 403, 201, anonymous=401,
         data=body(ticket=lambda s: s.ticket.pk, duration="0:30")),
    # Billing one's time to the other team's customer's line, or logging it as another agent: refused.
    Case("timesheets", "POST", api("/timesheets/"), (400, 400), 403, 400, anonymous=401,
         data=lambda s, o: {"ticket": s.ticket.pk, "duration": "0:30", "sale_line": o.line.pk}),
    # (Whose time it is is asked before the ticket is read: team A's lead, logging as agent A on team B's
    # ticket, is refused for the agent, 403, not for the ticket. Either way nothing is logged, nothing shown.)
    Case("timesheets", "POST", api("/timesheets/"), (403, 400), 403, 201, anonymous=401,
         data=lambda s, o: {"ticket": s.ticket.pk, "duration": "0:30", "user": o.agent.pk}, lead=(403, 403)),
    # Agent A's entry: their lead, a teammate, may read it but not change it.
    Case("timesheets", "PATCH", api("/timesheets/{open_entry}/"), (200, 404), 403, 200, anonymous=401,
         data=body(description="Edited"), lead=(403, 404)),
    Case("timesheets", "DELETE", api("/timesheets/{open_entry}/"), (204, 404), 403, 204, anonymous=401,
         lead=(403, 404)),
    # Approval: managers only, all or nothing; reinstating the open entry (not written off) is a 409.
    Case("timesheets", "POST", api("/timesheets/approve/"), (403, 403), 403, 200, anonymous=401,
         data=body(ids=lambda s: [s.open_entry.pk])),
    Case("timesheets", "POST", api("/timesheets/reject/"), (403, 403), 403, 200, anonymous=401,
         data=body(ids=lambda s: [s.open_entry.pk], reason="Which printer?")),
    Case("timesheets", "POST", api("/timesheets/{open_entry}/reinstate/"), (403, 403), 403, 409, anonymous=401),
    # My Timesheets' week (issue 17): one's own for agents and managers, any team member's for managers; a cell
    # of the other team's ticket is no row (400); the side's invoiced cell is read-only to everyone (409).
    Case("timesheets", "GET", api("/timesheets/week/"), (200, 200), 403, 200, anonymous=401),
    Case("timesheets", "GET", lambda s, o: f"{API}/timesheets/week/?agent={s.agent.pk}", (200, 403), 403, 200,
         anonymous=401, lead=(403, 403)),
    Case("timesheets", "PUT", api("/timesheets/week/"), (200, 400), 403, 200, anonymous=401,
         data=lambda s, o: {"row": f"ticket-{s.ticket.pk}", "date": TODAY, "duration": "0:30"}),
    Case("timesheets", "PUT", api("/timesheets/week/"), (200, 403), 403, 200, anonymous=401, lead=(403, 403),
         data=lambda s, o: {"row": f"ticket-{s.ticket.pk}", "date": TODAY, "minutes": 30, "agent": s.agent.pk}),
    Case("timesheets", "PUT", api("/timesheets/week/"), (409, 403), 403, 409, anonymous=401, lead=(403, 403),
         data=lambda s, o: {"row": f"ticket-{s.ticket.pk}", "date": s.invoiced_entry.date.isoformat(),
                            "duration": "", "agent": s.agent.pk}),
    # Customers' disputes: accountants and managers list and resolve them (keep, write off, correct).
    Case("disputes", "GET", lambda s, o: disputed_of(s) and f"{API}/disputes/", (403, 403), 200, 200,
         anonymous=401),
    Case("disputes", "GET", lambda s, o: f"{API}/disputes/?order={s.order.pk}&ticket={s.ticket.pk}", (403, 403),
         200, 200, anonymous=401),
    Case("timesheets", "POST", lambda s, o: f"{API}/timesheets/{disputed_of(s).pk}/resolve/", (403, 403), 200, 200,
         anonymous=401, data=body(resolution="corrected", answer="Corrected to 0:10.", duration="0:10")),
    # The side's open entry has no open dispute: 409.
    Case("timesheets", "POST", api("/timesheets/{open_entry}/resolve/"), (403, 403), 409, 409, anonymous=401,
         data=body(resolution="kept", answer="As logged.")),
    Case("invoices", "GET", api("/invoices/"), (403, 403), 200, 200, anonymous=401),
    Case("invoices", "GET", api("/invoices/{posted}/"), (403, 403), 200, 200, anonymous=401),
    Case("invoices", "POST", api("/invoices/{draft}/post/"), (403, 403), 200, 200, anonymous=401),
    Case("invoices", "POST", api("/invoices/{draft}/cancel/"), (403, 403), 200, 200, anonymous=401),
    Case("invoices", "POST", api("/invoices/{draft}/remove-timesheets/"), (403, 403), 200, 200, anonymous=401,
         data=body(timesheets=lambda s: [s.drafted_entry.pk])),
    Case("invoices", "POST", api("/invoices/{draft}/write-off/"), (403, 403), 200, 200, anonymous=401,
         data=body(timesheets=lambda s: [s.drafted_entry.pk], reason="Goodwill")),
    Case("invoices", "POST", api("/invoices/{posted}/credit-note/"), (403, 403), 201, 201, anonymous=401,
         data=body()),
    Case("invoices", "GET", stored_pdf(api("/invoices/{posted}/pdf/")), (403, 403), 200, 200, anonymous=401),
    Case("invoices", "POST", api("/invoices/{posted}/send/"), (403, 403), 202, 202, anonymous=401),
    # E-invoices: as the PDF.
    Case("invoices", "GET", stored_pdf(api("/invoices/{posted}/facturx/")), (403, 403), 200, 200, anonymous=401),
    Case("invoices", "GET", api("/invoices/{posted}/ubl/"), (403, 403), 200, 200, anonymous=401),
    # The receivable: managers and accountants read payments, balances and the Overdue filter; accountants
    # register and reverse payments and set a draft's due date; agents see no invoice.
    Case("invoices", "GET", lambda s, o: f"{API}/invoices/?overdue=true&payment_state=not_paid", (403, 403), 200, 200,
         anonymous=401),
    Case("invoices", "GET", api("/invoices/{posted}/payments/"), (403, 403), 200, 200, anonymous=401),
    Case("invoices", "POST", api("/invoices/{posted}/payments/"), (403, 403), 201, 403, anonymous=401,
         data=body(amount="1.00", method="transfer")),
    Case("invoices", "POST", lambda s, o: f"{API}/invoices/{s.posted.pk}/payments/{payment_of(s).pk}/reverse/",
         (403, 403), 201, 403, anonymous=401, data=body(reason="Returned by the bank")),
    Case("invoices", "POST", api("/invoices/{draft}/due-date/"), (403, 403), 200, 403, anonymous=401,
         data=body(due_date=None)),
    # The company: managers and accountants read it (agents: 403, billing data), managers change it.
    Case("company", "GET", lambda s, o: f"{API}/company/", (403, 403), 200, 200, anonymous=401),
    Case("company", "PATCH", lambda s, o: f"{API}/company/", (403, 403), 403, 200, anonymous=401,
         data=body(invoice_footer="Thank you.")),
    Case("company", "PATCH", lambda s, o: f"{API}/company/", (403, 403), 403, 400, anonymous=401,
         data=body(iban="BE00 0000 0000 0000")),
    Case("billing-runs", "GET", api("/billing-runs/"), (403, 403), 200, 200, anonymous=401),
    Case("billing-runs", "GET", lambda s, o: f"{API}/billing-runs/{run_of(s).pk}/", (403, 403), 200, 200,
         anonymous=401),
    Case("billing-runs", "POST", api("/billing-runs/"), (403, 403), 202, 202, anonymous=401,
         data=lambda s, o: {"orders": [s.order.pk]}),
    *[Case("billing-runs", "POST", lambda s, o, action=action: f"{API}/billing-runs/{run_of(s).pk}/{action}/",
           (403, 403), 409, 409, anonymous=401) for action in ("post", "send", "resume")],
    # Reports: the Time report and its entries for every role (an agent's own time: by ticket and by agent,
    # whose names are markers, none of the other team's shows); the others for managers and accountants.
    *[Case("reports", "GET", lambda s, o, path=path: f"{API}/reports/{path}", (200, 200), 200, 200, anonymous=401)
      for path in ("time/", "time/?group_by=ticket", "time/?group_by=agent,month", "time/?export=csv",
                   "time/entries/", "time/entries/?status=to_invoice")],
    Case("reports", "GET", lambda s, o: f"{API}/reports/time/entries/?ticket={o.ticket.pk}", (200, 200), 200, 200,
         anonymous=401),
    *[Case("reports", "GET", lambda s, o, path=path: f"{API}/reports/{path}", (403, 403), 200, 200, anonymous=401)
      for path in ("unbilled/", "revenue/", "prepaid/", "unbilled/?export=xlsx")],
    Case("reports", "GET", lambda s, o: f"{API}/reports/prepaid/{prepaid_of(s).pk}/burndown/", (403, 403), 200, 200,
         anonymous=401),
    Case("overview", "GET", lambda s, o: alert_of(s) and f"{API}/overview/", (200, 200), 200, 200, anonymous=401),
    Case("alerts", "GET", lambda s, o: f"{API}/alerts/?state=all", (403, 403), 200, 200, anonymous=401),
    Case("alerts", "POST", lambda s, o: f"{API}/alerts/{alert_of(s).pk}/clear/", (403, 403), 200, 200,
         anonymous=401, data=body(note="Upsold 10 hours")),
    Case("schema", "GET", lambda s, o: f"{API}/schema/", (200, 200), 200, 200, anonymous=200),
]


# --- The customer portal (issue 18) -----------------------------------------------------------

def portal_case(name, method, address, contact, data=None, anonymous=PORTAL_LOGIN, staff=403):
    """A case of the portal: a contact's answer (on their customer's object, on the other's); staff get `staff`
    (the portal is not theirs), strangers `anonymous`."""
    return Case(name, method, address, (staff, staff), staff, staff, data=data, anonymous=anonymous,
                contact=contact)


def ticket_form(side, other):
    return {"team": side.team.pk, "title": "Printer offline again", "description": "Since this morning."}


PORTAL_WEB = [
    portal_case("portal_home", "GET", url("portal_home"), (200, 200)),
    portal_case("portal_tickets", "GET", url("portal_tickets"), (200, 200)),
    portal_case("portal_tickets", "GET", lambda s, o: f"{reverse('portal_tickets')}?status=all&q=team", (200, 200)),
    # A search for the other customer's ticket by its number: none of theirs shows (the markers are checked).
    portal_case("portal_tickets", "GET", lambda s, o: f"{reverse('portal_tickets')}?status=all&q={o.ticket.pk}",
                (200, 200)),
    portal_case("portal_ticket_new", "GET", url("portal_ticket_new"), (200, 200)),
    # Both teams accept portal tickets: any contact opens one for either (a team is no customer's).
    portal_case("portal_ticket_new", "POST", url("portal_ticket_new"), (302, 302), data=ticket_form),
    portal_case("portal_ticket", "GET", url("portal_ticket", "ticket"), (200, 404)),
    portal_case("portal_ticket_message", "POST", url("portal_ticket_message", "ticket"), (302, 404),
                data=lambda s, o: {"body": "Any news?"}),
    portal_case("portal_entry_acknowledge", "POST", url("portal_entry_acknowledge", "open_entry"), (302, 404)),
    portal_case("portal_entry_dispute", "POST", url("portal_entry_dispute", "open_entry"), (302, 404),
                data=lambda s, o: {"reason": "We never asked for this."}),
    # Invoiced time (a posted invoice's, a draft's) is no longer theirs to dispute: refused, back to the ticket.
    portal_case("portal_entry_dispute", "POST", url("portal_entry_dispute", "invoiced_entry"), (302, 404),
                data=lambda s, o: {"reason": "Too long."}),
    portal_case("portal_entry_acknowledge", "POST", url("portal_entry_acknowledge", "drafted_entry"), (302, 404)),
    portal_case("portal_hours", "GET", url("portal_hours"), (200, 200)),
    portal_case("portal_invoices", "GET", url("portal_invoices"), (200, 200)),
    portal_case("portal_invoice", "GET", url("portal_invoice", "posted"), (200, 404)),
    # A draft never reached the customer: not found, theirs or not.
    portal_case("portal_invoice", "GET", url("portal_invoice", "draft"), (404, 404)),
    portal_case("portal_invoice_pdf", "GET", stored_pdf(url("portal_invoice_pdf", "posted")), (200, 404)),
    portal_case("portal_invoice_pdf", "GET", url("portal_invoice_pdf", "draft"), (404, 404)),
]
# Signing in and the one-time links are for strangers: tests/security/test_portal_sequences.py.
PORTAL_ACCOUNT = {"portal_login", "portal_password_forgot", "portal_password_set"}

PORTAL_API = [
    portal_case("portal/me", "GET", api("/portal/me/"), (200, 200), anonymous=401),
    portal_case("portal/teams", "GET", api("/portal/teams/"), (200, 200), anonymous=401),
    portal_case("portal/tickets", "GET", api("/portal/tickets/"), (200, 200), anonymous=401),
    portal_case("portal/tickets", "POST", api("/portal/tickets/"), (201, 201), anonymous=401, data=ticket_form),
    portal_case("portal/tickets", "GET", api("/portal/tickets/{ticket}/"), (200, 404), anonymous=401),
    portal_case("portal/tickets", "GET", api("/portal/tickets/{ticket}/messages/"), (200, 404), anonymous=401),
    portal_case("portal/tickets", "POST", api("/portal/tickets/{ticket}/messages/"), (201, 404), anonymous=401,
                data=body(body="Any news?")),
    portal_case("portal/timesheets", "GET", api("/portal/timesheets/"), (200, 200), anonymous=401),
    # Filtered by the other customer's ticket: none of theirs (the markers are checked).
    portal_case("portal/timesheets", "GET", lambda s, o: f"{API}/portal/timesheets/?ticket={o.ticket.pk}",
                (200, 200), anonymous=401),
    portal_case("portal/timesheets", "GET", api("/portal/timesheets/{open_entry}/"), (200, 404), anonymous=401),
    portal_case("portal/timesheets", "POST", api("/portal/timesheets/{open_entry}/acknowledge/"), (200, 404),
                anonymous=401),
    portal_case("portal/timesheets", "POST", api("/portal/timesheets/{open_entry}/dispute/"), (200, 404),
                anonymous=401, data=body(reason="We never asked for this.")),
    # Invoiced time: a conflict for its contact.
    portal_case("portal/timesheets", "POST", api("/portal/timesheets/{drafted_entry}/dispute/"), (409, 404),
                anonymous=401, data=body(reason="Too long.")),
    portal_case("portal/lines", "GET", api("/portal/lines/"), (200, 200), anonymous=401),
    portal_case("portal/invoices", "GET", api("/portal/invoices/"), (200, 200), anonymous=401),
    portal_case("portal/invoices", "GET", api("/portal/invoices/{posted}/"), (200, 404), anonymous=401),
    portal_case("portal/invoices", "GET", api("/portal/invoices/{draft}/"), (404, 404), anonymous=401),
    portal_case("portal/invoices", "GET", stored_pdf(api("/portal/invoices/{posted}/pdf/")), (200, 404),
                anonymous=401),
]

# --- Running the matrix ----------------------------------------------------------------------

def boundary(method, address):
    """What core.boundary answers a contact asking an internal address."""
    if address.startswith("/api/") or method != "GET":
        return 403
    return PORTAL


def outcome(response):
    if response.status_code == 302:
        location = response["Location"]
        if location == reverse("portal_home"):
            return PORTAL
        if location.startswith(reverse("portal_login")):
            return PORTAL_LOGIN
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location.startswith(reverse("login")):
            return LOGIN
    return response.status_code


def sides_of(world, persona):
    """Return [(side, other, own)]: both sides, and whether the side is the persona's own."""
    own = AGENTS.get(persona) or CONTACTS.get(persona)
    return [(world.a, world.b, own in (None, "a")), (world.b, world.a, own in (None, "b"))]


def run(world, persona, cases, client, send):
    """Send every case on both sides; return the mismatches and the successful bodies."""
    mismatches, bodies = [], []
    me = world.users[persona].pk if persona in world.users else ""
    for case in cases:
        for side, other, own in sides_of(world, persona):
            address = case.url(side, other)
            data = case.data(side, other) if case.data else None
            if data is not None:
                data = {key: me if value is ME else value for key, value in data.items()}
            with transaction.atomic():
                response = send(client, case.method, address, data)
                transaction.set_rollback(True)  # every case starts from the same world
            got, expected = outcome(response), case.expected(persona, own)
            if expected == BOUNDARY:
                expected = boundary(case.method, address)
            if got != expected:
                mismatches.append(f"{persona} {case.method} {address} ({case.name}, team {side.name}): "
                                  f"expected {expected}, got {got}")
            if response.status_code == 200 and case.method == "GET":
                content = b"".join(response.streaming_content) if response.streaming else response.content
                bodies.append((address, content.decode(errors="replace")))
    return mismatches, bodies


def leaks(world, persona, bodies, markers_of):
    """Return the other team's markers found on an agent's successful pages, or the other customer's on a
    contact's (and what is internal: the project and task of their own side's team)."""
    if persona in CONTACTS:
        own, other = (world.a, world.b) if CONTACTS[persona] == "a" else (world.b, world.a)
        found = [f"{persona} sees {marker!r} of customer {other.name} on {address}"
                 for address, text in bodies for marker in other.contact_markers if marker in text]
        return found + [f"{persona} sees the internal {marker!r} on {address}" for address, text in bodies
                        for marker in (own.team.project.name, own.task.name) if marker in text]
    if persona not in AGENTS:
        return []
    other = world.b if AGENTS[persona] == "a" else world.a
    return [f"{persona} sees {marker!r} of team {other.name} on {address}"
            for address, text in bodies for marker in markers_of(other) if marker in text]


def send_web(client, method, address, data):
    return client.get(address) if method == "GET" else client.post(address, data or {})


def send_api(client, method, address, data):
    return client.generic(method, address, data="" if data is None else json.dumps(data),
                          content_type="application/json")


def browser_of(world, persona) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(world.users[persona])
    return client


def api_client_of(world, persona) -> APIClient:
    client = APIClient()
    if persona != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=world.users[persona]).key}")
    return client


def test_the_matrix_covers_every_screen_and_api_resource():
    assert set(LOOKUP_ANSWERS) | {"ticket-sale-lines"} | set(DEPENDENT_LOOKUPS) == set(KINDS)
    screens = {name for name, _ in web_routes()}
    assert screens - {case.name for case in WEB} == set()
    from api.urls import router
    internal = {prefix for prefix, _, _ in router.registry if not prefix.startswith("portal/")}
    assert internal - {case.name for case in API_CASES} == set()
    # The portal's screens and its API: every route and router registration (and me/) has its cases.
    portal_screens = {pattern.name for pattern in get_resolver("portal.urls").url_patterns if pattern.name}
    assert portal_screens - PORTAL_ACCOUNT - {case.name for case in PORTAL_WEB} == set()
    portal_api = {prefix for prefix, _, _ in router.registry if prefix.startswith("portal/")} | {"portal/me"}
    assert portal_api - {case.name for case in PORTAL_API} == set()


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_open_and_do_what_on_the_screens(world, persona):
    mismatches, bodies = run(world, persona, WEB, browser_of(world, persona), send_web)
    assert "\n".join(mismatches) == ""
    assert "\n".join(leaks(world, persona, bodies, lambda side: side.markers)) == ""


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_open_and_do_what_in_the_admin(world, persona):
    mismatches, bodies = run(world, persona, ADMIN, browser_of(world, persona), send_web)
    assert "\n".join(mismatches) == ""
    assert "\n".join(leaks(world, persona, bodies, lambda side: side.markers)) == ""


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_read_and_call_what_in_the_api(world, persona):
    mismatches, bodies = run(world, persona, API_CASES, api_client_of(world, persona), send_api)
    assert "\n".join(mismatches) == ""
    # Customers are readable by every role (configuration): their names are not a leak in the API.
    markers = lambda side: [m for m in side.markers if "Customer" not in m]  # noqa: E731
    assert "\n".join(leaks(world, persona, bodies, markers)) == ""


@pytest.mark.parametrize("persona", CONTACTS)
def test_a_contact_reaches_nothing_internal(world, persona):
    """Every internal screen, admin page and API case, for a customer's contact: the boundary's answer."""
    mismatches = []
    for cases, client, send in ((WEB, browser_of(world, persona), send_web),
                                (ADMIN, browser_of(world, persona), send_web),
                                (API_CASES, api_client_of(world, persona), send_api)):
        mismatches += run(world, persona, cases, client, send)[0]
    assert "\n".join(mismatches) == ""


@pytest.mark.parametrize("persona", PERSONAS + list(CONTACTS))
def test_who_may_open_and_do_what_on_the_portal(world, persona):
    """The portal's screens and API, by session (screens) and by token (API): a contact's own customer's
    objects, not the other's; not staff's; strangers to the login."""
    mismatches, bodies = run(world, persona, PORTAL_WEB, browser_of(world, persona), send_web)
    api_mismatches, api_bodies = run(world, persona, PORTAL_API, api_client_of(world, persona), send_api)
    assert "\n".join(mismatches + api_mismatches) == ""
    assert "\n".join(leaks(world, persona, bodies + api_bodies, None)) == ""


def test_a_contact_reads_the_staffs_names_only_when_the_company_shows_them(world):
    """Agent A writes to the customer and the accountant resolves a dispute with an answer: with the company's
    "portal shows agents' names" on, contact A reads the agent's name on the ticket's Timesheets, Messages and
    History and in the API; off, no staff name on any of their pages nor API answers ("Support team")."""
    a = world.a
    names = {"agent_a": ("Alice", "Agentova"), "accountant": ("Bertha", "Bookman"), "manager": ("Max", "Mustermann")}
    for username, (first, last) in names.items():
        get_user_model().objects.filter(username=username).update(first_name=first, last_name=last)
    ticket_message_add(ticket=a.ticket, author=world.users["agent_a"], body="We replaced the drum.")
    entry = disputed_of(a)
    dispute_resolve(entry=entry, resolution="kept", answer="The drum took 20 minutes.",
                    actor=world.users["accountant"])
    entry_acknowledge(entry=a.open_entry, contact=a.contact)
    page, api = reverse("portal_ticket", args=[a.ticket.pk]), f"{API}/portal/timesheets/?ticket={a.ticket.pk}"
    staff = ["Alice", "Agentova", "agent_a", "Bertha", "Bookman", "Max Mustermann", "lead_a"]

    def bodies():
        found = run(world, "contact_a", [case for case in PORTAL_WEB if case.method == "GET"],
                    browser_of(world, "contact_a"), send_web)[1]
        found += run(world, "contact_a", [case for case in PORTAL_API if case.method == "GET"],
                     api_client_of(world, "contact_a"), send_api)[1]
        messages = api_client_of(world, "contact_a").get(f"{API}/portal/tickets/{a.ticket.pk}/messages/")
        return found + [("messages", messages.content.decode())]

    shown = dict(bodies())
    assert "Alice Agentova" in shown[page] and "Alice Agentova" in shown[api]
    assert "The drum took 20 minutes." in shown[page] and "We replaced the drum." in shown["messages"]

    Company.objects.update(portal_shows_agents=False)
    hidden = bodies()
    assert [f"{name} on {address}" for address, text in hidden for name in staff if name in text] == []
    assert "Support team" in dict(hidden)[page] and "Support team" in dict(hidden)["messages"]
    assert "The drum took 20 minutes." in dict(hidden)[page]


def test_an_agents_time_report_holds_their_own_time_only(world):
    """Agent A's Time report and its entries, by API and on screen: A's three entries (2:15), none of B's."""
    a, b = world.a, world.b
    own = [a.invoiced_entry, a.drafted_entry, a.open_entry]
    api = api_client_of(world, "agent_a")

    report = api.get(f"{API}/reports/time/?group_by=agent").json()
    assert [(row["agent"], row["total"], row["entries"]) for row in report["rows"]] == [("agent_a", 135, 3)]
    assert report["totals"]["total"] == 135
    entries = api.get(f"{API}/reports/time/entries/").json()
    assert sorted(entry["id"] for entry in entries["results"]) == sorted(entry.pk for entry in own)
    assert api.get(f"{API}/reports/time/entries/?agent={b.agent.pk}").json()["count"] == 0
    # The manager sees both agents' time.
    both = api_client_of(world, "manager").get(f"{API}/reports/time/?group_by=agent").json()
    assert [(row["agent"], row["total"]) for row in both["rows"]] == [("agent_a", 135), ("agent_b", 135)]

    page = browser_of(world, "agent_a").get(reverse("report_time_entries")).content.decode()
    assert all(entry.description in page for entry in own)
    assert not any(marker in page for marker in b.markers)


def test_a_cell_logged_in_the_grid_then_invoiced_is_read_only(world):
    """Agent A fills a cell of their week in the grid; the accountant clicks Create Invoice; the cell is then
    read-only with the invoice's name, on the screen and in the API, whose PUT is a 409."""
    a = world.a
    desk, cell = browser_of(world, "agent_a"), f"ticket-{a.ticket.pk}:{TODAY}"
    assert desk.post(reverse("my_timesheets"), {f"cell:{cell}": "1:15"}).status_code == 302
    entry = TimeEntry.objects.get(user=a.agent, date=TODAY, minutes=75)
    accounts = browser_of(world, "accountant")
    assert accounts.post(reverse("invoice_create", args=[a.order.pk])).status_code == 302
    entry.refresh_from_db()
    invoice = entry.invoice_line.invoice
    reason = f"Invoiced on {invoice}: invoiced time cannot be changed."

    page = desk.get(reverse("my_timesheets")).content.decode()
    assert f'<span class="cell-text" title="{reason}">' in page
    assert f'name="cell:{cell}"' not in page
    api = api_client_of(world, "agent_a")
    response = send_api(api, "PUT", f"{API}/timesheets/week/", {"row": f"ticket-{a.ticket.pk}", "date": TODAY,
                                                                "duration": "2:00"})
    assert (response.status_code, response.json()) == (409, {"detail": reason})
    refused = desk.post(reverse("my_timesheets"), {f"cell:{cell}": "2:00", f"was:{cell}": "1:15"})
    assert [typed.error for typed in refused.context["leftover"]] == [reason]
    entry.refresh_from_db()
    assert entry.minutes == 75
