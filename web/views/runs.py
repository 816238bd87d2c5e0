"""The billing run: "To Invoice" (every confirmed order with something to invoice), Create Invoices,
and the run's page with a progress bar per step (Create Invoices, Post, Send by email).

Accountants and managers only (the rule invoicing.bill); others get the 403 page. The work is done
by background jobs (invoicing.runs): these views start steps and show their progress, which the
page refreshes (a meta refresh: no script) until every step is done.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from invoicing.models import BillingRun, RunItem, RunStep
from invoicing.runs import run_post, run_send, run_start, stalled, step_resume, steps_progress
from invoicing.selectors import orders_to_invoice
from sales.models import Company
from timesheets.selectors import disputed_by_order

from ..forms.runs import ToInvoiceFilter
from .base import act, page, paginate, record_id, refuse_unless
from .invoices import INVOICERS_ONLY

ORDERS_PER_PAGE = 100
REFRESH_SECONDS = 2


def _refuse_unless_invoicer(request) -> None:
    refuse_unless(request.user.has_perm("invoicing.bill"), INVOICERS_ONLY)


@login_required
def to_invoice(request):
    """Every confirmed order with something to invoice up to the period end: its lines' time (H:MM) or
    quantities (in their unit), and their amounts."""
    _refuse_unless_invoicer(request)
    filters = ToInvoiceFilter(request.GET or None)
    rows = orders_to_invoice(**filters.chosen())
    page_obj = paginate(request, rows, ORDERS_PER_PAGE)
    # The customers' open disputes of the page's orders (issue 18), seen before a run starts: one GROUP BY.
    disputed = disputed_by_order([row["order"].pk for row in page_obj])
    for row in page_obj:
        row["disputed"] = disputed.get(row["order"].pk)
    return page(request, "web/runs/to_invoice.html", {
        "filters": filters, "page_obj": page_obj, "any_disputed": bool(disputed),
        "total": sum(row["amount"] for row in rows), "count": len(rows), "currency": Company.current().currency,
        "runs": BillingRun.objects.select_related("created_by")[:5],
    })


@login_required
@require_POST
def run_create(request):
    """Create Invoices: a run over the ticked orders, or over every order the filters list ("all")."""
    _refuse_unless_invoicer(request)
    filters = ToInvoiceFilter(request.POST)
    back = f"{reverse('to_invoice')}?{urlencode({k: request.POST.get(k, '') for k in filters.fields})}"
    if not filters.is_valid():
        messages.error(request, " ".join(e for errors in filters.errors.values() for e in errors))
        return redirect(back)
    order_ids = None
    if request.POST.get("scope") != "all":
        order_ids = [pk for value in request.POST.getlist("order") if (pk := record_id(value)) is not None]
        if not order_ids:
            messages.error(request, _("Tick the orders to invoice, or choose “Create Invoices for all”."))
            return redirect(back)
    run = act(request, lambda: run_start(order_ids=order_ids, actor=request.user, **filters.chosen()),
              lambda run: _("{run} started: its invoices are being created.").format(run=run))
    return redirect("billing_run_detail", pk=run.pk) if run else redirect(back)


@login_required
def run_list(request):
    _refuse_unless_invoicer(request)
    runs = paginate(request, BillingRun.objects.select_related("created_by").prefetch_related("steps"))
    progress = steps_progress([step.pk for run in runs for step in run.steps.all()])
    for run in runs:
        run.step_rows = [(step, progress[step.pk]) for step in run.steps.all()]
    return page(request, "web/runs/run_list.html", {"page_obj": runs})


@login_required
def run_detail(request, pk):
    _refuse_unless_invoicer(request)
    run = get_object_or_404(BillingRun.objects.select_related("created_by"), pk=pk)
    steps = {step.kind: step for step in run.steps.all()}
    progress = steps_progress([step.pk for step in steps.values()])
    rows = [{"step": step, "progress": progress[step.pk], "stalled": stalled(step)} for step in steps.values()]
    create = steps.get(RunStep.Kind.CREATE)
    items = paginate(request, create.items.select_related("order__customer", "invoice") if create else [], 100)
    # Each order's post and send outcome beside its invoice.
    later = {(item.step.kind, item.order_id): item for kind in (RunStep.Kind.POST, RunStep.Kind.SEND)
             if kind in steps for item in steps[kind].items.select_related("step").filter(
                 order_id__in=[item.order_id for item in items])}
    disputed = disputed_by_order([item.order_id for item in items])  # before Post and Send (issue 18)
    for item in items:
        item.posting = later.get((RunStep.Kind.POST, item.order_id))
        item.sending = later.get((RunStep.Kind.SEND, item.order_id))
        item.disputed = disputed.get(item.order_id)
    working = any(row["step"].state != RunStep.State.DONE for row in rows)
    # The run's invoices, totalled per currency (one, unless the company's changed while it ran).
    totals = list(create.items.filter(state=RunItem.State.DONE).values_list("invoice__currency").annotate(
        total=Sum("invoice__amount_total"), count=Count("pk")).order_by("invoice__currency")) if create else []
    invoiced = {"count": sum(count for _, _, count in totals),
                "totals": [(currency, total) for currency, total, _ in totals]}
    return page(request, "web/runs/run_detail.html", {
        "run": run, "rows": rows, "page_obj": items, "working": working, "refresh": REFRESH_SECONDS,
        "invoiced": invoiced,
        "can_post": create is not None and create.state == RunStep.State.DONE and RunStep.Kind.POST not in steps,
        "can_send": create is not None and create.state == RunStep.State.DONE and RunStep.Kind.SEND not in steps
        and (RunStep.Kind.POST not in steps or steps[RunStep.Kind.POST].state == RunStep.State.DONE),
    })


def _start_step(request, pk, start, message):
    """Post or Send by email: start the step's jobs, and come back to the run's page."""
    _refuse_unless_invoicer(request)
    run = get_object_or_404(BillingRun, pk=pk)
    act(request, lambda: start(run=run, actor=request.user), message)
    return redirect("billing_run_detail", pk=run.pk)


@login_required
@require_POST
def run_post_view(request, pk):
    return _start_step(request, pk, run_post, _("Posting the run's invoices."))


@login_required
@require_POST
def run_send_view(request, pk):
    return _start_step(request, pk, run_send, _("Sending the run's invoices by email."))


@login_required
@require_POST
def run_resume_view(request, pk, step):
    _refuse_unless_invoicer(request)
    step = get_object_or_404(RunStep, run_id=pk, pk=step)
    act(request, lambda: step_resume(step=step, actor=request.user),
        _("{step} resumed: another worker takes it from where it stopped.").format(step=step.get_kind_display()))
    return redirect("billing_run_detail", pk=pk)
