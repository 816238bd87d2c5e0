"""Payment reminders (issue 14): a daily job emails each overdue invoice at the company's steps, each once."""

import datetime
from decimal import Decimal

import time_machine
from django.core import mail
from django_tasks_db.models import DBTaskResult

from audit.models import AuditEvent
from invoicing.models import Reminder
from invoicing.payments import payment_register
from invoicing.reminders import next_run, reminders_schedule, reminders_send
from invoicing.services import invoice_create_from_order, invoice_post
from invoicing.tasks import send_reminders
from sales.models import Company
from timesheets.services import timesheet_log

from ..factories import TicketFactory, confirmed_line
from ..jobs import run_jobs

POSTED = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=datetime.UTC)  # due 2026-11-17 (15 days)


def _invoice(agent, *, billing_email="ap@customer.example"):
    with time_machine.travel(POSTED, tick=False):
        line = confirmed_line(price_unit=Decimal("60.00"), quantity=0)
        customer = line.order.customer
        customer.payment_terms_days, customer.billing_email = 15, billing_email
        if not billing_email:
            customer.email = ""
        customer.save()
        ticket = TicketFactory(customer=customer, sale_line=line)
        timesheet_log(user=agent, ticket=ticket, date=datetime.date(2026, 11, 1), minutes=90)
        return invoice_post(invoice=invoice_create_from_order(order=line.order))


def _on(day):
    return time_machine.travel(datetime.datetime(2026, 11, day, 8, 0, tzinfo=datetime.UTC), tick=False)


def test_each_step_is_sent_once_to_the_billing_email(agent):
    invoice = _invoice(agent)
    with _on(23):  # 6 days late: no step yet
        assert reminders_send() == 0
    with _on(24):
        assert reminders_send() == 1
        assert reminders_send() == 0  # the same day again: nothing twice
    [message] = mail.outbox
    assert message.to == ["ap@customer.example"]
    assert message.subject == f"Reminder: invoice {invoice.number} from Helpdesk Services SRL is overdue"
    assert (f"Our invoice {invoice.number} of 2026-11-02 for €90.00 was due on 2026-11-17, 7 days ago. "
            "€90.00 of it is still open.") in message.body
    assert "quoting +++126/0000/00171+++" in message.body
    assert message.reply_to == ["billing@example.com"]
    with _on(30):
        assert reminders_send() == 0
    with time_machine.travel(datetime.datetime(2026, 12, 8, 8, 0, tzinfo=datetime.UTC), tick=False):
        assert reminders_send() == 1
    assert [(r.step_days, r.to, r.sent_at is not None) for r in invoice.reminders.all()] == [
        (7, "ap@customer.example", True), (21, "ap@customer.example", True)]
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REMINDER_SENT, object_id=invoice.pk).count() == 2


def test_a_paid_invoice_gets_no_reminder_and_a_partly_paid_one_says_what_is_left(agent, accountant):
    paid = _invoice(agent)
    partly = _invoice(agent)
    payment_register(invoice=paid, amount=paid.amount_total, actor=accountant)
    payment_register(invoice=partly, amount="40.00", actor=accountant)
    with _on(25):
        assert reminders_send() == 1
    [message] = mail.outbox
    assert f"invoice {partly.number}" in message.subject
    assert "€50.00 of it is still open." in message.body


def test_two_steps_reached_at_once_send_one_email_and_record_both(agent):
    invoice = _invoice(agent)
    with time_machine.travel(datetime.datetime(2026, 12, 10, 8, 0, tzinfo=datetime.UTC), tick=False):
        assert reminders_send() == 1
        assert reminders_send() == 0
    assert len(mail.outbox) == 1 and "23 days ago" in mail.outbox[0].body
    assert [(r.step_days, r.sent_at is not None, r.skipped) for r in invoice.reminders.all()] == [
        (7, False, "A later step was due: only it was sent."), (21, True, "")]


def test_a_customer_without_email_is_recorded_not_sent(agent):
    invoice = _invoice(agent, billing_email="")
    with _on(24):
        assert reminders_send() == 1
    assert mail.outbox == []
    assert [(r.step_days, r.skipped) for r in invoice.reminders.all()] == [(7, "The customer has no billing email.")]


def test_no_steps_no_reminders(agent):
    company = Company.current()
    company.reminder_days = ""
    company.save()
    _invoice(agent)
    with _on(28):
        assert reminders_send() == 0
    assert not Reminder.objects.exists()


def test_the_daily_job_queues_the_next_run_and_sends(agent):
    _invoice(agent)
    run_jobs()  # its PDF
    with _on(24):
        assert next_run() == datetime.datetime(2026, 11, 25, 7, 0, tzinfo=datetime.UTC)
        assert reminders_schedule() is True
        assert reminders_schedule() is False  # one is waiting: not a second
        send_reminders.enqueue()  # as if tomorrow's had come
        assert run_jobs() == 1
    assert len(mail.outbox) == 1
    waiting = DBTaskResult.objects.filter(task_path=send_reminders.module_path, status="READY")
    assert [job.run_after for job in waiting] == [datetime.datetime(2026, 11, 25, 7, 0, tzinfo=datetime.UTC)]
