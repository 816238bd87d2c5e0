"""Customers' disputes on the staff's screens (issue 18): each entry's review on the ticket, Resolve (keep, write
off, correct) from the ticket page, the order page and /disputes/, what open disputes do to the order page, Create
Invoice's preview, To Invoice, the billing run and the overview; who may do what; refusals that change nothing.

The `portal` world (tests/portal/conftest.py): side A's line bills 10 h at 90.00; its ticket has 1:00 invoiced on a
posted invoice, and 1:30 (3 days ago) and 0:30 (yesterday) not invoiced, on a team that holds disputed time.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.l10n import day
from invoicing.selectors import billing_drift
from timesheets.disputes import entry_acknowledge, entry_dispute
from timesheets.models import CustomerReview, TimeEntry

from ..portal.conftest import portal  # noqa: F401  (two customers' worlds, each with its contact)

pytestmark = pytest.mark.django_db

REASON = "The call took half an hour, not an hour and a half."
ANSWER = "Our agent also reset the printers after the call."


def signed_in(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def row_of(html: str, marker: str) -> str:
    row = html[html.index(marker):]
    return row[:row.index("</tr>")]


def delivered(line) -> Decimal:
    line.refresh_from_db()
    return line.delivered


@pytest.fixture
def disputed(portal):  # noqa: F811
    """Side A's contact acknowledges the 0:30 and disputes the 1:30: held, Delivered 1.50 h (1:00 + 0:30)."""
    a = portal["a"]
    entry_acknowledge(entry=a.other_open_entry, contact=a.contact)
    entry_dispute(entry=a.open_entry, contact=a.contact, reason=REASON)
    assert delivered(a.line) == Decimal("1.50")
    return a


def resolve(client, entry, **data):
    return client.post(reverse("entry_resolve", args=[entry.pk]), data, follow=True)


# --- The ticket page ---------------------------------------------------------------------------------

def test_the_ticket_page_shows_each_entrys_review_and_resolve_to_billers(client, portal, disputed):  # noqa: F811
    address = reverse("ticket_detail", args=[disputed.ticket.pk])
    html = signed_in(client, portal["accountant"]).get(address).content.decode()
    acknowledged = row_of(html, f'id="entry-{disputed.other_open_entry.pk}"')
    assert '<span class="badge acknowledged">Acknowledged</span>' in acknowledged and "Contact A" in acknowledged
    row = row_of(html, f'id="entry-{disputed.open_entry.pk}"')
    assert '<span class="badge disputed">Disputed</span>' in row and ">held</span>" in row
    assert f'<q class="reason">{REASON}</q>' in row and "— Contact A" in row
    form = row_of(html, f'id="resolve-row-{disputed.open_entry.pk}"')
    assert f'action="/timesheets/{disputed.open_entry.pk}/resolve/"' in form
    assert f'name="next" value="{address}#entry-{disputed.open_entry.pk}"' in form
    assert 'id="resolve-row-' not in html.replace(f'id="resolve-row-{disputed.open_entry.pk}"', "")  # one dispute

    # The team's agent reads the review, and has no Resolve.
    html = signed_in(client, disputed.agent).get(address).content.decode()
    assert f'<q class="reason">{REASON}</q>' in html and 'class="resolve-form"' not in html
    html = signed_in(client, portal["manager"]).get(address).content.decode()
    assert 'class="resolve-form"' in html


def test_keep_from_the_ticket_page_bills_the_entry_again(client, portal, disputed):  # noqa: F811
    entry, accountant = disputed.open_entry, portal["accountant"]
    back = f"{reverse('ticket_detail', args=[disputed.ticket.pk])}#entry-{entry.pk}"
    response = resolve(signed_in(client, accountant), entry, resolution="kept", answer=ANSWER, next=back)
    assert response.redirect_chain == [(back, 302)]
    assert messages_of(response) == [f"Dispute on 1:30 of {day(entry.date)} resolved: kept as logged."]
    review = CustomerReview.objects.get(entry=entry)
    assert (review.state, review.resolution, review.answer, review.resolved_by) == (
        "resolved", "kept", ANSWER, accountant)
    entry.refresh_from_db()
    assert (entry.held, entry.minutes, entry.billable_minutes) == (False, 90, 90)
    assert delivered(disputed.line) == Decimal("3.00")  # 1:00 invoiced + 1:30 + 0:30
    event = AuditEvent.objects.get(action=AuditEvent.Action.DISPUTE_RESOLVED)
    assert (event.actor, event.object_id, event.changes["resolution"]) == (accountant, entry.pk, "kept")
    row = row_of(response.content.decode(), f'id="entry-{entry.pk}"')
    assert '<span class="badge resolved">Resolved (kept)</span>' in row and f'<q class="answer">{ANSWER}</q>' in row
    assert "resolved by accountant" in row.replace("portal-accountant", "accountant")
    assert 'class="resolve-form"' not in response.content.decode()
    assert billing_drift() == []


def test_write_off_from_the_order_page(client, portal, disputed):  # noqa: F811
    entry, order = disputed.open_entry, disputed.line.order
    back = f"{reverse('order_detail', args=[order.pk])}#disputes"
    client = signed_in(client, portal["manager"])
    html = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    notice = html[html.index('id="disputes-notice"'):]
    assert "1 timesheet (1:30) is disputed by the customer: held until resolved." in notice[:600]
    assert 'href="#disputes"' in notice[:800]
    card = html[html.index('id="disputes"'):]
    row = row_of(card, f'id="dispute-{entry.pk}"')
    assert f"#{disputed.ticket.pk} {disputed.ticket.title}" in row and "Agent A" in row
    assert '<td class="num" data-col="duration">1:30' in row and f"<q class=\"reason\">{REASON}</q>" in row
    assert "Contact A" in row
    assert f'name="next" value="{back}"' in card

    response = resolve(client, entry, resolution="written_off", answer="Agreed: not billed.", next=back)
    assert response.redirect_chain == [(back, 302)]
    assert messages_of(response) == [f"Dispute on 1:30 of {day(entry.date)} resolved: written off."]
    entry.refresh_from_db()
    assert (entry.held, entry.written_off, entry.write_off_reason, entry.billable_minutes) == (
        False, True, "Agreed: not billed.", 0)
    assert delivered(disputed.line) == Decimal("1.50")  # 1:00 + 0:30: the 1:30 bills nothing
    html = response.content.decode()
    assert 'id="disputes"' not in html and 'id="disputes-notice"' not in html
    ticket = client.get(reverse("ticket_detail", args=[disputed.ticket.pk])).content.decode()
    assert '<span class="badge resolved">Resolved (written off)</span>' in row_of(ticket, f'id="entry-{entry.pk}"')
    assert billing_drift() == []


def test_correct_from_the_order_page_then_create_invoice_bills_the_corrected_time(client, portal, disputed):  # noqa: F811
    entry, order = disputed.open_entry, disputed.line.order
    client = signed_in(client, portal["accountant"])
    response = resolve(client, entry, resolution="corrected", duration="1:00", answer=ANSWER,
                       next=f"/orders/{order.pk}/#disputes")
    assert messages_of(response) == [
        f"Dispute on the timesheet of {day(entry.date)} resolved: corrected from 1:30 to 1:00."]
    entry.refresh_from_db()
    assert (entry.minutes, entry.billable_minutes, entry.held, entry.review.minutes_before) == (60, 60, False, 90)
    assert delivered(disputed.line) == Decimal("2.50")  # 1:00 invoiced + 1:00 + 0:30
    preview = client.get(reverse("invoice_preview", args=[order.pk])).content.decode()
    assert '<td class="num" id="preview-untaxed">€135.00</td>' in preview  # 1.50 h × 90.00
    ticket = client.get(reverse("ticket_detail", args=[disputed.ticket.pk])).content.decode()
    row = row_of(ticket, f'id="entry-{entry.pk}"')
    assert '<span class="badge resolved">Resolved (corrected)</span>' in row
    assert '<span class="change">1:30 → 1:00</span>' in row
    assert billing_drift() == []


@pytest.mark.parametrize("data, message", [
    ({"resolution": "kept", "answer": ""}, "Give the customer an answer."),
    ({"resolution": "kept", "answer": "   "}, "Give the customer an answer."),
    ({"resolution": "kept", "answer": "x" * 1001}, "Keep it under 1000 characters."),
    ({"resolution": "corrected", "answer": ANSWER, "duration": ""},
     "A duration is required. Enter a duration like 1:30, 1.5, 1h30 or 90m."),
    ({"resolution": "corrected", "answer": ANSWER, "duration": "25:00"},
     "A single time entry cannot exceed 24 hours (24:00)."),
    ({"resolution": "corrected", "answer": ANSWER, "duration": "soon"},
     "“soon” is not a duration. Enter a duration like 1:30, 1.5, 1h30 or 90m."),
    ({"resolution": "forgiven", "answer": ANSWER}, "Choose keep, write off or correct."),
    ({"answer": ANSWER}, "Choose keep, write off or correct."),
    ({"resolution": "kept", "answer": "nul\x00"}, "Null characters are not allowed."),
    ({"resolution": ["kept", "written_off"], "answer": ANSWER, "duration": ["1:00", "x"]}, None),
])
def test_a_refused_resolution_says_why_and_changes_nothing(client, portal, disputed, data, message):  # noqa: F811
    entry = disputed.open_entry
    before = (list(TimeEntry.objects.order_by("pk").values_list()), list(CustomerReview.objects.values_list()),
              AuditEvent.objects.count())
    response = resolve(signed_in(client, portal["accountant"]), entry, **data)
    assert response.status_code == 200
    assert response.redirect_chain == [(f"/tickets/{disputed.ticket.pk}/#entry-{entry.pk}", 302)]
    if message is None:  # repeated fields: the last of each, as Django reads a form ("written_off", "x")
        assert messages_of(response) == [f"Dispute on 1:30 of {day(entry.date)} resolved: written off."]
        return
    assert messages_of(response) == [message]
    assert (list(TimeEntry.objects.order_by("pk").values_list()), list(CustomerReview.objects.values_list()),
            AuditEvent.objects.count()) == before


def test_what_has_no_open_dispute_is_refused_with_its_reason(client, portal, disputed):  # noqa: F811
    client = signed_in(client, portal["accountant"])
    kept = {"resolution": "kept", "answer": ANSWER}
    resolve(client, disputed.open_entry, **kept)
    resolved, acknowledged, invoiced = disputed.open_entry, disputed.other_open_entry, disputed.invoiced_entry
    for entry, refusal in ((resolved, f"Timesheet {resolved.pk} has no open dispute."),
                           (acknowledged, f"Timesheet {acknowledged.pk} has no open dispute."),
                           (invoiced, "You cannot modify timesheets that are already invoiced.")):
        assert messages_of(resolve(client, entry, **kept)) == [refusal]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DISPUTE_RESOLVED).count() == 1
    assert client.post(reverse("entry_resolve", args=[999999]), kept).status_code == 404
    assert client.get(reverse("entry_resolve", args=[disputed.open_entry.pk])).status_code == 405


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/orders/", "javascript:alert(1)", ""])
def test_next_goes_back_to_our_pages_only(client, portal, disputed, target):  # noqa: F811
    entry = disputed.open_entry
    response = signed_in(client, portal["accountant"]).post(
        reverse("entry_resolve", args=[entry.pk]), {"resolution": "kept", "answer": ANSWER, "next": target})
    assert response["Location"] == f"/tickets/{disputed.ticket.pk}/#entry-{entry.pk}"


def test_who_may_resolve_and_list_disputes(client, portal, disputed):  # noqa: F811
    entry = disputed.open_entry
    # The team's agent sees the entry, and may not resolve it; the other side's agent does not see it.
    for user, status in ((disputed.agent, 403), (portal["b"].agent, 403)):
        response = signed_in(client, user).post(reverse("entry_resolve", args=[entry.pk]),
                                                {"resolution": "written_off", "answer": ANSWER})
        assert response.status_code == status, user
        assert signed_in(client, user).get(reverse("dispute_list")).status_code == 403
    assert "Only accountants and managers resolve customers&#x27; disputes." in response.content.decode()
    assert CustomerReview.objects.get(entry=entry).state == "disputed"
    for user in (portal["accountant"], portal["manager"]):
        assert signed_in(client, user).get(reverse("dispute_list")).status_code == 200
    # A contact is kept to the portal (core.boundary): the staff's screens answer them 403 or a redirect.
    contact = signed_in(client, disputed.contact.user)
    assert contact.post(reverse("entry_resolve", args=[entry.pk]),
                        {"resolution": "kept", "answer": "mine"}).status_code == 403
    assert contact.get(reverse("dispute_list"))["Location"] == "/portal/"
    assert CustomerReview.objects.get(entry=entry).state == "disputed"


# --- What open disputes show elsewhere ---------------------------------------------------------------

@pytest.fixture
def both(portal, disputed):  # noqa: F811
    """Side B's team bills disputed time as logged: its contact disputes its 0:30."""
    b = portal["b"]
    b.team.hold_disputed = False
    b.team.save()
    entry_dispute(entry=b.other_open_entry, contact=b.contact, reason="We never asked for this.")
    assert delivered(b.line) == Decimal("3.00")  # not held
    return {"a": disputed, "b": b}


def test_a_team_that_does_not_hold_bills_disputed_time_and_says_so(client, portal, both):  # noqa: F811
    b = both["b"]
    html = signed_in(client, portal["accountant"]).get(reverse("order_detail", args=[b.line.order_id])).content.decode()
    assert "1 timesheet (0:30) is billed as logged; the customer disputes it." in html
    assert "held until resolved" not in html
    row = row_of(html, f'id="dispute-{b.other_open_entry.pk}"')
    assert "We never asked for this." in row and ">held</span>" not in row
    preview = signed_in(client, portal["accountant"]).get(
        reverse("invoice_preview", args=[b.line.order_id])).content.decode()
    assert "1 timesheet (0:30) is billed as logged; the customer disputes it." in preview
    assert f'href="/orders/{b.line.order_id}/#disputes"' in preview
    assert '<td class="num" id="preview-untaxed">€180.00</td>' in preview  # (1:30 + 0:30) × 90.00, dispute and all


def test_create_invoices_preview_leaves_held_time_out_and_says_why(client, portal, disputed):  # noqa: F811
    html = signed_in(client, portal["accountant"]).get(
        reverse("invoice_preview", args=[disputed.line.order_id])).content.decode()
    assert "1 timesheet (1:30) is disputed by the customer: held until resolved." in html
    left_out = html[html.index('id="left-out-reasons"'):]
    assert ("<tr><td>Disputed by the customer (held until resolved)</td><td class=\"num\">1</td>"
            "<td class=\"num\">1:30</td></tr>") in left_out
    assert '<td class="num" id="preview-untaxed">€45.00</td>' in html  # the 0:30 alone


def test_to_invoice_the_billing_run_and_the_overview_flag_open_disputes(client, portal, both):  # noqa: F811
    from invoicing.runs import run_start

    from ..jobs import run_jobs

    a, b = both["a"], both["b"]
    client = signed_in(client, portal["accountant"])
    html = client.get(reverse("to_invoice")).content.decode()
    assert "<th>Disputes</th>" in html
    for side, text in ((a, "1 disputed (1:30)"), (b, "1 disputed (0:30)")):
        row = row_of(html, f'id="order-{side.line.order_id}"')
        assert f'href="/orders/{side.line.order_id}/#disputes"' in row and text in row
    run = run_start(actor=portal["accountant"])
    run_jobs()
    html = client.get(reverse("billing_run_detail", args=[run.pk])).content.decode()
    assert "1 disputed (1:30)" in row_of(html, f'id="run-order-{a.line.order_id}"')
    assert "1 disputed (0:30)" in row_of(html, f'id="run-order-{b.line.order_id}"')

    home = client.get(reverse("home")).content.decode()
    card = home[home.index('id="open-disputes"'):]
    assert '<p class="figure"><a href="/disputes/">2</a></p>' in card[:400]
    assert 'id="open-disputes"' not in signed_in(client, a.agent).get(reverse("home")).content.decode()


def test_the_disputes_list_resolves_each_and_comes_back(client, portal, both):  # noqa: F811
    a, b = both["a"], both["b"]
    client = signed_in(client, portal["manager"])
    html = client.get(reverse("dispute_list")).content.decode()
    rows = html[html.index('id="disputes-table"'):]
    assert rows.index(f'id="dispute-{a.open_entry.pk}"') < rows.index(f'id="dispute-{b.other_open_entry.pk}"')
    row = row_of(rows, f'id="dispute-{b.other_open_entry.pk}"')
    assert "Portal customer b" in row and f">{b.line.order.name}</a>" in row and "We never asked for this." in row
    assert "<tfoot><tr><th colspan=\"5\">Total</th><th class=\"num\">2:00</th>" in html
    response = resolve(client, b.other_open_entry, resolution="kept", answer="Logged as worked.",
                       next="/disputes/#disputes")
    assert response.redirect_chain == [("/disputes/#disputes", 302)]
    assert f'id="dispute-{b.other_open_entry.pk}"' not in response.content.decode()
    assert f'id="dispute-{a.open_entry.pk}"' in response.content.decode()
    assert delivered(b.line) == Decimal("3.00")
    assert billing_drift() == []


def test_the_disputes_list_and_the_order_page_query_the_same_for_one_dispute_or_more(client, portal, disputed):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(address) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(address).status_code == 200
        return len(captured)

    client = signed_in(client, portal["accountant"])
    order_page = reverse("order_detail", args=[disputed.line.order_id])
    one = (queries(reverse("dispute_list")), queries(order_page))
    b = portal["b"]
    entry_dispute(entry=disputed.other_open_entry, contact=disputed.contact, reason="Also too long.")
    entry_dispute(entry=b.open_entry, contact=b.contact, reason="Not ours.")
    entry_dispute(entry=b.other_open_entry, contact=b.contact, reason="Not ours either.")
    assert (queries(reverse("dispute_list")), queries(order_page)) == one
