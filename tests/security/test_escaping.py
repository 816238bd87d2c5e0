"""User text is shown as text: a <script> typed in a ticket, a customer or a time entry never runs."""

import io

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from pypdf import PdfReader

from invoicing.pdf import invoice_pdf, invoice_pdf_context
from invoicing.services import invoice_create_from_order, invoice_post
from projects.services import task_create
from tickets.services import ticket_link_task
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, TeamFactory, TicketFactory, UserFactory, confirmed_line, days_ago

EVIL = '<script>alert("owned")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
def hostile(db):
    """A customer, ticket, task, order line and entry whose every text field is EVIL; a posted invoice."""
    customer = CustomerFactory(name=f"Acme {EVIL}", address=f"1 Main St {EVIL}", vat_number="BE<b>1</b>")
    line = confirmed_line(order__customer=customer, name=f"Support {EVIL}")
    team = TeamFactory(name=f"Team {EVIL}")
    agent = UserFactory(username="agent", role="Agents", first_name="<i>Eve</i>")
    team.members.add(agent)
    ticket = TicketFactory(team=team, customer=customer, sale_line=line, title=f"Title {EVIL}",
                           description=f"Description {EVIL}")
    ticket = ticket_link_task(ticket=ticket, task=task_create(project=team.project, name=f"Task {EVIL}"))
    timesheet_log(user=agent, date=days_ago(1), minutes=90, ticket=ticket, description=f"Entry {EVIL}")
    invoice = invoice_post(invoice=invoice_create_from_order(order=line.order))
    return {"agent": agent, "ticket": ticket, "order": line.order, "invoice": invoice, "line": line}


def pages(h):
    return [reverse("ticket_list"), reverse("ticket_detail", args=[h["ticket"].pk]), reverse("task_list"),
            reverse("task_detail", args=[h["ticket"].task_id]), reverse("order_list"),
            reverse("order_detail", args=[h["order"].pk]), reverse("invoice_list"),
            reverse("invoice_detail", args=[h["invoice"].pk]), f"{reverse('ticket_list')}?q={EVIL}",
            reverse("admin:tickets_ticket_change", args=[h["ticket"].pk]),
            reverse("admin:timesheets_timeentry_changelist"), reverse("admin:invoicing_invoice_change",
                                                                    args=[h["invoice"].pk]),
            reverse("admin:audit_auditevent_changelist")]


def test_pages_show_the_text_escaped(client, hostile):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    for address in pages(hostile):
        response = client.get(address)
        assert response.status_code == 200, address
        html = response.content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, address
    html = client.get(reverse("ticket_detail", args=[hostile["ticket"].pk])).content.decode()
    assert f"Title {ESCAPED}" in html and f"Description {ESCAPED}" in html and f"Entry {ESCAPED}" in html


def test_the_agents_pages_too(client, hostile):
    client.force_login(hostile["agent"])
    for address in pages(hostile)[:9]:
        html = client.get(address).content.decode()
        assert "<script>alert" not in html, address


def test_the_pdf_prints_the_text_and_runs_nothing(hostile):
    invoice = hostile["invoice"]
    html = render_to_string("invoicing/invoice_pdf.html", invoice_pdf_context(invoice=invoice))
    assert "<script>alert" not in html and "<img src=x" not in html
    assert f"Acme {ESCAPED}" in html and "BE&lt;b&gt;1&lt;/b&gt;" in html

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(invoice_pdf(invoice=invoice))).pages)
    text = "".join(text.split())  # table cells wrap anywhere
    # The markup is printed as it was typed: escaped, not interpreted.
    assert 'Acme<script>alert("owned")</script><imgsrc=xonerror=alert(1)>' in text
    assert 'Entry<script>alert("owned")</script>' in text and "<i>Eve</i>" in text


# --- The customer portal (issue 18): what a customer's contact types, and what the staff answer ---------------

@pytest.fixture
def hostile_portal(hostile):
    """The hostile world's customer gets a contact named EVIL, who opens a ticket, writes, and disputes the entry
    with EVIL; the team answers with EVIL, and an accountant resolves another dispute with EVIL."""
    from sales.contacts import contact_invite
    from tickets.services import ticket_message_add, ticket_open_from_portal
    from timesheets.disputes import dispute_resolve, entry_dispute

    ticket = hostile["ticket"]
    ticket.team.portal_tickets = True
    ticket.team.save()
    contact = contact_invite(customer=ticket.customer, email="evil@customer.example", name=EVIL)
    opened = ticket_open_from_portal(contact=contact, team=ticket.team, title=f"Portal {EVIL}",
                                     description=f"Portal description {EVIL}")
    ticket_message_add(ticket=ticket, author=contact.user, body=f"Message {EVIL}")
    ticket_message_add(ticket=ticket, author=hostile["agent"], body=f"Answer {EVIL}")
    disputed = timesheet_log(user=hostile["agent"], date=days_ago(1), minutes=30, ticket=ticket, description="Two")
    entry_dispute(entry=disputed, contact=contact, reason=f"Reason {EVIL}")
    resolved = timesheet_log(user=hostile["agent"], date=days_ago(1), minutes=15, ticket=ticket, description="One")
    entry_dispute(entry=resolved, contact=contact, reason=f"Reason {EVIL}")
    accountant = UserFactory(username="books", role="Accountants", is_staff=True, first_name="<b>Bo</b>")
    dispute_resolve(entry=resolved, resolution="kept", answer=f"Kept {EVIL}", actor=accountant)
    return {**hostile, "contact": contact, "opened": opened, "accountant": accountant}


def test_the_portals_pages_show_the_text_escaped(client, hostile_portal):
    h = hostile_portal
    client.force_login(h["contact"].user)
    for address in [reverse("portal_home"), reverse("portal_tickets"), f"{reverse('portal_tickets')}?q={EVIL}",
                    reverse("portal_ticket", args=[h["ticket"].pk]), reverse("portal_ticket", args=[h["opened"].pk]),
                    reverse("portal_hours"), reverse("portal_invoices"), reverse("portal_invoice", args=[
                        h["invoice"].pk])]:
        response = client.get(address)
        assert response.status_code == 200, address
        html = response.content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>Bo</b>" not in html, address
    html = client.get(reverse("portal_ticket", args=[h["ticket"].pk])).content.decode()
    assert all(f"{word} {ESCAPED}" in html for word in ("Message", "Answer", "Reason", "Kept"))


def test_the_staffs_pages_show_the_contacts_text_escaped(client, hostile_portal):
    h = hostile_portal
    client.force_login(h["accountant"])
    addresses = [reverse("ticket_detail", args=[h["ticket"].pk]), reverse("ticket_detail", args=[h["opened"].pk]),
                 reverse("order_detail", args=[h["order"].pk]), reverse("dispute_list"), reverse("home"),
                 reverse("invoice_preview", args=[h["order"].pk]), reverse("to_invoice"),
                 reverse("admin:sales_contact_changelist"),
                 reverse("admin:sales_contact_change", args=[h["contact"].pk]),
                 reverse("admin:sales_customer_change", args=[h["order"].customer_id]),
                 reverse("admin:audit_auditevent_changelist")]
    for address in addresses:
        response = client.get(address)
        assert response.status_code == 200, address
        html = response.content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>Bo</b>" not in html, address
    html = client.get(reverse("ticket_detail", args=[h["ticket"].pk])).content.decode()
    assert f"Message {ESCAPED}" in html and f"Reason {ESCAPED}" in html
