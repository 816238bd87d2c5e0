"""The audit log: every billing event says who, when and what changed; nobody changes or deletes it."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AppendOnlyError, AuditEvent
from invoicing.services import (
    invoice_cancel,
    invoice_create_from_order,
    invoice_credit_note,
    invoice_post,
    invoice_remove_timesheets,
)
from sales.services import sale_order_cancel, sale_order_confirm
from timesheets.services import timesheet_delete, timesheet_log, timesheet_update

from ..api.conftest import client_for
from ..conftest import requires_postgres
from ..factories import SaleOrderLineFactory, days_ago

A = AuditEvent.Action


def events(obj=None):
    rows = AuditEvent.objects.order_by("pk")
    if obj is not None:
        rows = rows.filter(object_type=obj._meta.label_lower, object_id=obj.pk)
    return [(e.action, e.actor_name, e.changes) for e in rows]


def test_logging_editing_and_deleting_time_is_recorded_with_who_and_what(agent, manager, ticket, line_a):
    entry = timesheet_log(user=agent, date=days_ago(1), minutes=90, ticket=ticket, description="Fuser",
                          actor=agent)
    timesheet_update(entry=entry, minutes=120, description="Fuser and drum", actor=manager)
    timesheet_update(entry=entry, minutes=120, actor=manager)  # nothing changed: nothing recorded
    timesheet_delete(entry=entry, actor=agent)

    logged = {"user": agent.pk, "date": days_ago(1).isoformat(), "minutes": 90, "billable_minutes": 90,
              "description": "Fuser", "ticket": ticket.pk, "task": None, "sale_line": line_a.pk, "work_type": None,
              "approval": "to_approve"}
    assert events(entry) == [
        (A.ENTRY_CREATED, "agent", logged),
        (A.ENTRY_EDITED, "manager", {"minutes": [90, 120], "billable_minutes": [90, 120],
                                     "description": ["Fuser", "Fuser and drum"]}),
        (A.ENTRY_DELETED, "agent", {**logged, "minutes": 120, "billable_minutes": 120,
                                    "description": "Fuser and drum"}),
    ]
    event = AuditEvent.objects.get(action=A.ENTRY_CREATED)
    assert event.actor == agent and event.object_repr == str(entry)
    assert timezone.now() - event.at < datetime.timedelta(minutes=1)


def test_the_invoice_lifecycle_is_recorded(agent, accountant, ticket, line_a):
    first = timesheet_log(user=agent, date=days_ago(2), minutes=60, ticket=ticket)
    second = timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    invoice = invoice_create_from_order(order=line_a.order, actor=accountant)
    invoice_remove_timesheets(invoice=invoice, entry_ids=[second.pk], actor=accountant)
    invoice_post(invoice=invoice, actor=accountant)
    note = invoice_credit_note(invoice=invoice, actor=accountant)
    invoice_post(invoice=note, actor=accountant)

    year = timezone.localdate().year
    assert [(action, who) for action, who, _ in events(invoice)] == [
        (A.INVOICE_CREATED, "accountant"), (A.INVOICE_TIMESHEETS_REMOVED, "accountant"),
        (A.INVOICE_POSTED, "accountant"), (A.INVOICE_CREDITED, "accountant")]
    created, removed, posted, credited = (changes for _, _, changes in events(invoice))
    assert created["timesheets"] == [first.pk, second.pk] and created["minutes"] == 90
    assert created["amount_total"] == "135.00" and created["sale_order"] == line_a.order.name
    assert removed == {"removed_timesheets": [second.pk], "amount_total": ["135.00", "90.00"], "minutes": [90, 60]}
    assert posted["number"] == [None, f"INV/{year}/00001"] and posted["state"] == ["draft", "posted"]
    assert credited == {"credit_note": note.pk, "full": True, "amount_untaxed": "90.00", "amount_tax": "0.00",
                        "amount_total": "90.00", "minutes": 60, "timesheets": [first.pk]}
    assert [action for action, _, _ in events(note)] == [A.CREDIT_NOTE_CREATED, A.INVOICE_POSTED]
    assert events(note)[1][2]["freed_timesheets"] == [first.pk]


def test_confirming_and_cancelling_orders_and_drafts_are_recorded(agent, manager, accountant, ticket, line_a):
    quotation = SaleOrderLineFactory().order
    sale_order_confirm(order=quotation, actor=manager)
    sale_order_cancel(order=quotation, actor=manager)
    entry = timesheet_log(user=agent, date=days_ago(1), minutes=60, ticket=ticket)
    draft = invoice_create_from_order(order=line_a.order, actor=accountant)
    invoice_cancel(invoice=draft, actor=accountant)
    assert events(quotation) == [(A.ORDER_CONFIRMED, "manager", {"state": ["draft", "sale"]}),
                                 (A.ORDER_CANCELLED, "manager", {"state": ["sale", "cancel"]})]
    assert events(draft)[-1] == (A.INVOICE_CANCELLED, "accountant",
                                 {"state": ["draft", "cancelled"], "freed_timesheets": [entry.pk]})


def test_a_refused_change_records_nothing(agent, accountant, ticket, line_a):
    entry = timesheet_log(user=agent, date=days_ago(1), minutes=60, ticket=ticket)
    invoice_post(invoice=invoice_create_from_order(order=line_a.order, actor=accountant), actor=accountant)
    before = AuditEvent.objects.count()
    with pytest.raises(Exception):
        timesheet_update(entry=entry, minutes=30, actor=agent)
    with pytest.raises(Exception):
        invoice_create_from_order(order=line_a.order, actor=accountant)  # nothing left to invoice
    assert AuditEvent.objects.count() == before


def test_screens_and_api_record_the_person_who_acted(agent, accountant, ticket, line_a, client):
    ticket.team.members.add(agent)
    already = AuditEvent.objects.count()  # line_a's order was confirmed by no one (a fixture)
    response = client_for(agent).post("/api/v1/timesheets/", {"ticket": ticket.pk, "duration": "1:00"},
                                      format="json")
    assert response.status_code == 201
    client.force_login(accountant)
    client.post(reverse("invoice_create", args=[line_a.order.pk]))
    assert [(action, who) for action, who, _ in events()[already:]] == [(A.ENTRY_CREATED, "agent"),
                                                                        (A.INVOICE_CREATED, "accountant")]


# --- Append-only ---------------------------------------------------------------------------

@pytest.fixture
def event(agent, ticket, line_a):
    timesheet_log(user=agent, date=days_ago(1), minutes=60, ticket=ticket, actor=agent)
    return AuditEvent.objects.get(action=A.ENTRY_CREATED)


def test_the_orm_refuses_to_change_or_delete_an_event(event):
    event.changes = {"minutes": 1}
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(actor_name="someone else")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["changes"])
    event.refresh_from_db()
    assert event.changes["minutes"] == 60


@requires_postgres
@pytest.mark.parametrize("sql", ["UPDATE audit_auditevent SET actor_name = 'x'", "DELETE FROM audit_auditevent"])
def test_the_database_refuses_it_too(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.get(pk=event.pk).actor_name == "agent"


def test_the_admin_shows_the_log_read_only(client, manager, event):
    client.force_login(manager)
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    page = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert page.status_code == 200 and "Save" not in page.content.decode()
    assert client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {}).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_invoice_page_lists_its_history(client, agent, accountant, ticket, line_a):
    timesheet_log(user=agent, date=days_ago(1), minutes=60, ticket=ticket)
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order, actor=accountant), actor=accountant)
    client.force_login(accountant)
    response = client.get(reverse("invoice_detail", args=[invoice.pk]))
    assert [event.action for event in response.context["events"]] == [A.INVOICE_CREATED, A.INVOICE_POSTED]
    html = response.content.decode()
    history = html[html.index('id="history"'):]
    assert f"Created from {line_a.order.name}: 1 timesheet ({days_ago(1).isoformat()}), 1:00 billed" in history
    assert f"Posted as {invoice.number}, total €90.00" in history and "accountant" in history
    assert "draft → posted" not in history  # a sentence, not the raw change (tests/audit/test_sentences.py)
