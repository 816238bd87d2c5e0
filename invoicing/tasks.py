"""The invoicing app's background jobs (Django's tasks framework, django-tasks-db backend).

Each is enqueued inside the transaction that needs it and can be killed and run again without
billing, numbering or sending anything twice (DESIGN Rule 16): the work they call says why.
"""

from django.tasks import task


@task
def render_pdf(invoice_id: int) -> bool:
    """Store a posted invoice's PDF (documents.pdf_store); nothing when it has one."""
    from .documents import pdf_store

    return pdf_store(invoice_id=invoice_id)


@task
def work_step(step_id: int) -> dict:
    """Do a billing run step's pending items (runs.step_work); several may share one step."""
    from .runs import step_work

    return step_work(step_id=step_id)


@task
def send_invoice(invoice_id: int, actor_id: int | None = None) -> str:
    """Email a posted invoice (mail.invoice_send): one click, at most one message."""
    from .mail import invoice_send

    return invoice_send(invoice_id=invoice_id, actor_id=actor_id)


@task
def send_reminders() -> int:
    """The daily payment reminders (reminders.reminders_send); queues tomorrow's run first."""
    from .reminders import reminders_schedule, reminders_send

    reminders_schedule()
    return reminders_send()
