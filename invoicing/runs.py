"""The billing run: "To Invoice" → Create Invoices → Post → Send by email, each step a background job.

Exactly once (DESIGN Rule 16) rests on three things:
- a step's items are rows, one per order (RunItem, unique per step and order);
- a job takes an item with SELECT ... FOR UPDATE SKIP LOCKED and does its work *in the same
  transaction* as it marks it done: killed mid-item, both roll back and the item is pending again;
  any number of jobs may work one step, each on other items;
- Create Invoice locks the order and bills only entries on no invoice, so two runs naming one order
  invoice it once: the second is refused "nothing to invoice".
Sending cannot share a transaction with an SMTP server: an item is marked "sending" (committed)
before its message goes, and one a dead worker left so is settled from the audit log: sent if the
log says so, else refused for a person to check. Nothing is ever sent twice by a resume.

An item's reason is stored text, written in the language of whoever started the step (core.languages).

A step whose job has not beaten for JOB_STALL_SECONDS lost its worker: `runs_recover` (called by
every `manage.py worker`, and by the Resume button) enqueues a new job for it.
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks_db.models import DBTaskResult

from audit.models import AuditEvent
from audit.services import audit_record
from core.errors import Conflict, error_message
from core.l10n import day
from core.languages import language_of
from sales.models import SaleOrder

from .models import BillingRun, Invoice, RunItem, RunStep
from .selectors import orders_to_invoice
from .services import check_period, invoice_create_from_order, invoice_post
from .tasks import work_step

log = logging.getLogger(__name__)

Kind, Item = RunStep.Kind, RunItem.State
UNFINISHED = [RunStep.State.QUEUED, RunStep.State.RUNNING]


# --- Starting ---------------------------------------------------------------------------

def _order_ids(order_ids, period_end, customer, team) -> list[int]:
    """The orders a run bills: those named (each a confirmed order), else all with something to invoice."""
    if order_ids is None:
        return [row["order"].pk for row in orders_to_invoice(period_end=period_end, customer=customer, team=team)]
    ids = sorted({int(pk) for pk in order_ids})
    confirmed = set(SaleOrder.objects.filter(pk__in=ids, state=SaleOrder.State.SALE).values_list("pk", flat=True))
    if not ids:
        raise ValidationError({"orders": _("Choose at least one order, or leave the list out to bill all of them.")})
    if not confirmed.issuperset(ids):
        wrong = ", ".join(str(pk) for pk in ids if pk not in confirmed)
        raise ValidationError({"orders": _("These are not confirmed sales orders: {ids}.").format(ids=wrong)})
    return ids


def run_start(*, order_ids=None, period_end: datetime.date | None = None, customer=None, team=None,
              actor=None) -> BillingRun:
    """Start a run over these orders (None: every order with something to invoice up to period_end)."""
    check_period(None, period_end)
    ids = _order_ids(order_ids, period_end, customer, team)
    if not ids:
        raise ValidationError(_("There is nothing to invoice up to {date}.").format(date=day(period_end)) if period_end
                              else _("There is nothing to invoice."))
    with transaction.atomic():
        run = BillingRun.objects.create(period_end=period_end, created_by=actor)
        _step_start(run, Kind.CREATE, [(pk, None) for pk in ids], actor)
        audit_record(action=AuditEvent.Action.BILLING_RUN_STARTED, obj=run, actor=actor,
                     changes={"period_end": period_end, "orders": len(ids)})
    return run


def _step_start(run: BillingRun, kind: str, items: list[tuple[int, int | None]], actor) -> RunStep:
    """Create the step and its items, and enqueue its job: all in the caller's transaction."""
    if run.steps.filter(kind=kind).exists():
        raise Conflict(_("{run} already has its “{step}” step.").format(run=run, step=RunStep.Kind(kind).label))
    step = RunStep.objects.create(run=run, kind=kind, created_by=actor, beat_at=timezone.now())
    RunItem.objects.bulk_create(RunItem(step=step, order_id=order_id, invoice_id=invoice_id)
                                for order_id, invoice_id in items)
    # Several jobs, so that as many workers share a long run; each takes items the others have not.
    for _job in range(min(settings.RUN_JOBS_PER_STEP, len(items))):
        step.task_id = str(work_step.enqueue(step.pk).id)
    step.save(update_fields=["task_id"])
    return step


def _created(run: BillingRun):
    return RunItem.objects.filter(step__run=run, step__kind=Kind.CREATE, state=Item.DONE).order_by("pk")


@transaction.atomic
def run_post(*, run: BillingRun, actor=None) -> RunStep:
    """Post: a job posting the run's invoices still in draft."""
    run = BillingRun.objects.select_for_update().get(pk=run.pk)
    _refuse_while_creating(run)
    items = [(item.order_id, item.invoice_id) for item in _created(run).filter(invoice__state=Invoice.State.DRAFT)]
    if not items:
        raise ValidationError(_("{run} has no draft invoices to post.").format(run=run))
    return _step_start(run, Kind.POST, items, actor)


@transaction.atomic
def run_send(*, run: BillingRun, actor=None) -> RunStep:
    """Send by email: a job sending each of the run's posted invoices to its customer."""
    run = BillingRun.objects.select_for_update().get(pk=run.pk)
    _refuse_while_creating(run)
    if run.steps.filter(kind=Kind.POST, state__in=UNFINISHED).exists():
        raise Conflict(_("{run} is still posting its invoices: send them once that is done.").format(run=run))
    items = [(item.order_id, item.invoice_id) for item in _created(run).filter(invoice__state=Invoice.State.POSTED)]
    if not items:
        raise ValidationError(_("{run} has no posted invoices to send: post them first.").format(run=run))
    return _step_start(run, Kind.SEND, items, actor)


def _refuse_while_creating(run: BillingRun) -> None:
    if run.steps.filter(kind=Kind.CREATE, state__in=UNFINISHED).exists():
        raise Conflict(_("{run} is still creating its invoices: wait until it is done.").format(run=run))


# --- Working ---------------------------------------------------------------------------

def step_work(*, step_id: int) -> dict:
    """Do the step's pending items one by one until none is left; return its progress. The items' reasons
    are written in the language of whoever started the step."""
    now = timezone.now()
    RunStep.objects.filter(pk=step_id, state=RunStep.State.QUEUED).update(state=RunStep.State.RUNNING, beat_at=now)
    step = RunStep.objects.select_related("run", "created_by").get(pk=step_id)
    with translation.override(language_of(step.created_by)):
        while (item := _take(step)) is not None:
            if step.kind == Kind.SEND:
                _send(step, item)
            RunStep.objects.filter(pk=step.pk).update(beat_at=timezone.now())
    _finish(step)
    return step_progress(step)


def _take(step: RunStep) -> RunItem | None:
    """Take the next pending item and, but for sending, do it: one transaction, killed or not."""
    with transaction.atomic():
        item = (RunItem.objects.select_for_update(skip_locked=True, of=("self",)).select_related("order", "invoice")
                .filter(step=step, state=Item.PENDING).order_by("pk").first())
        if item is None:
            return None
        if step.kind == Kind.SEND:
            item.state = Item.SENDING  # committed before the message goes: see the module's docstring
            item.save(update_fields=["state"])
            return item
        try:
            if step.kind == Kind.CREATE:
                item.invoice = invoice_create_from_order(order=item.order, period_end=step.run.period_end,
                                                         actor=step.created_by)
            else:
                invoice_post(invoice=item.invoice, actor=step.created_by)
        except ValidationError as error:  # Conflict among them
            _settle(item, Item.REFUSED, error_message(error))
        except DatabaseError:
            raise  # the transaction is lost: the job fails, the item stays pending, a resume redoes it
        except Exception as error:  # a defect on one order must not stop the month-end run
            log.exception("%s: %s could not be done", step, item.order)
            _settle(item, Item.REFUSED, _("Unexpected error ({error}); it is in the server log.")
                    .format(error=type(error).__name__))
        else:
            _settle(item, Item.DONE)
        return item


def _send(step: RunStep, item: RunItem) -> None:
    from .mail import invoice_send

    try:
        to = invoice_send(invoice_id=item.invoice_id, actor_id=step.created_by_id, run_id=step.run_id)
    except ValidationError as error:
        state, reason = Item.REFUSED, error_message(error)
    except Exception as error:  # an SMTP refusal, a server down: this invoice, not the run
        log.exception("%s: sending %s failed", step, item.invoice)
        state, reason = Item.REFUSED, _("Not sent: {error}").format(error=error)
    else:
        state, reason = Item.DONE, _("Sent to {to}").format(to=to)
    with transaction.atomic():
        _settle(item, state, reason)


def _settle(item: RunItem, state: str, reason: str = "") -> None:
    item.state, item.reason, item.finished_at = state, reason, timezone.now()
    item.save(update_fields=["state", "reason", "finished_at", "invoice"])


def _finish(step: RunStep) -> None:
    if not step.items.filter(state__in=[Item.PENDING, Item.SENDING]).exists():
        RunStep.objects.filter(pk=step.pk).exclude(state=RunStep.State.DONE).update(
            state=RunStep.State.DONE, finished_at=timezone.now())


# --- Progress and recovery ------------------------------------------------------------

def steps_progress(step_ids) -> dict[int, dict]:
    """Each step's {total, done, refused, finished, percent}, counted in one query for them all."""
    rows = (RunItem.objects.filter(step__in=step_ids).values("step").order_by()
            .annotate(total=Count("pk"), done=Count("pk", filter=Q(state=Item.DONE)),
                      refused=Count("pk", filter=Q(state=Item.REFUSED))))
    counted = {row.pop("step"): row for row in rows}
    progress = {}
    for step_id in step_ids:
        counts = counted.get(step_id, {"total": 0, "done": 0, "refused": 0})
        counts["finished"] = counts["done"] + counts["refused"]
        counts["percent"] = round(100 * counts["finished"] / counts["total"]) if counts["total"] else 100
        progress[step_id] = counts
    return progress


def step_progress(step: RunStep) -> dict:
    return steps_progress([step.pk])[step.pk]


def stalled(step: RunStep, now=None) -> bool:
    now = now or timezone.now()
    return (step.state in UNFINISHED
            and step.beat_at < now - datetime.timedelta(seconds=settings.JOB_STALL_SECONDS))


def runs_recover(*, now=None) -> list[int]:
    """Enqueue a new job for every step whose job stopped beating; return their ids. Safe to call anywhere."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.JOB_STALL_SECONDS)
    resumed = []
    for step in RunStep.objects.filter(state__in=UNFINISHED, beat_at__lt=stale):
        # One caller wins the step: the others find its beat moved.
        if RunStep.objects.filter(pk=step.pk, beat_at=step.beat_at).update(beat_at=now) and _resume(step):
            resumed.append(step.pk)
    _bury_lost_jobs(stale)
    return resumed


def _bury_lost_jobs(stale) -> None:
    """Mark failed the jobs a dead worker left running on a step the others finished long ago."""
    running = DBTaskResult.objects.filter(task_path=work_step.module_path, status="RUNNING")
    by_step = {job.pk: job.args_kwargs["args"][0] for job in running.only("pk", "args_kwargs")}
    finished = set(RunStep.objects.filter(pk__in=set(by_step.values()), state=RunStep.State.DONE,
                                          finished_at__lt=stale).values_list("pk", flat=True))
    _fail_lost([job_id for job_id, step_id in by_step.items() if step_id in finished])


def _jobs(step: RunStep):
    return DBTaskResult.objects.filter(task_path=work_step.module_path, args_kwargs__args=[step.pk])


def _fail_lost(job_ids) -> None:
    DBTaskResult.objects.filter(pk__in=job_ids, status="RUNNING").update(
        status="FAILED", finished_at=timezone.now(), exception_class_path="invoicing.runs.WorkerLost",
        traceback="Its worker stopped beating; the step was resumed by another job.")


def step_resume(*, step: RunStep, actor=None) -> RunStep:
    """The Resume button: only for a stalled step (a running one would have its sends cut short)."""
    step.refresh_from_db()
    if not stalled(step):
        raise Conflict((_("{step} is not stalled: it is done.") if step.state == RunStep.State.DONE
                        else _("{step} is not stalled: its worker is at work.")).format(step=step))
    if _jobs(step).filter(status="READY").exists():
        raise Conflict(_("{step} has a job waiting for a worker: check that `manage.py worker` runs.")
                       .format(step=step))
    if step.pk not in runs_recover():
        raise Conflict(_("{step} was resumed a moment ago.").format(step=step))
    step.refresh_from_db()
    return step


@transaction.atomic
def _resume(step: RunStep) -> bool:
    """Enqueue a new job for the step unless one of its jobs is still queued; True when it did."""
    jobs = _jobs(step)
    if jobs.filter(status="READY").exists():
        return False  # one of its jobs has not started yet (every worker busy or down): it will go on
    _fail_lost(jobs.filter(status="RUNNING").values_list("pk", flat=True))
    if step.kind == Kind.SEND:
        with translation.override(language_of(step.created_by)):
            _settle_interrupted_sends(step)
    log.warning("%s: its worker was lost; resuming it", step)
    step.task_id = str(work_step.enqueue(step.pk).id)
    step.save(update_fields=["task_id"])
    return True


def _settle_interrupted_sends(step: RunStep) -> None:
    """Settle items a dead worker left "sending": sent if the audit log says so, else for a person to check."""
    for item in step.items.filter(state=Item.SENDING).select_related("invoice"):
        sent = AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_SENT, object_type="invoicing.invoice",
                                         object_id=item.invoice_id, changes__billing_run=step.run_id).first()
        if sent:
            _settle(item, Item.DONE, _("Sent to {to}").format(to=sent.changes.get("to")))
        else:
            _settle(item, Item.REFUSED, _("Interrupted while sending: it may not have gone out. Check, then send it "
                                          "again from the invoice."))
