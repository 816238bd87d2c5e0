"""Payment reminders: a daily job emails one for each overdue invoice at the company's steps
(e.g. 7 and 21 days after the due date), each step once.

The Reminder row is written, under its unique (invoice, step), before the email goes out: two
workers, or a job run twice, never send the same step twice; a job killed between the row and
the email leaves a reminder recorded but not sent (at most once, like invoices; DESIGN Rule 16).
An invoice that reaches two steps at once (the job did not run for weeks) gets one email, the
later step's, and the earlier is recorded as passed. The email is written in the customer's language.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from core.templatetags.money import iban
from sales.models import Company

from .languages import customer_language
from .mail import one_line, reply_to
from .models import Invoice, Reminder
from .payments import overdue_invoices

log = logging.getLogger(__name__)


def reminders_due(today: datetime.date | None = None) -> list[tuple[Invoice, int]]:
    """Each overdue invoice with the latest step it has reached and no reminder yet for it or a later one."""
    today = today or timezone.localdate()
    steps = Company.current().reminder_steps
    if not steps:
        return []
    invoices = list(overdue_invoices(today))
    sent = {}
    for invoice_id, step in Reminder.objects.filter(invoice__in=invoices).values_list("invoice", "step_days"):
        sent[invoice_id] = max(sent.get(invoice_id, 0), step)
    due = []
    for invoice in invoices:
        late = (today - invoice.due_date).days
        reached = [step for step in steps if step <= late]
        if reached and reached[-1] > sent.get(invoice.pk, 0):
            due.append((invoice, reached[-1]))
    return due


def reminder_message(invoice: Invoice, to: str, today: datetime.date) -> EmailMessage:
    company = invoice.issuer
    # The account to pay into, as people read it: "BE68 5390 0754 7034 (GEBABEBB)".
    account = iban(company.get("iban", "")) + (f" ({company['bic']})" if company.get("iban") and company.get("bic")
                                                  else "")
    context = {"invoice": invoice, "company": company, "days": (today - invoice.due_date).days, "account": account}
    with translation.override(customer_language(invoice.customer)):
        subject = one_line(render_to_string("invoicing/email/reminder_subject.txt", context))
        body = render_to_string("invoicing/email/reminder_body.txt", context)
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to],
                        reply_to=reply_to(invoice))


def reminder_send(invoice: Invoice, step: int, today: datetime.date) -> Reminder | None:
    """Record and send one reminder; None when another worker recorded this step first."""
    to = invoice.customer.invoice_email
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(invoice=invoice, step_days=step, to=to,
                                               skipped="" if to else _("The customer has no billing email."))
    except IntegrityError:
        return None
    if to:
        message = reminder_message(invoice, to, today)
        message.send()
        reminder.sent_at = timezone.now()
        reminder.save(update_fields=["sent_at"])
    audit_record(action=AuditEvent.Action.REMINDER_SENT, obj=invoice, changes={
        "step_days": step, "to": to, "sent": bool(to), "amount_residual": invoice.amount_residual,
        "due_date": invoice.due_date})
    return reminder


def reminders_send(today: datetime.date | None = None) -> int:
    """Send every reminder due today; return how many were recorded."""
    today = today or timezone.localdate()
    count = 0
    for invoice, step in reminders_due(today):
        for passed in (s for s in Company.current().reminder_steps if s < step):
            Reminder.objects.get_or_create(invoice=invoice, step_days=passed,
                                           defaults={"skipped": _("A later step was due: only it was sent.")})
        if reminder_send(invoice, step, today):
            count += 1
    return count


def next_run(now: datetime.datetime | None = None) -> datetime.datetime:
    """The next REMINDERS_AT (local time, "07:00" by default) after `now`."""
    now = timezone.localtime(now)
    hour, minute = (int(part) for part in settings.REMINDERS_AT.split(":"))
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at if at > now else at + datetime.timedelta(days=1)


def reminders_schedule() -> bool:
    """Queue the daily reminders job unless one is waiting; True when this call queued it.

    Every worker calls it at each sweep (the worker command, reports app), so the schedule survives restarts
    and lost workers; a second job queued by a race sends nothing twice (see above).
    """
    from django_tasks_db.models import DBTaskResult

    from .tasks import send_reminders

    waiting = DBTaskResult.objects.filter(task_path=send_reminders.module_path, status="READY").exists()
    if waiting:
        return False
    send_reminders.using(run_after=next_run()).enqueue()
    return True
