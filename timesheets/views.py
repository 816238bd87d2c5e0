"""The ticket and task pages with their shared Timesheets tab, the ticket's timer, and CSV exports.

The ticket page lives here, not in tickets/views.py, because it shows Timesheets and
the timer: tickets may not import timesheets (DESIGN, Layout). Both pages build their
tab with `timesheets_tab`, render it with timesheets/_timesheets_tab.html and post to
themselves, so a refused entry comes back on the same page with what was typed.
"""

import csv
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from projects.selectors import tasks_for
from core.errors import Conflict
from sales.forms import add_service_error
from sales.models import SaleOrderLine
from sales.units import HOUR, minutes_to_qty
from sales.views import page, record_id, refuse_unless, show_refusal
from tickets.forms import SaleLineForm
from tickets.selectors import tickets_for
from tickets.views import STATUS_BUTTONS

from .durations import format_minutes
from .forms import TimeEntryForm
from .models import TimeEntry, Timer
from .selectors import sale_orders_for, time_entries_for
from .services import timer_start, timer_stop, timesheet_delete, timesheet_log, timesheet_update

# The services name the duration "minutes"; the form calls it "duration".
RENAME = {"minutes": "duration"}


def _entry_id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("No such time entry.") from None


# --- The Timesheets tab -------------------------------------------------------------

def timesheets_tab(request, *, entries, ticket=None, task=None):
    """Handle the tab's POST (log, edit, delete) and return its context, or a redirect once done.

    `entries` are the rows the page shows; an edited or deleted entry must be one of them.
    """
    user = request.user
    here = request.path
    log_form = TimeEntryForm(prefix="log", initial={"duration": request.GET.get("duration", "")})
    if request.GET.get("duration"):  # the timer was stopped: what is left to type is the description
        log_form.fields["description"].widget.attrs["autofocus"] = True
    edit_form = edit_id = None

    if request.method == "POST":
        action = request.POST.get("action")
        if action == "log":
            refuse_unless(user.has_perm("timesheets.log_time"), "Only agents and managers log time.")
            log_form = TimeEntryForm(request.POST, prefix="log")
            if log_form.is_valid():
                data = log_form.cleaned_data
                try:
                    entry = timesheet_log(user=user, date=data["date"], minutes=data["duration"],
                                          description=data["description"], ticket=ticket,
                                          task=None if ticket is not None else task, actor=user)
                except ValidationError as error:
                    add_service_error(log_form, error, RENAME)
                else:
                    messages.success(request, f"Logged {entry.duration} on {entry.date:%Y-%m-%d}.")
                    return redirect(f"{here}#timesheets")
        elif action in ("edit", "delete"):
            entry = get_object_or_404(entries, pk=_entry_id(request.POST.get("entry")))
            refuse_unless(user.has_perm("timesheets.change_timeentry", entry), "You can only change your own time.")
            if action == "delete":
                try:
                    timesheet_delete(entry=entry, actor=user)
                except ValidationError as error:
                    show_refusal(request, error)
                else:
                    messages.success(request, f"Deleted {entry.duration} of {entry.date:%Y-%m-%d}.")
                return redirect(f"{here}#timesheets")
            edit_form, edit_id = TimeEntryForm(request.POST, prefix="edit"), entry.pk
            if edit_form.is_valid():
                data = edit_form.cleaned_data
                try:
                    entry = timesheet_update(entry=entry, date=data["date"], minutes=data["duration"],
                                             description=data["description"], actor=user)
                except Conflict as error:  # invoiced meanwhile: nothing changes
                    show_refusal(request, error)
                    return redirect(f"{here}#timesheets")
                except ValidationError as error:
                    add_service_error(edit_form, error, RENAME)
                else:
                    messages.success(request, f"Saved {entry.duration} of {entry.date:%Y-%m-%d}.")
                    return redirect(f"{here}#timesheets")
        else:
            messages.error(request, "Unknown action.")
            return redirect(here)

    rows = list(entries)
    for entry in rows:
        entry.editable = not entry.is_invoiced and user.has_perm("timesheets.change_timeentry", entry)
    if edit_form is None and (edit := record_id(request.GET.get("edit"))) is not None:
        editing = next((e for e in rows if e.pk == edit and e.editable), None)
        if editing is not None:
            edit_id = editing.pk
            edit_form = TimeEntryForm(prefix="edit", initial={
                "date": editing.date, "duration": editing.duration, "description": editing.description})
    return {
        "entries": rows,
        "total_minutes": sum(entry.minutes for entry in rows),
        "log_form": log_form,
        "edit_form": edit_form,
        "edit_id": edit_id,
        "can_log": user.has_perm("timesheets.log_time"),
    }


def invoice_ids_of(entries) -> list[int]:
    """Return the invoices and credit notes that bill these entries or gave them back, cancelled ones aside.

    The "Invoices" smart button counts them; the invoice list filters by them.
    """
    ids = set()
    rows = entries.order_by().values_list("invoice_line__invoice_id", "credit_lines__invoice_id",
                                          "credit_lines__invoice__refers_id", "credit_lines__invoice__state")
    for billed, note, credited, note_state in rows.distinct():
        ids.add(billed)
        if note_state not in (None, "cancelled"):  # a posted credit note freed the entries it gives back
            ids.update((note, credited))
    ids.discard(None)
    return sorted(ids)


# --- Ticket and task pages ----------------------------------------------------------

@login_required
def ticket_detail(request, pk):
    ticket = get_object_or_404(tickets_for(user=request.user), pk=pk)
    entries = time_entries_for(user=request.user).filter(ticket=ticket)
    tab = timesheets_tab(request, entries=entries, ticket=ticket)
    if isinstance(tab, HttpResponse):
        return tab
    invoice_ids = invoice_ids_of(TimeEntry.objects.filter(ticket=ticket))
    can_work = request.user.has_perm("tickets.work_ticket")
    timer = Timer.objects.filter(user=request.user, ticket=ticket).first() if tab["can_log"] else None
    return page(request, "tickets/ticket_detail.html", {
        "ticket": ticket,
        "tab": tab,
        "can_work": can_work,
        "status_buttons": STATUS_BUTTONS[ticket.status] if can_work else [],
        "sale_line_form": SaleLineForm(ticket=ticket) if can_work else None,
        "invoice_ids": invoice_ids,
        "timer": timer,
        # Shown until the page's script counts on; the minutes Stop would give are this, rounded up.
        "timer_elapsed": format_minutes((timezone.now() - timer.started_at) // timedelta(minutes=1)) if timer else "",
    })


@login_required
def task_detail(request, pk):
    task = get_object_or_404(tasks_for(user=request.user), pk=pk)
    entries = time_entries_for(user=request.user).filter(task=task)
    tab = timesheets_tab(request, entries=entries, task=task)
    if isinstance(tab, HttpResponse):
        return tab
    return page(request, "projects/task_detail.html", {
        "task": task, "ticket": getattr(task, "ticket", None), "tab": tab,
    })


# --- The timer ----------------------------------------------------------------------

def _ticket_to_log_on(request, pk):
    ticket = get_object_or_404(tickets_for(user=request.user), pk=pk)
    refuse_unless(request.user.has_perm("timesheets.log_time"), "Only agents and managers log time.")
    return ticket


@login_required
@require_POST
def ticket_timer_start(request, pk):
    ticket = _ticket_to_log_on(request, pk)
    try:
        timer_start(user=request.user, ticket=ticket)
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(request, "Timer started. It keeps running when you close this page.")
    return redirect("ticket_detail", pk=ticket.pk)


@login_required
@require_POST
def ticket_timer_stop(request, pk):
    """Stop the timer and open the entry form filled with the time elapsed, rounded up to the minute."""
    ticket = _ticket_to_log_on(request, pk)
    try:
        minutes = timer_stop(user=request.user, ticket=ticket)
    except ValidationError as error:
        show_refusal(request, error)
        return redirect("ticket_detail", pk=ticket.pk)
    duration = format_minutes(minutes)
    messages.info(request, f"Timer stopped after {duration}: describe the work and save the entry.")
    query = urlencode({"duration": duration})
    # No #fragment: browsers skip autofocus on a page opened at one, and the description has it.
    return redirect(f"{reverse('ticket_detail', args=[ticket.pk])}?{query}")


# --- CSV exports ----------------------------------------------------------------------

CSV_HEADER = ["Date", "Agent", "Ticket", "Task", "Description", "Hours", "Billed hours", "Sales Order Item",
              "Invoice"]


def _cell(text: str) -> str:
    """Keep a spreadsheet from reading typed text as a formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def timesheets_csv(entries, filename: str) -> HttpResponse:
    """Return `entries` as a CSV download: ISO dates, decimal hours ("1.50"), UTF-8 for spreadsheets."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # the byte-order mark tells spreadsheets the file is UTF-8
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for entry in entries.order_by("date", "pk"):
        invoice = entry.invoice_line.invoice if entry.invoice_line_id else None
        writer.writerow([
            entry.date.isoformat(),
            _cell(entry.user.get_full_name() or entry.user.username),
            _cell(str(entry.ticket)) if entry.ticket_id else "",
            _cell(entry.task.name) if entry.task_id else "",
            _cell(entry.description),
            minutes_to_qty(entry.minutes, HOUR),
            minutes_to_qty(entry.billable_minutes, HOUR),
            _cell(str(entry.sale_line)) if entry.sale_line_id else "",
            str(invoice) if invoice else "",
        ])
    return response


@login_required
def ticket_timesheets_csv(request, pk):
    ticket = get_object_or_404(tickets_for(user=request.user), pk=pk)
    return timesheets_csv(time_entries_for(user=request.user).filter(ticket=ticket),
                          f"ticket-{ticket.pk}-timesheets.csv")


@login_required
def task_timesheets_csv(request, pk):
    task = get_object_or_404(tasks_for(user=request.user), pk=pk)
    return timesheets_csv(time_entries_for(user=request.user).filter(task=task), f"task-{task.pk}-timesheets.csv")


@login_required
def line_timesheets_csv(request, pk):
    lines = SaleOrderLine.objects.filter(order__in=sale_orders_for(user=request.user).values("pk"))
    line = get_object_or_404(lines.select_related("order"), pk=pk)
    return timesheets_csv(time_entries_for(user=request.user).filter(sale_line=line),
                          f"{line.order.name}-line-{line.pk}-timesheets.csv")
