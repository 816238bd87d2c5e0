"""To Approve (Rule 11): grouping, totals, filters, bulk Approve and Reject; the approval badges of the
Timesheets tab; awaiting approval on the order page; the lock date on the tab (Rule 12); and a manager
then an accountant in Chromium."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import expect

from invoicing.models import Invoice
from tickets.services import team_save
from timesheets.models import LockDate, TimeEntry
from timesheets.services import APPROVED_MESSAGE, timesheet_log
from web.views import approval

from ..browser import lookup_box, pick
from ..factories import CustomerFactory, TaskFactory, TicketFactory, UserFactory, confirmed_line, days_ago
from .conftest import signed_in

Approval = TimeEntry.Approval
MONDAY = datetime.date(2025, 3, 3)


def day(n: int) -> datetime.date:
    return MONDAY + datetime.timedelta(days=n)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def groups(response) -> list[tuple]:
    """The page's groups as (level, label, total, descriptions), in the order shown."""
    shown = []
    for agent in response.context["agents"]:
        shown.append(("agent", agent["agent"].username, agent["minutes"]))
        for week in agent["weeks"]:
            shown.append(("week", str(week["monday"]), week["minutes"]))
            for target in week["targets"]:
                first = target["first"]
                label = f"#{first.ticket_id}" if first.ticket_id else first.task.name
                shown.append(("target", label, target["minutes"], [e.description for e in target["entries"]]))
    return shown


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", role="Agents")


@pytest.fixture
def week_of_time(member, bob, manager, ticket):
    """The agent: 1:30 and 0:30 on the ticket and 0:45 on a task in the week of 2025-03-03, 1:00 the week after;
    bob 0:15 on the ticket; the manager 0:20 (never on their own To Approve)."""
    task = TaskFactory(project=ticket.team.project, name="Migrate the mail server")
    return {
        "a1": timesheet_log(user=member, date=day(0), minutes=90, ticket=ticket, description="A1"),
        "t1": timesheet_log(user=member, date=day(1), minutes=45, task=task, description="T1"),
        "a2": timesheet_log(user=member, date=day(2), minutes=30, ticket=ticket, description="A2"),
        "a3": timesheet_log(user=member, date=day(7), minutes=60, ticket=ticket, description="A3"),
        "b1": timesheet_log(user=bob, date=day(1), minutes=15, ticket=ticket, description="B1"),
        "own": timesheet_log(user=manager, date=day(1), minutes=20, ticket=ticket, description="Own"),
    }


def states() -> dict[str, tuple]:
    return {e.description: (e.approval, e.approval_note) for e in TimeEntry.objects.order_by("pk")}


# --- The list -------------------------------------------------------------------------------

def test_to_approve_groups_by_agent_week_and_ticket_with_totals(manager_client, ticket, week_of_time):
    response = manager_client.get(reverse("to_approve"))
    assert response.status_code == 200
    assert groups(response) == [
        ("agent", "agent", 225),
        ("week", "2025-03-03", 165),
        ("target", f"#{ticket.pk}", 120, ["A1", "A2"]),
        ("target", "Migrate the mail server", 45, ["T1"]),
        ("week", "2025-03-10", 60),
        ("target", f"#{ticket.pk}", 60, ["A3"]),
        ("agent", "bob", 15),
        ("week", "2025-03-03", 15),
        ("target", f"#{ticket.pk}", 15, ["B1"]),
    ]
    html = response.content.decode()
    assert html.count('data-total="agent">3:45<') == 1 and html.count('data-total="week">2:45<') == 1
    assert '<td class="num" id="to-approve-total">4:00</td>' in html  # every entry but the manager's own
    assert "Total (5 timesheets)" in html and "Own" not in html
    # A group's box ticks its entries: their ids, comma-separated.
    assert f'name="group" value="{week_of_time["a1"].pk},{week_of_time["a2"].pk}"' in html


def test_a_groups_total_counts_its_entries_on_every_page(manager_client, monkeypatch, week_of_time):
    monkeypatch.setattr(approval, "PER_PAGE", 2)
    response = manager_client.get(reverse("to_approve"), {"page": 2})
    # Page 2 holds A2 and A3; their groups' totals are those of the whole groups.
    assert groups(response)[:3] == [("agent", "agent", 225), ("week", "2025-03-03", 165),
                                    ("target", f"#{week_of_time['a2'].ticket_id}", 120, ["A2"])]
    assert response.context["total_minutes"] == 240


def test_the_filters_narrow_the_list(manager_client, bob, ticket, week_of_time):
    def listed(**query):
        response = manager_client.get(reverse("to_approve"), query)
        assert response.status_code == 200
        return [e.description for e in response.context["page_obj"]]

    other_customer = CustomerFactory(name="Globex")
    other_ticket = TicketFactory(customer=other_customer, title="Globex printer")
    timesheet_log(user=bob, date=day(3), minutes=10, ticket=other_ticket, description="G1")
    assert listed() == ["A1", "T1", "A2", "A3", "B1", "G1"]
    assert listed(agent=bob.pk) == ["B1", "G1"]
    assert listed(team=ticket.team.pk) == ["A1", "A2", "A3", "B1"]
    assert listed(customer=other_customer.pk) == ["G1"]
    assert listed(customer=ticket.customer.pk) == ["A1", "A2", "A3", "B1"]
    assert listed(start=day(1), end=day(2)) == ["T1", "A2", "B1"]
    assert listed(start=day(7)) == ["A3"]


@pytest.mark.parametrize("query, field, error", [
    ({"team": "abc"}, "team", "Select a valid choice. That choice is not one of the available choices."),
    ({"agent": "999999999999999999999"}, "agent",
     "Select a valid choice. That choice is not one of the available choices."),
    ({"start": "2025-13-45"}, "start", "Enter a valid date."),
    ({"start": "2025-03-10", "end": "2025-03-03"}, "end", "The period ends on or after its first day."),
])
def test_a_bad_filter_says_so_and_lists_nothing(manager_client, week_of_time, query, field, error):
    response = manager_client.get(reverse("to_approve"), query)
    assert response.status_code == 200
    assert messages_of(response) == ["Correct the filters below to list the timesheets."]
    assert response.context["filters"].errors == {field: [error]}
    assert list(response.context["page_obj"]) == []
    assert error in response.content.decode()


def test_the_pages_queries_do_not_grow_with_the_entries(manager_client, member, bob, ticket):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(reverse("to_approve")).status_code == 200
        return len(captured)

    task = TaskFactory(project=ticket.team.project)
    for n in range(3):
        timesheet_log(user=member, date=day(n), minutes=30, ticket=ticket)
    few = queries()
    for n in range(12):
        timesheet_log(user=[member, bob][n % 2], date=day(n), minutes=15 + n, ticket=ticket if n % 3 else None,
                      task=task if not n % 3 else None)
    # The session and user, their groups, the filters' teams, agents and customers, the count, the page,
    # the groups' totals, the overall total: the same for 3 entries as for 15.
    assert queries() == few


def test_only_managers_see_to_approve(client, member, accountant, manager):
    assert signed_in(client, member).get(reverse("to_approve")).status_code == 403
    assert signed_in(client, accountant).get(reverse("to_approve")).status_code == 403
    assert 'href="/to-approve/"' not in client.get(reverse("ticket_list")).content.decode()
    assert signed_in(client, member).post(reverse("to_approve"), {"action": "approve"}).status_code == 403
    response = signed_in(client, manager).get(reverse("ticket_list"))
    assert '<a href="/to-approve/">To Approve</a>' in response.content.decode()


# --- Approve and Reject -----------------------------------------------------------------------

def test_approve_the_ticked_entries_and_groups_keeping_the_filters(manager_client, manager, week_of_time):
    e = week_of_time
    address = f"{reverse('to_approve')}?start=2025-03-01&end=2025-03-31"
    response = manager_client.post(address, {"entry": [e["a3"].pk], "group": f"{e['a1'].pk},{e['a2'].pk}",
                                              "action": "approve"})
    assert response.status_code == 302 and response["Location"] == address
    response = manager_client.get(address)
    assert messages_of(response) == ["Approved 3 timesheets."]
    assert [x.description for x in response.context["page_obj"]] == ["T1", "B1"]
    approved = TimeEntry.objects.filter(approval=Approval.APPROVED)
    assert sorted(approved.values_list("description", flat=True)) == ["A1", "A2", "A3"]
    assert set(approved.values_list("reviewed_by", flat=True)) == {manager.pk}


def test_reject_without_a_reason_is_refused_and_nothing_changes(manager_client, week_of_time):
    before = states()
    response = manager_client.post(reverse("to_approve"), {"entry": [week_of_time["a1"].pk], "reason": "  ",
                                                            "action": "reject"}, follow=True)
    assert messages_of(response) == ["Give the reason for rejecting."]
    assert states() == before


def test_rejecting_ones_own_time_is_refused_naming_the_entry(manager_client, week_of_time):
    before = states()
    own, a1 = week_of_time["own"].pk, week_of_time["a1"].pk
    response = manager_client.post(reverse("to_approve"), {"entry": [a1, own], "reason": "Too long",
                                                            "action": "reject"}, follow=True)
    assert messages_of(response) == [
        f"These timesheets cannot be rejected: {own} (your own time: another manager reviews it)."]
    assert states() == before  # all or nothing: A1 stays to approve too


def test_approve_with_nothing_ticked_says_so(manager_client, week_of_time):
    response = manager_client.post(reverse("to_approve"), {"entry": ["x"], "action": "approve"}, follow=True)
    assert messages_of(response) == ["Choose at least one timesheet."]


def test_a_rejected_entry_shows_its_reason_on_the_ticket_and_goes_back_when_edited(
        manager_client, client, member, ticket, week_of_time):
    a1 = week_of_time["a1"]
    manager_client.post(reverse("to_approve"), {"entry": [a1.pk], "reason": "Split it per task",
                                                "action": "reject"})
    agent = signed_in(client, member)
    html = agent.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    row = html[html.index(f'id="entry-{a1.pk}"'):]
    row = row[:row.index("</tr>")]
    assert '<span class="badge rejected">Rejected</span>' in row
    assert 'Split it per task <span class="muted">— manager</span>' in row
    response = agent.post(reverse("ticket_detail", args=[ticket.pk]), {
        "action": "edit", "entry": a1.pk, "edit-date": day(0).isoformat(), "edit-duration": "1:00",
        "edit-description": "A1, the printer part"})
    assert response.status_code == 302
    a1.refresh_from_db()
    assert (a1.minutes, a1.approval, a1.approval_note) == (60, Approval.TO_APPROVE, "")


def test_an_agent_editing_approved_time_gets_the_message(manager_client, client, member, ticket, week_of_time):
    a1 = week_of_time["a1"]
    manager_client.post(reverse("to_approve"), {"entry": [a1.pk], "action": "approve"})
    agent = signed_in(client, member)
    page = agent.get(reverse("ticket_detail", args=[ticket.pk]))
    html = page.content.decode()
    assert f"?edit={a1.pk}#" not in html  # no Edit offered on approved time
    assert f"?edit={week_of_time['a2'].pk}#" in html
    response = agent.post(reverse("ticket_detail", args=[ticket.pk]), {
        "action": "edit", "entry": a1.pk, "edit-date": day(0).isoformat(), "edit-duration": "2:00",
        "edit-description": "More"}, follow=True)
    assert messages_of(response) == [APPROVED_MESSAGE]
    response = agent.post(reverse("ticket_detail", args=[ticket.pk]), {"action": "delete", "entry": a1.pk},
                          follow=True)
    assert messages_of(response) == [APPROVED_MESSAGE]
    a1.refresh_from_db()
    assert (a1.minutes, a1.description, a1.approval) == (90, "A1", Approval.APPROVED)


def test_the_lock_date_refusal_shows_on_the_date_field(agent_client, ticket):
    LockDate.objects.create(pk=1, lock_date=days_ago(10))
    response = agent_client.post(reverse("ticket_detail", args=[ticket.pk]), {
        "action": "log", "log-date": days_ago(10).isoformat(), "log-duration": "0:30", "log-description": "Late"})
    assert response.status_code == 200
    assert response.context["tab"]["log_form"].errors == {"date": [f"Timesheets up to {days_ago(10)} are locked."]}
    assert TimeEntry.objects.count() == 0


# --- Delivered on an "Approved timesheets only" team ----------------------------------------

def test_approving_moves_delivered_on_an_approved_only_team(manager_client, manager, member, ticket):
    ticket.team.invoiced_timesheets = "approved"
    team_save(team=ticket.team, actor=manager)
    first = timesheet_log(user=member, date=day(0), minutes=90, ticket=ticket, description="Diagnosed")
    timesheet_log(user=member, date=day(1), minutes=45, ticket=ticket, description="Fixed")
    order_page = reverse("order_detail", args=[ticket.sale_line.order_id])

    def figures():
        html = manager_client.get(order_page).content.decode()
        delivered = html.split('data-col="delivered">')[1]
        awaiting = html.split('data-col="awaiting">')[1:]
        return delivered[:delivered.index("<")], awaiting[0][:awaiting[0].index("<")] if awaiting else None

    assert figures() == ("0.00 h", "2.25 h")
    manager_client.post(reverse("to_approve"), {"entry": [first.pk], "action": "approve"})
    assert figures() == ("1.50 h", "0.75 h")
    ticket.sale_line.refresh_from_db()
    assert ticket.sale_line.delivered_minutes == 90
    html = manager_client.get(order_page).content.decode()
    assert '+<span data-col="awaiting">0.75 h</span> awaiting approval' in html
    manager_client.post(reverse("to_approve"), {"entry": [first.pk + 1], "action": "approve"})
    assert figures() == ("2.25 h", None)


# --- In Chromium ----------------------------------------------------------------------------

def test_a_manager_approves_then_an_accountant_writes_off(open_browser, manager, accountant, agent, bob):
    line = confirmed_line(quantity=10, price_unit=100)
    ticket = TicketFactory(customer=line.order.customer, sale_line=line, title="Scanner jams")
    ticket.team.members.add(agent, bob)
    ticket.team.invoiced_timesheets = "approved"
    team_save(team=ticket.team, actor=manager)
    timesheet_log(user=agent, date=days_ago(3), minutes=60, ticket=ticket, description="Cleaned the rollers")
    timesheet_log(user=agent, date=days_ago(2), minutes=30, ticket=ticket, description="Called the vendor")
    timesheet_log(user=bob, date=days_ago(2), minutes=45, ticket=ticket, description="Bob's visit")

    boss = open_browser(manager)
    boss.get_by_role("link", name="To Approve").click()
    expect(boss.locator("#to-approve-total")).to_have_text("2:15")
    pick(boss, "Agent", "agen", "agent")
    boss.get_by_role("button", name="Filter").click()
    expect(boss.locator("#to-approve-total")).to_have_text("1:30")
    expect(boss.locator("#to-approve")).not_to_contain_text("Bob's visit")
    boss.get_by_label("Tick all of agent's timesheets").check()
    boss.get_by_role("button", name="Approve").click()
    expect(boss.locator(".msg.success")).to_have_text("Approved 2 timesheets.")
    expect(boss.locator("select[name=agent]")).to_have_value(str(agent.pk))  # the filters stay
    expect(lookup_box(boss, "Agent")).to_have_value("agent")
    expect(boss.locator("#to-approve")).to_contain_text("Nothing to approve.")

    books = open_browser(accountant)
    books.goto(reverse("order_detail", args=[line.order_id]))
    expect(books.locator("[data-col=delivered]")).to_contain_text("1.50 h")
    expect(books.locator("[data-col=awaiting]")).to_have_text("0.75 h")
    books.get_by_role("button", name="Create Invoice").click()
    expect(books.locator("#invoice-state")).to_have_text("Draft")
    expect(books.locator("#invoice-total")).to_have_text("€150.00")
    books.get_by_label("Write off 0:30").check()
    books.get_by_label("Reason for writing off").fill("The vendor's fault, not the customer's")
    books.get_by_role("button", name="Write off").click()
    expect(books.locator(".msg.success")).to_have_text("Wrote off 1 timesheet: No charge.")
    expect(books.locator("#invoice-total")).to_have_text("€100.00")
    invoice = Invoice.objects.get()
    assert invoice.amount_total == 100
    vendor = TimeEntry.objects.get(description="Called the vendor")
    assert (vendor.written_off, vendor.billable_minutes, vendor.minutes) == (True, 0, 30)
