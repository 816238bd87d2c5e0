"""Approval, write-off and the lock date through the API (DESIGN Rules 11, 12 and 15; issue 12):
/timesheets/approve/, /timesheets/reject/, /timesheets/{id}/reinstate/, /invoices/{id}/write-off/,
the entries' approval fields and filters, and the order lines' `awaiting_approval`."""

import pytest

from timesheets.models import LockDate, TimeEntry
from timesheets.services import APPROVED_MESSAGE

from ..factories import days_ago
from .conftest import API, log


@pytest.fixture
def approved_only(manager_api, team_ticket):
    """The agent's team invoices "Approved timesheets only" (set as a manager sets it)."""
    response = manager_api.patch(f"{API}/teams/{team_ticket.team_id}/", {"invoiced_timesheets": "approved"})
    assert response.status_code == 200, response.json()
    return team_ticket


def line_of(client, line) -> dict:
    """Return the sales order line as `sale-orders/` shows it."""
    order = client.get(f"{API}/sale-orders/{line.order_id}/").json()
    return next(row for row in order["lines"] if row["id"] == line.pk)


def figures(client, line) -> tuple[str, str]:
    row = line_of(client, line)
    return row["delivered"], row["awaiting_approval"]


def entry(client, pk) -> dict:
    return client.get(f"{API}/timesheets/{pk}/").json()


def not_an_id(position: int) -> str:
    return f"Item {position} is not a timesheet id. Give the timesheets as a list of ids, e.g. [12, 13]."


def approval(pk) -> str:
    return TimeEntry.objects.get(pk=pk).approval


# --- Approve ----------------------------------------------------------------------------------------

def test_approving_moves_time_from_awaiting_to_delivered(agent_api, manager_api, approved_only, line_a):
    first = log(agent_api, approved_only, "1:30").json()["id"]
    log(agent_api, approved_only, "0:45", days=1)
    assert figures(manager_api, line_a) == ("0.00", "2.25")
    assert figures(agent_api, line_a) == ("0.00", "2.25")  # agents see it too

    response = manager_api.post(f"{API}/timesheets/approve/", {"ids": [first]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"approved": 1}
    assert figures(manager_api, line_a) == ("1.50", "0.75")
    assert entry(manager_api, first)["approval"] == "approved"
    # Approving it again changes nothing.
    assert manager_api.post(f"{API}/timesheets/approve/", {"ids": [first]}, format="json").json() == {"approved": 0}
    assert figures(manager_api, line_a) == ("1.50", "0.75")


def test_all_recorded_timesheets_count_without_approval(agent_api, manager_api, team_ticket, line_a):
    log(agent_api, team_ticket, "1:30")

    assert figures(manager_api, line_a) == ("1.50", "0.00")


def test_awaiting_is_rounded_as_the_line_bills(agent_api, manager_api, approved_only, line_a):
    line_a.product.billing_increment_minutes = 15
    line_a.product.save()
    log(agent_api, approved_only, "0:10")  # bills a quarter of an hour once approved

    assert figures(manager_api, line_a) == ("0.00", "0.25")


def test_filter_by_approval(agent_api, manager_api, approved_only):
    first, second, third = (log(agent_api, approved_only, d, days=n).json()["id"]
                            for n, d in enumerate(["1:00", "0:30", "0:15"]))
    manager_api.post(f"{API}/timesheets/approve/", {"ids": [first]}, format="json")
    manager_api.post(f"{API}/timesheets/reject/", {"ids": [second], "reason": "Wrong ticket"}, format="json")

    def ids(query):
        return [row["id"] for row in manager_api.get(f"{API}/timesheets/?{query}").json()["results"]]

    assert ids("approval=approved") == [first]
    assert ids("approval=rejected") == [second]
    assert ids("approval=to_approve") == [third]
    assert manager_api.get(f"{API}/timesheets/?approval=maybe").status_code == 400


def test_a_manager_cannot_approve_their_own_time(manager_api, approved_only):
    own = log(manager_api, approved_only, "1:00").json()["id"]

    response = manager_api.post(f"{API}/timesheets/approve/", {"ids": [own]}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "ids": [f"These timesheets cannot be approved: {own} (your own time: another manager reviews it)."]}
    assert approval(own) == "to_approve"


def test_all_or_nothing(agent_api, manager_api, approved_only, line_a):
    good = log(agent_api, approved_only, "1:00").json()["id"]
    own = log(manager_api, approved_only, "0:30").json()["id"]
    missing = own + 1000

    response = manager_api.post(f"{API}/timesheets/approve/", {"ids": [good, missing, own]}, format="json")

    assert response.status_code == 400
    assert response.json() == {"ids": [f"These timesheets cannot be approved: {missing} (not found); "
                                       f"{own} (your own time: another manager reviews it)."]}
    assert (approval(good), approval(own)) == ("to_approve", "to_approve")
    assert figures(manager_api, line_a) == ("0.00", "1.50")


# --- Reject -----------------------------------------------------------------------------------------

def test_a_rejected_entry_shows_its_reason_and_goes_back_when_edited(agent_api, manager_api, approved_only, line_a):
    pk = log(agent_api, approved_only, "1:00").json()["id"]

    response = manager_api.post(f"{API}/timesheets/reject/", {"ids": [pk], "reason": " Not this customer's printer "},
                                format="json")

    assert response.status_code == 200
    assert response.json() == {"rejected": 1}
    shown = entry(agent_api, pk)
    assert (shown["approval"], shown["approval_note"], shown["billable_minutes"]) == (
        "rejected", "Not this customer's printer", 0)
    assert figures(manager_api, line_a) == ("0.00", "0.00")  # rejected time awaits nothing

    edited = agent_api.patch(f"{API}/timesheets/{pk}/", {"duration": "0:45"}).json()

    assert (edited["approval"], edited["approval_note"]) == ("to_approve", "")
    assert figures(manager_api, line_a) == ("0.00", "0.75")


def test_invoiced_time_cannot_be_rejected(agent_api, manager_api, accountant_api, team_ticket, line_a):
    pk = log(agent_api, team_ticket, "1:00").json()["id"]
    accountant_api.post(f"{API}/sale-orders/{line_a.order_id}/create-invoice/")

    response = manager_api.post(f"{API}/timesheets/reject/", {"ids": [pk], "reason": "Too long"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"ids": [f"These timesheets cannot be rejected: {pk} (already invoiced)."]}
    assert approval(pk) == "to_approve"


# --- Who may, and bodies that say nothing -------------------------------------------------------------

@pytest.mark.parametrize("role", ["agent", "accountant"])
@pytest.mark.parametrize("action", ["approve", "reject"])
@pytest.mark.parametrize("body", ["an entry they see", "garbage"])
def test_only_managers_approve_and_reject(request, agent_api, approved_only, role, action, body):
    pk = log(agent_api, approved_only, "1:00").json()["id"]
    client = request.getfixturevalue(f"{role}_api")
    data = {"ids": [pk], "reason": "x"} if body == "an entry they see" else {"ids": "whatever"}

    # Whatever the body, the same 403 before it is looked at: nothing is learnt about entries out of sight.
    response = client.post(f"{API}/timesheets/{action}/", data, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "Only managers approve and reject time."}
    assert approval(pk) == "to_approve"


@pytest.mark.parametrize("body, answer", [
    ({}, {"ids": ["This field is required."]}),
    ({"ids": "1,2"}, {"ids": ["Give the timesheets as a list of ids, e.g. [12, 13]."]}),
    ({"ids": 7}, {"ids": ["Give the timesheets as a list of ids, e.g. [12, 13]."]}),
    ({"ids": {"0": 1}}, {"ids": ["Give the timesheets as a list of ids, e.g. [12, 13]."]}),
    ({"ids": None}, {"ids": ["This field may not be null."]}),
    ({"ids": []}, {"ids": ["Choose at least one timesheet."]}),
    ({"ids": [True]}, {"ids": [not_an_id(1)]}),
    ({"ids": [1, "2"]}, {"ids": [not_an_id(2)]}),
    ({"ids": [1.0]}, {"ids": [not_an_id(1)]}),
    ({"ids": [0]}, {"ids": [not_an_id(1)]}),
    ({"ids": [2**63]}, {"ids": [not_an_id(1)]}),
    ({"ids": [[1]]}, {"ids": [not_an_id(1)]}),
    ({"ids": ["x"] * 20_000}, {"ids": ["Give at most 10,000 timesheets at once."]}),
    ({"ids": [1] * 9_999 + ["x"]},
     {"ids": [not_an_id(10_000)]}),
])
def test_approve_refuses_a_body_that_names_no_timesheets(manager_api, agent_api, approved_only, body, answer):
    pk = log(agent_api, approved_only, "1:00").json()["id"]

    response = manager_api.post(f"{API}/timesheets/approve/", body, format="json")

    assert response.status_code == 400
    assert response.json() == answer
    assert approval(pk) == "to_approve"


@pytest.mark.parametrize("body, answer", [
    ({}, {"reason": ["Give the reason for rejecting."]}),
    ({"reason": "   "}, {"reason": ["Give the reason for rejecting."]}),
    ({"reason": None}, {"reason": ["Give the reason for rejecting."]}),
    ({"reason": ["Wrong"]}, {"reason": ["Not a valid string."]}),
    ({"reason": "x" * 501}, {"reason": ["Ensure this field has no more than 500 characters."]}),
])
def test_reject_needs_a_reason(manager_api, agent_api, approved_only, body, answer):
    pk = log(agent_api, approved_only, "1:00").json()["id"]

    response = manager_api.post(f"{API}/timesheets/reject/", {"ids": [pk], **body}, format="json")

    assert response.status_code == 400
    assert response.json() == answer
    assert approval(pk) == "to_approve"


def test_many_ids_at_once(manager_api, agent_api, approved_only):
    """The most one call takes: all found or all refused, in one answer naming the missing ones briefly."""
    pk = log(agent_api, approved_only, "1:00").json()["id"]
    ids = [pk, *range(pk + 1, pk + 10_000)]

    response = manager_api.post(f"{API}/timesheets/approve/", {"ids": ids}, format="json")

    assert response.status_code == 400
    assert response.json()["ids"][0].startswith(f"These timesheets cannot be approved: {pk + 1}, {pk + 2}, ")
    assert approval(pk) == "to_approve"


def test_approval_fields_are_read_only(agent_api, manager_api, approved_only, line_a):
    """Sent when logging or editing, they are ignored like every read-only field: only the actions change them."""
    created = log(agent_api, approved_only, "1:00", approval="approved", written_off=True).json()
    assert (created["approval"], created["written_off"]) == ("to_approve", False)

    edited = agent_api.patch(f"{API}/timesheets/{created['id']}/", {"approval": "approved", "approval_note": "ok",
                                                                    "description": "Toner"}).json()

    assert (edited["approval"], edited["approval_note"], edited["description"]) == ("to_approve", "", "Toner")
    assert figures(manager_api, line_a) == ("0.00", "1.00")


# --- Approved entries are the managers' -----------------------------------------------------------

def test_an_agent_cannot_change_approved_time(agent_api, manager_api, approved_only, line_a):
    pk = log(agent_api, approved_only, "1:00").json()["id"]
    manager_api.post(f"{API}/timesheets/approve/", {"ids": [pk]}, format="json")

    for response in (agent_api.patch(f"{API}/timesheets/{pk}/", {"duration": "3:00"}),
                     agent_api.delete(f"{API}/timesheets/{pk}/")):
        assert response.status_code == 409
        assert response.json() == {"detail": APPROVED_MESSAGE}
    assert TimeEntry.objects.get(pk=pk).minutes == 60

    edited = manager_api.patch(f"{API}/timesheets/{pk}/", {"duration": "1:15"})

    assert edited.status_code == 200
    assert (edited.json()["approval"], edited.json()["minutes"]) == ("approved", 75)
    assert figures(manager_api, line_a) == ("1.25", "0.00")


# --- Write-off and reinstate ----------------------------------------------------------------------

@pytest.fixture
def draft(agent_api, accountant_api, team_ticket, line_a):
    """A draft invoice billing 1:00, 2:00 and 0:30 of line A at 90.00 an hour: 315.00."""
    ids = [log(agent_api, team_ticket, d, days=n).json()["id"] for n, d in enumerate(["1:00", "2:00", "0:30"])]
    body = accountant_api.post(f"{API}/sale-orders/{line_a.order_id}/create-invoice/").json()
    assert body["amount_total"] == "315.00"
    return {"id": body["id"], "entries": ids, "url": f"{API}/invoices/{body['id']}"}


def test_write_off_takes_the_time_off_the_draft_as_no_charge(accountant_api, manager_api, draft, line_a):
    one, two, half = draft["entries"]

    response = accountant_api.post(f"{draft['url']}/write-off/", {"timesheets": [two], "reason": "Our mistake"},
                                   format="json")

    assert response.status_code == 200
    invoice = response.json()
    assert response.json() == accountant_api.get(f"{draft['url']}/").json()  # as the detail shows it
    assert (invoice["amount_total"], invoice["lines"][0]["quantity"]) == ("135.00", "1.50")
    assert invoice["lines"][0]["timesheets"] == sorted([one, half])
    shown = entry(manager_api, two)
    assert (shown["written_off"], shown["write_off_reason"], shown["minutes"], shown["billable_minutes"],
            shown["invoice"]) == (True, "Our mistake", 120, 0, None)
    # Delivered drops with it: "No charge" is never to invoice.
    row = line_of(manager_api, line_a)
    assert (row["delivered"], row["invoiced"], row["to_invoice"]) == ("1.50", "1.50", "0.00")
    written_off = manager_api.get(f"{API}/timesheets/?written_off=true").json()["results"]
    assert [e["id"] for e in written_off] == [two]


def test_reinstate_bills_the_time_again(accountant_api, manager_api, draft, line_a):
    two = draft["entries"][1]
    accountant_api.post(f"{draft['url']}/write-off/", {"timesheets": [two], "reason": "Our mistake"}, format="json")

    response = manager_api.post(f"{API}/timesheets/{two}/reinstate/")

    assert response.status_code == 200
    assert (response.json()["written_off"], response.json()["write_off_reason"],
            response.json()["billable_minutes"]) == (False, "", 120)
    row = line_of(manager_api, line_a)
    assert (row["delivered"], row["invoiced"], row["to_invoice"]) == ("3.50", "1.50", "2.00")

    again = manager_api.post(f"{API}/timesheets/{two}/reinstate/")

    assert again.status_code == 409
    assert again.json() == {"detail": f"Timesheet {two} is not written off."}


@pytest.mark.parametrize("role", ["agent", "accountant"])
def test_only_managers_reinstate(request, accountant_api, draft, role):
    two = draft["entries"][1]
    accountant_api.post(f"{draft['url']}/write-off/", {"timesheets": [two], "reason": "Our mistake"}, format="json")

    response = request.getfixturevalue(f"{role}_api").post(f"{API}/timesheets/{two}/reinstate/")

    assert response.status_code == 403
    assert response.json() == {"detail": "Only managers reinstate written-off time."}
    assert TimeEntry.objects.get(pk=two).written_off


def test_write_off_refusals(agent_api, accountant_api, draft, team_ticket):
    other = log(agent_api, team_ticket, "0:15").json()["id"]  # logged after the draft: not on it
    url = f"{draft['url']}/write-off/"

    not_on = accountant_api.post(url, {"timesheets": [draft["entries"][0], other], "reason": "x"}, format="json")
    no_reason = accountant_api.post(url, {"timesheets": [draft["entries"][0]]}, format="json")
    not_a_list = accountant_api.post(url, {"timesheets": "all", "reason": "x"}, format="json")
    agent = agent_api.post(url, {"timesheets": [draft["entries"][0]], "reason": "x"}, format="json")

    assert (not_on.status_code, not_on.json()) == (
        400, {"timesheets": [f"These timesheets are not on Draft invoice #{draft['id']}: {other}."]})
    assert (no_reason.status_code, no_reason.json()) == (400, {"reason": ["Give the reason for writing off."]})
    assert (not_a_list.status_code, not_a_list.json()) == (
        400, {"timesheets": ["Give the timesheets as a list of ids, e.g. [12, 13]."]})
    assert (agent.status_code, agent.json()) == (
        403, {"detail": "Only accountants and managers see and change invoices."})
    assert accountant_api.get(f"{draft['url']}/").json()["amount_total"] == "315.00"
    assert not TimeEntry.objects.filter(written_off=True).exists()


def test_a_posted_invoice_is_not_written_off(accountant_api, draft):
    accountant_api.post(f"{draft['url']}/post/")

    response = accountant_api.post(f"{draft['url']}/write-off/", {"timesheets": [draft["entries"][0]],
                                                                 "reason": "Too late"}, format="json")

    assert response.status_code == 409
    assert not TimeEntry.objects.filter(written_off=True).exists()


# --- The lock date ----------------------------------------------------------------------------------

def test_the_lock_date_stops_agents_not_managers(agent_api, manager_api, team_ticket):
    LockDate(pk=1, lock_date=days_ago(3)).save()

    refused = log(agent_api, team_ticket, "1:00", days=3)
    allowed = log(agent_api, team_ticket, "1:00", days=2)
    by_manager = log(manager_api, team_ticket, "1:00", days=3)

    assert refused.status_code == 400
    assert refused.json() == {"date": [f"Timesheets up to {days_ago(3).isoformat()} are locked."]}
    assert (allowed.status_code, by_manager.status_code) == (201, 201)
    # Nor may an agent move time into the locked period.
    moved = agent_api.patch(f"{API}/timesheets/{allowed.json()['id']}/", {"date": days_ago(5).isoformat()})
    assert moved.status_code == 400
    assert moved.json() == {"date": [f"Timesheets up to {days_ago(3).isoformat()} are locked."]}


def test_a_team_locks_later_than_the_global_date(agent_api, manager_api, team_ticket):
    LockDate(pk=1, lock_date=days_ago(10)).save()
    manager_api.patch(f"{API}/teams/{team_ticket.team_id}/", {"timesheets_lock_date": days_ago(2).isoformat()})

    refused = log(agent_api, team_ticket, "1:00", days=2)

    assert refused.status_code == 400
    assert refused.json() == {"date": [f"Timesheets up to {days_ago(2).isoformat()} are locked."]}
    assert log(agent_api, team_ticket, "1:00", days=1).status_code == 201


def test_the_schema_documents_approval_and_write_off(anonymous_api):
    schema = anonymous_api.get(f"{API}/schema/?format=json").json()
    entry_fields = schema["components"]["schemas"]["TimeEntry"]["properties"]

    assert {"approval", "approval_note", "written_off", "write_off_reason"} <= set(entry_fields)
    assert all(entry_fields[name]["readOnly"] for name in ("approval", "approval_note", "written_off"))
    assert "awaiting_approval" in schema["components"]["schemas"]["SaleOrderLine"]["properties"]
    assert "approve or reject" in schema["paths"][f"{API}/timesheets/"]["get"]["description"]
    assert "No charge" in schema["paths"][f"{API}/invoices/{{id}}/write-off/"]["post"]["description"]
    parameters = [p["name"] for p in schema["paths"][f"{API}/timesheets/"]["get"]["parameters"]]
    assert {"approval", "written_off"} <= set(parameters)
