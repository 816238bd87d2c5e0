"""Issue 17: every audit event reads as a sentence in a History, from the changes its service records."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.selectors import audit_events_for
from audit.sentences import SENTENCES, entry_ids, sentence
from core.money import format_money
from invoicing.services import (
    invoice_cancel,
    invoice_create_from_order,
    invoice_credit_note,
    invoice_post,
    invoice_remove_timesheets,
)
from timesheets.services import timesheet_log

from ..factories import days_ago

A = AuditEvent.Action


def said(action, changes, **kwargs) -> str:
    """The sentence of an event holding `changes` as the database gives them back (JSON: dates and amounts
    as text)."""
    return sentence(AuditEvent(action=action, changes=changes), **kwargs)


def euros(value) -> str:
    return format_money(value, "EUR", "en")


def test_every_action_has_its_sentence():
    assert set(SENTENCES) == set(A.values)


# Each action with the changes its service records (audit.services' callers), and its sentence.
CASES = [
    (A.TICKET_CREATED, {"team": "Care", "customer": "Acme", "status": "new", "assignee": "agent"},
     "Ticket created in Care for Acme, assigned to agent"),
    (A.TICKET_CREATED, {"team": "Care", "customer": "Acme", "status": "new", "assignee": None},
     "Ticket created in Care for Acme"),
    (A.TICKET_STATUS_CHANGED, {"status": ["new", "in_progress"]}, "Status changed from New to In Progress"),
    (A.TICKET_ASSIGNED, {"assignee": [None, "bob"]}, "Assigned to bob"),
    (A.TICKET_ASSIGNED, {"assignee": ["agent", "bob"]}, "Assigned to bob (was agent)"),
    (A.TICKET_ASSIGNED, {"assignee": ["bob", None]}, "Unassigned (was bob)"),
    (A.TICKET_CUSTOMER_CHANGED, {"customer": ["Acme", "Bolt"], "sale_line": [3, None], "timesheets": [7, 8]},
     "Moved from Acme to Bolt, with its 2 timesheets"),
    (A.TICKET_CUSTOMER_CHANGED, {"customer": ["Acme", "Bolt"], "sale_line": [3, None], "timesheets": []},
     "Moved from Acme to Bolt"),
    (A.ENTRY_CREATED, {"user": 4, "date": "2026-11-28", "minutes": 90, "billable_minutes": 90,
                       "description": "Fuser", "ticket": 12, "task": None, "sale_line": 3, "work_type": None,
                       "approval": "to_approve"},
     "Logged 1:30 for 2026-11-28 on ticket #12"),
    (A.ENTRY_EDITED, {"minutes": [90, 120], "billable_minutes": [90, 120], "description": ["Fuser", "Drum"]},
     "Duration changed from 1:30 to 2:00; Description changed from “Fuser” to “Drum”"),
    (A.ENTRY_EDITED, {"date": ["2026-11-27", "2026-11-28"], "work_type": [None, 2], "billable_minutes": [60, 0],
                      "sale_line": [3, None], "approval": ["rejected", "to_approve"]},
     "Date changed from 2026-11-27 to 2026-11-28; Work type changed; Billable time changed from 1:00 to 0:00; "
     "Sales Order Item changed; Approval changed from Rejected to To approve"),
    (A.ENTRY_DELETED, {"user": 4, "date": "2026-11-28", "minutes": 45, "billable_minutes": 45, "description": "",
                       "ticket": None, "task": 5, "sale_line": None, "work_type": None, "approval": "approved"},
     "Deleted 0:45 of 2026-11-28 on task #5"),
    (A.ENTRY_APPROVED, {"approval": ["to_approve", "approved"]}, "Approved"),
    (A.ENTRY_REJECTED, {"approval": ["to_approve", "rejected"], "reason": "Wrong ticket"},
     "Rejected: “Wrong ticket”"),
    (A.ENTRY_WRITTEN_OFF, {"written_off": [False, True], "reason": "Our mistake", "invoice": 2},
     "Written off from Draft invoice #2: “Our mistake”"),
    (A.ENTRY_REINSTATED, {"written_off": [True, False], "write_off_reason": "Our mistake",
                          "billable_minutes": [0, 90]},
     "Reinstated: bills 1:30 again (written off for “Our mistake”)"),
    (A.ORDER_CONFIRMED, {"state": ["draft", "sale"]}, "Confirmed: the quotation is a sales order"),
    (A.ORDER_CANCELLED, {"state": ["sale", "cancel"]}, "Cancelled"),
    (A.ORDER_RATES_CHANGED, {"agent_rates": [[], ["user 4 → line 3", "user 5 → line 3"]],
                             "work_type_rates": [["work_type 1 → line 3"], []]},
     "Rates by agent changed: 2 rates (was no rate); Rates by work type changed: no rate (was 1 rate)"),
    (A.INVOICE_CREATED, {"sale_order": "S00001", "period": [None, None], "amount_untaxed": "510.00",
                         "amount_tax": "107.10", "amount_total": "617.10", "minutes": 340, "timesheets": [1, 2, 3]},
     "Created from S00001: 3 timesheets, 5:40 billed, total 617.10"),
    (A.INVOICE_CREATED, {"sale_order": "S00002", "period": ["2026-11-01", None], "amount_untaxed": "850.00",
                         "amount_tax": "0.00", "amount_total": "850.00", "minutes": 0, "timesheets": []},
     "Created from S00002, timesheets from 2026-11-01 to today: total 850.00"),
    (A.INVOICE_TIMESHEETS_REMOVED, {"removed_timesheets": [1, 2, 3], "amount_total": ["617.10", "500.00"],
                                    "minutes": [340, 280]},
     "Removed 3 timesheets; total now 500.00 (was 617.10)"),
    (A.INVOICE_WRITTEN_OFF, {"written_off_timesheets": [2], "reason": "Goodwill",
                             "amount_total": ["180.00", "135.00"], "minutes": [120, 90]},
     "Wrote off 1 timesheet: “Goodwill”; total now 135.00 (was 180.00)"),
    (A.INVOICE_POSTED, {"state": ["draft", "posted"], "number": [None, "INV/2026/00005"],
                        "invoice_date": "2026-11-30", "amount_total": "617.10", "due_date": "2026-12-30",
                        "payment_reference": "+++000/0000/00097+++"},
     "Posted as INV/2026/00005, total 617.10, due 2026-12-30"),
    (A.INVOICE_POSTED, {"state": ["draft", "posted"], "number": [None, "RINV/2026/00001"],
                        "invoice_date": "2026-11-30", "amount_total": "90.00", "due_date": None,
                        "payment_reference": "", "freed_timesheets": [1]},
     "Posted as RINV/2026/00001, total 90.00; its 1 timesheet is to invoice again"),
    (A.INVOICE_CANCELLED, {"state": ["draft", "cancelled"], "freed_timesheets": [1, 2]},
     "Cancelled; its 2 timesheets are to invoice again"),
    (A.INVOICE_CANCELLED, {"state": ["draft", "cancelled"], "freed_timesheets": []}, "Cancelled"),
    (A.INVOICE_CREDITED, {"credit_note": 7, "full": True, "amount_untaxed": "90.00", "amount_tax": "0.00",
                          "amount_total": "90.00", "minutes": 60, "timesheets": [1]},
     "Credited in full by Draft credit note #7: total 90.00"),
    (A.INVOICE_CREDITED, {"credit_note": 7, "full": False, "amount_untaxed": "30.00", "amount_tax": "0.00",
                          "amount_total": "30.00", "minutes": 20, "timesheets": [1, 2]},
     "Credited for 2 timesheets by Draft credit note #7: total 30.00"),
    (A.CREDIT_NOTE_CREATED, {"refers": "INV/2026/00001", "credit_note": 7, "full": True, "amount_total": "90.00",
                             "minutes": 60, "timesheets": [1]},
     "Created to credit INV/2026/00001 in full: total 90.00"),
    (A.CREDIT_NOTE_CREATED, {"refers": "INV/2026/00001", "credit_note": 7, "full": False,
                             "amount_total": "30.00", "minutes": 20, "timesheets": [1, 2]},
     "Created to credit 2 timesheets of INV/2026/00001: total 30.00"),
    (A.INVOICE_SENT, {"to": "ap@acme.test", "subject": "Invoice INV/2026/00005 from Helpdesk",
                      "attachment": "INV-2026-00005.pdf", "billing_run": 3},
     "Sent by email to ap@acme.test: “Invoice INV/2026/00005 from Helpdesk”, INV-2026-00005.pdf attached, "
     "in billing run 3"),
    (A.INVOICE_PDF_STORED, {"file": "invoices/INV-2026-00005.pdf", "bytes": 20480},
     "PDF stored (20.0\xa0KB): every download serves this file"),
    (A.INVOICE_DUE_DATE_SET, {"due_date": [None, "2026-12-31"]},
     "Due date set to 2026-12-31 (was from the payment terms)"),
    (A.INVOICE_DUE_DATE_SET, {"due_date": ["2026-12-31", None]},
     "Due date back to the payment terms (was 2026-12-31)"),
    (A.PAYMENT_REGISTERED, {"payment": 1, "date": "2026-12-01", "amount": "100.00", "method": "transfer",
                            "reference": "ACME-77", "amount_residual": "517.10", "payment_state": "partial"},
     "Payment of 100.00 by bank transfer on 2026-12-01 (reference ACME-77): 517.10 left to pay"),
    (A.PAYMENT_REGISTERED, {"payment": 2, "date": "2026-12-02", "amount": "517.10", "method": "card",
                            "reference": "", "amount_residual": "0.00", "payment_state": "paid"},
     "Payment of 517.10 by card on 2026-12-02: paid in full"),
    (A.PAYMENT_REVERSED, {"payment": 1, "reversal": 3, "amount": "-100.00", "reason": "Returned by the bank",
                          "amount_residual": "617.10", "payment_state": "not_paid"},
     "Payment of 100.00 reversed: “Returned by the bank”; 617.10 left to pay"),
    (A.REMINDER_SENT, {"step_days": 7, "to": "ap@acme.test", "sent": True, "amount_residual": "617.10",
                       "due_date": "2026-11-30"},
     "Payment reminder sent to ap@acme.test, 7 days after the due date 2026-11-30: 617.10 still open"),
    (A.REMINDER_SENT, {"step_days": 7, "to": "", "sent": False, "amount_residual": "617.10",
                       "due_date": "2026-11-30"},
     "Payment reminder of 7 days after the due date not sent: the customer has no billing email"),
    (A.BILLING_RUN_STARTED, {"period_end": "2026-11-30", "orders": 12},
     "Billing run started for 12 orders, timesheets up to 2026-11-30"),
    (A.BILLING_RUN_STARTED, {"period_end": None, "orders": 1}, "Billing run started for 1 order, all timesheets"),
    (A.ALERT_RAISED, {"alert": 1, "kind": "delivered", "sale_line": 3, "delivered_minutes": 480,
                      "ordered_minutes": 600, "threshold": "80.00"},
     "Alert: Delivered 8:00 reached 80% of the 10:00 ordered"),
    (A.ALERT_RAISED, {"alert": 2, "kind": "remaining", "sale_line": 3, "delivered_minutes": 1050,
                      "ordered_minutes": 1200, "threshold": "3.00"},
     "Alert: 2:30 left of the 20:00 prepaid, below 3.00 hours"),
    (A.ALERT_CLEARED, {"alert": 1, "kind": "delivered", "sale_line": 3, "note": "Upsold 10 h"},
     "Alert dealt with: “Upsold 10 h”"),
    (A.ALERT_CLEARED, {"alert": 1, "kind": "delivered", "sale_line": 3, "note": ""}, "Alert dealt with"),
    (A.ALERT_ENDED, {"alert": 1, "kind": "delivered", "sale_line": 3},
     "Alert ended: the line is back under its threshold"),
    (A.LOCK_DATE_CHANGED, {"timesheets_lock_date": [None, "2026-10-31"]},
     "Lock date set to 2026-10-31 (was none)"),
    (A.LOCK_DATE_CHANGED, {"lock_date": ["2026-10-31", None], "agent_grace_days": [None, 7]},
     "Lock date removed (was 2026-10-31); Agents may log time up to 7 days back (was no limit)"),
    (A.TEAM_INVOICING_CHANGED, {"invoiced_timesheets": ["all", "approved"]},
     "Invoiced Timesheets changed from All recorded timesheets to Approved timesheets only"),
    (A.WORK_TYPE_CHANGED, {"billing": ["billable", "no_charge"]}, "Billing changed from Billable to No charge"),
    (A.PRODUCT_RULE_CHANGED, {"rounding": ["entry", "ticket"], "billing_increment_minutes": [1, 15],
                              "minimum_minutes": [0, 30], "alert_delivered_percent": [100, None],
                              "alert_remaining_hours": [None, "5.00"]},
     "Rounding changed from Per entry to Per ticket; Billing increment changed from 1 min to 15 min; "
     "Minimum charge changed from 0 min to 30 min; Alert on Delivered changed from 100% to never; "
     "Alert on remaining hours changed from never to 5.00 hours"),
    (A.COMPANY_CHANGED, {"name": ["Helpdesk", "Helpdesk SRL"], "address": ["Rue A 1", "Rue B 2"],
                         "iban": ["", "BE68539007547034"]},
     "Name changed from “Helpdesk” to “Helpdesk SRL”; Address changed; "
     "IBAN changed from nothing to “BE68539007547034”"),
    (A.CUSTOMER_BILLING_CHANGED, {"billing_email": ["", "ap@acme.test"], "payment_terms_days": [None, 15]},
     "Billing email changed from nothing to “ap@acme.test”; Payment terms changed from the company's to 15 days"),
]


@pytest.mark.parametrize("action, changes, text", CASES, ids=[f"{case[0]}-{n}" for n, case in enumerate(CASES)])
def test_each_event_reads_as_a_sentence(action, changes, text):
    assert said(action, changes) == text


def test_amounts_are_in_the_documents_currency_and_timesheets_dated_when_the_caller_knows():
    dates = {1: "2026-11-28", 2: "2026-11-29", 3: "2026-11-29"}
    assert said(A.INVOICE_TIMESHEETS_REMOVED, {"removed_timesheets": [1, 2, 3], "amount_total": ["617.10", "500.00"],
                                               "minutes": [340, 280]}, money=euros, dates=dates) == \
        "Removed 3 timesheets (2026-11-28, 2026-11-29); total now €500.00 (was €617.10)"
    many = {n: f"2026-11-{n:02d}" for n in range(1, 6)}
    assert said(A.INVOICE_CANCELLED, {"state": ["draft", "cancelled"], "freed_timesheets": [5, 1, 3, 2, 4]},
                dates=many) == "Cancelled; its 5 timesheets (2026-11-01 to 2026-11-05) are to invoice again"
    # An entry deleted since is counted, not dated.
    assert said(A.INVOICE_CREDITED, {"credit_note": 7, "full": False, "amount_total": "30.00",
                                     "timesheets": [1, 9]}, money=euros, dates=dates) == \
        "Credited for 2 timesheets (2026-11-28) by Draft credit note #7: total €30.00"


def test_no_sentence_shows_a_flag_an_id_list_or_a_field_name():
    for action, changes, _ in CASES:
        text = said(action, changes)
        for raw in ("True", "False", "None", "[", "_", "timesheets 1"):
            assert raw not in text, (action, text)


def test_the_invoice_history_reads_as_sentences_with_dates_and_euros(client, agent, accountant, ticket, line_a):
    first = timesheet_log(user=agent, date=days_ago(3), minutes=60, ticket=ticket)
    second = timesheet_log(user=agent, date=days_ago(2), minutes=30, ticket=ticket)
    third = timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
    invoice = invoice_create_from_order(order=line_a.order, actor=accountant)
    invoice_remove_timesheets(invoice=invoice, entry_ids=[second.pk, third.pk], actor=accountant)
    number = invoice_post(invoice=invoice, actor=accountant).number
    note = invoice_credit_note(invoice=invoice, actor=accountant)
    invoice_cancel(invoice=note, actor=accountant)
    assert entry_ids(audit_events_for(obj=invoice)) == {first.pk, second.pk, third.pk}

    client.force_login(accountant)
    html = client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    history = html[html.index('id="invoice-events"'):]
    day = {entry: entry.date.isoformat() for entry in (first, second, third)}
    order = line_a.order.name
    rows = [f"<td>Created from {order}: 3 timesheets ({day[first]}, {day[second]}, {day[third]}), 2:00 billed, "
            f"total €180.00</td>",
            f"<td>Removed 2 timesheets ({day[second]}, {day[third]}); total now €90.00 (was €180.00)</td>",
            f"<td>Posted as {number}, total €90.00, due ",
            f"<td>Credited in full by Draft credit note #{note.pk}: total €90.00</td>"]
    positions = [history.index(row) for row in rows]
    assert positions == sorted(positions)
    assert "full False" not in history and "timesheets 1" not in history
