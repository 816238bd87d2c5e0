"""The Timesheets tab the ticket and task pages share, and the Timesheets as a CSV download.

Both pages build their tab with `timesheets_tab`, render it with web/timesheets/_timesheets_tab.html
and post to themselves, so a refused entry comes back on the same page with what was typed.
"""

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import Conflict
from core.l10n import day
from sales.models import WorkType
from sales.units import HOUR, format_minutes, minutes_to_qty
from tickets.models import Ticket
from timesheets.approval import timesheet_reinstate
from timesheets.services import timesheet_delete, timesheet_log, timesheet_update

from ..forms.timesheets import TimeEntryForm
from .base import act, add_service_error, record_id, refuse_unless, show_refusal

# The services name the duration "minutes"; the form calls it "duration".
RENAME = {"minutes": "duration"}
LOGGERS_ONLY = gettext_lazy("Only agents and managers log time.")
# What the empty Work type means: when logging, the service takes the team's default (Rule 13); when
# editing, or on a task without a ticket (no team), it is no work type, which bills.
TEAM_DEFAULT, NO_WORK_TYPE = gettext_lazy("Team default"), gettext_lazy("No work type (billable)")


def _entry_id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("No such time entry.") from None


def _back(request):
    return redirect(f"{request.path}#timesheets")


# --- The Timesheets tab -------------------------------------------------------------

class _Forms:
    """The tab's two forms with their Work type choices, read once per request (none for those who cannot log)."""

    def __init__(self, request, *, ticket, task):
        self.work_types = list(WorkType.objects.all()) if request.user.has_perm("timesheets.log_time") else []
        linked = ticket if ticket is not None else getattr(task, "ticket", None)
        self.default = linked.team.default_work_type_id if linked is not None else None
        self.empty_label = TEAM_DEFAULT if linked is not None else NO_WORK_TYPE

    def log(self, data=None, initial=None) -> TimeEntryForm:
        initial = {"work_type": str(self.default) if self.default else "", **(initial or {})}
        return TimeEntryForm(data, prefix="log", initial=initial, work_types=self.work_types,
                             empty_label=self.empty_label)

    def edit(self, data=None, initial=None) -> TimeEntryForm:
        return TimeEntryForm(data, prefix="edit", initial=initial, work_types=self.work_types,
                             empty_label=NO_WORK_TYPE)


def log_on_ticket(request, *, tickets, pk) -> tuple[HttpResponse | None, ValidationError | None]:
    """The ticket page's Log time, posted, before the page reads anything: logging reads the ticket itself,
    among `tickets`, under its lock, so the ticket page's own read is left to a refusal.

    Returns (the redirect once logged, None), else (None, the service's refusal, for `timesheets_tab`);
    (None, None) when the form itself is refused (the tab checks it again, with every work type to show).
    """
    refuse_unless(request.user.has_perm("timesheets.log_time"), LOGGERS_ONLY)
    # The work type chosen, by reference: the service reads it under its lock (with the ticket, when it is the
    # team's default, as the form offers it first); an unknown one is its refusal.
    chosen = record_id(request.POST.get("log-work_type"))
    form = TimeEntryForm(request.POST, prefix="log", work_types=[WorkType(pk=chosen)] if chosen else ())
    if not form.is_valid():
        return None, None
    try:
        entry = _logged(request, form.cleaned_data, ticket=Ticket(pk=pk), task=None, tickets=tickets)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket.") from None
    except ValidationError as error:
        return None, error
    messages.success(request, _logged_message(entry))
    return _back(request), None


def timesheets_tab(request, *, entries, ticket=None, task=None, refused: ValidationError | None = None):
    """Handle the tab's POST (log, edit, delete) and return its context, or a redirect once done.

    `entries` are the rows the page shows; an edited or deleted entry must be one of them. `refused`: the
    service refused the Log time form already (`log_on_ticket`): shown on it, not tried again.
    """
    user = request.user
    forms = _Forms(request, ticket=ticket, task=task)
    log_form = forms.log(initial={"duration": request.GET.get("duration", "")})
    if request.GET.get("duration"):  # the timer was stopped: what is left to type is the description
        log_form.fields["description"].widget.attrs["autofocus"] = True
    edit_form = edit_id = None

    if request.method == "POST":
        action = request.POST.get("action")
        if action == "log":
            refuse_unless(user.has_perm("timesheets.log_time"), LOGGERS_ONLY)
            log_form = forms.log(request.POST)
            if _log(request, log_form, ticket=ticket, task=task, refused=refused):
                return _back(request)
        elif action in ("edit", "delete"):
            entry = get_object_or_404(entries, pk=_entry_id(request.POST.get("entry")))
            refuse_unless(user.has_perm("timesheets.change_timeentry", entry), _("You can only change your own time."))
            if action == "delete":
                act(request, lambda: timesheet_delete(entry=entry, actor=user),
                    _("Deleted {duration} of {date}.").format(duration=entry.duration, date=day(entry.date)))
                return _back(request)
            edit_form, edit_id = forms.edit(request.POST), entry.pk
            if _update(request, edit_form, entry):
                return _back(request)
        elif action == "reinstate":
            _reinstate(request, entries)
            return _back(request)
        else:
            messages.error(request, _("Unknown action."))
            return redirect(request.path)
    return _tab(request, entries, forms, log_form=log_form, edit_form=edit_form, edit_id=edit_id)


def _reinstate(request, entries) -> None:
    """A manager bills a written-off entry again (Rule 15): it is to invoice with its line."""
    entry = get_object_or_404(entries, pk=_entry_id(request.POST.get("entry")))
    refuse_unless(request.user.has_perm("timesheets.reinstate", entry),
                  _("Only managers reinstate written-off time."))
    act(request, lambda: timesheet_reinstate(entry=entry, actor=request.user),
        _("Reinstated {duration} of {date}: it is to invoice again.").format(duration=entry.duration,
                                                                             date=day(entry.date)))


def _log(request, form: TimeEntryForm, *, ticket, task, refused=None) -> bool:
    """Log the entry `form` holds; return whether it was logged, else the refusal is on the form
    (`refused`, when the service refused it already: put on the form, not tried again)."""
    if not form.is_valid():
        return False
    if refused is not None:
        add_service_error(form, refused, RENAME)
        return False
    try:
        entry = _logged(request, form.cleaned_data, ticket=ticket, task=None if ticket is not None else task)
    except ValidationError as error:
        add_service_error(form, error, RENAME)
        return False
    messages.success(request, _logged_message(entry))
    return True


def _logged_message(entry) -> str:
    return _("Logged {duration} on {date}.").format(duration=entry.duration, date=day(entry.date))


def _logged(request, data: dict, *, ticket, task, tickets=None):
    return timesheet_log(user=request.user, date=data["date"], minutes=data["duration"],
                         description=data["description"], ticket=ticket, task=task, work_type=data["work_type"],
                         actor=request.user, tickets=tickets)


def _update(request, form: TimeEntryForm, entry) -> bool:
    """Save `form` onto `entry`; return whether that is done (saved, or refused as invoiced meanwhile).

    Otherwise the refusal is on the form, shown again with what was typed.
    """
    if not form.is_valid():
        return False
    data = form.cleaned_data
    # The work type only when it changes: an unchanged one leaves the entry's line where it is.
    changed = {"work_type": data["work_type"]} if getattr(data["work_type"], "pk", None) != entry.work_type_id else {}
    try:
        entry = timesheet_update(entry=entry, date=data["date"], minutes=data["duration"],
                                 description=data["description"], actor=request.user, **changed)
    except Conflict as error:  # invoiced meanwhile: nothing changes, and there is nothing to correct
        show_refusal(request, error)
        return True
    except ValidationError as error:
        add_service_error(form, error, RENAME)
        return False
    messages.success(request, _("Saved {duration} of {date}.").format(duration=entry.duration, date=day(entry.date)))
    return True


def _tab(request, entries, forms: _Forms, *, log_form, edit_form, edit_id) -> dict:
    """Return the tab's context: its rows, each marked editable or not, and the forms."""
    user = request.user
    # Who rejected it, beside the reason; the customer's review (issue 18) and who said it.
    rows = list(entries.select_related("reviewed_by", "work_type", "review__contact", "review__resolved_by"))
    approved_too = user.has_perm("timesheets.change_approved_time")
    for entry in rows:
        # The services refuse invoiced time, and an agent's change of approved time; the page offers neither.
        entry.editable = (not entry.is_invoiced and (approved_too or not entry.is_approved)
                          and user.has_perm("timesheets.change_timeentry", entry))
    if edit_form is None and (edit := record_id(request.GET.get("edit"))) is not None:
        editing = next((e for e in rows if e.pk == edit and e.editable), None)
        if editing is not None:
            edit_id = editing.pk
            edit_form = forms.edit(initial={
                "date": editing.date, "duration": editing.duration, "description": editing.description,
                "work_type": str(editing.work_type_id or "")})
    return {
        "entries": rows,
        "total_minutes": sum(entry.minutes for entry in rows),
        "log_form": log_form,
        "edit_form": edit_form,
        "edit_id": edit_id,
        "can_log": user.has_perm("timesheets.log_time"),
        "can_reinstate": user.has_perm("timesheets.reinstate"),
        "can_resolve": user.has_perm("timesheets.resolve_dispute"),
    }


# --- CSV exports ----------------------------------------------------------------------

# Durations twice (README, Formats): as the screens show them, and as decimal hours that a spreadsheet sums.
CSV_HEADER = ["Date", "Agent", "Ticket", "Task", "Description", "Duration (H:MM)", "Hours (decimal)",
              "Billed hours (decimal)", "Sales Order Item", "Invoice", "Approval", "No charge", "Work type"]


def _cell(text: str) -> str:
    """Keep a spreadsheet from reading typed text as a formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def timesheets_csv(entries, filename: str) -> HttpResponse:
    """Return `entries` as a CSV download: ISO dates, durations as H:MM ("1:30") and as decimal hours ("1.50"),
    UTF-8 for spreadsheets; in English whatever the reader's language, as its headers (machine-read)."""
    with translation.override("en"):
        return _csv(entries, filename)


def _csv(entries, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # the byte-order mark tells spreadsheets the file is UTF-8
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for entry in entries.select_related("work_type").order_by("date", "pk"):
        invoice = entry.invoice_line.invoice if entry.invoice_line_id else None
        writer.writerow([
            entry.date.isoformat(),
            _cell(entry.user.get_full_name() or entry.user.username),
            _cell(str(entry.ticket)) if entry.ticket_id else "",
            _cell(entry.task.name) if entry.task_id else "",
            _cell(entry.description),
            format_minutes(entry.minutes),
            minutes_to_qty(entry.minutes, HOUR),
            minutes_to_qty(entry.billable_minutes, HOUR),
            _cell(str(entry.sale_line)) if entry.sale_line_id else "",
            str(invoice) if invoice else "",
            entry.get_approval_display(),
            _cell(entry.write_off_reason or "No charge") if entry.written_off else "",  # written off: why
            _cell(entry.work_type.name) if entry.work_type_id else "",
        ])
    return response
