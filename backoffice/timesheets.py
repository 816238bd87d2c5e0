"""Time entries: their own list, and the Timesheets of tickets and tasks (their inlines).

Every row is written through the services (`timesheet_log`, `timesheet_update`,
`timesheet_delete`), so Delivered and the lock on invoiced time hold here too. As on
the screens, agents see their own time and their teams' tickets' time, log time as
themselves only, and change only their own entries (the rule timesheets.change_timeentry).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import Scoped, ServiceAdmin, in_scope, refused_on, scope_of
from core.errors import error_message
from core.roles import is_manager
from sales.models import SaleOrderLine
from sales.selectors import sale_lines_billable_for
from timesheets.durations import HINT, format_minutes, parse_duration
from timesheets.locks import lock_date_set
from timesheets.models import LockDate, TimeEntry
from timesheets.selectors import time_entries_for
from timesheets.services import INVOICED_MESSAGE, timesheet_delete, timesheet_log, timesheet_update

from .people import PeopleSearch

# What `timesheet_update` can change on an entry.
EDITABLE = ("date", "minutes", "description", "sale_line", "work_type")
NOT_YOURS_MESSAGE = _("You can only change your own time.")


def loggers_for(*, user):
    """Return whom `user` may log time as: anyone for managers, themselves for agents."""
    users = get_user_model().objects.all()
    return users if is_manager(user) else users.filter(pk=user.pk)


class DurationField(forms.CharField):
    """Minutes, typed the way people type durations (1:30, 1.5, 1h30, 90m) and shown as H:MM."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Duration"))
        kwargs.setdefault("help_text", HINT)
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 6}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return format_minutes(value) if isinstance(value, int) else value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, int):
            return value
        return parse_duration(value)


class TimesheetForm(forms.ModelForm):
    minutes = DurationField()

    class Meta:
        model = TimeEntry
        fields = ("date", "user", "description", "minutes", "work_type", "sale_line")
        help_texts = {"sale_line": _("Empty: the line the ticket, task or project bills. A line chosen here stays."),
                      "work_type": _("Empty when logging: the team's default. It decides which line the time bills "
                                     "and whether it charges (Rule 13).")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.refusal = None
        if self.instance.pk is not None and "user" in self.fields:
            self.fields["user"].disabled = True  # an entry stays its agent's

    def lock(self, message=INVOICED_MESSAGE):
        """Make the row read-only (an invoiced entry, a teammate's); a change posted to it is refused with `message`.

        A page opened before the entry was invoiced still sends its fields.
        """
        names = [name for name in (*EDITABLE, "user", DELETION_FIELD_NAME) if name in self.fields]
        if self.is_bound and any(self._posted_change(name) for name in names):
            self.refusal = message
        for name in names:
            self.fields[name].disabled = True

    def _posted_change(self, name) -> bool:
        field, html_name = self.fields[name], self.add_prefix(name)
        if field.disabled or field.widget.value_omitted_from_data(self.data, self.files, html_name):
            return False
        value = field.widget.value_from_datadict(self.data, self.files, html_name)
        return field.has_changed(self.get_initial_for_field(field, name), value)

    def clean(self):
        cleaned_data = super().clean()
        if self.refusal:
            raise ValidationError(self.refusal)
        return cleaned_data

    def service_changes(self) -> dict:
        """Return the changed fields as `timesheet_update` takes them."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name in EDITABLE}

    def service_log(self, *, actor, **parent) -> TimeEntry:
        data = self.cleaned_data
        return timesheet_log(user=data["user"], date=data["date"], minutes=data["minutes"],
                             description=data.get("description") or "", sale_line=data.get("sale_line"),
                             work_type=data.get("work_type"), actor=actor, **parent)


# --- The Timesheets of a ticket or a task ------------------------------------

class TimesheetFormSet(BaseInlineFormSet):
    """Rows saved through the services; a refusal shows on its row (core.admin.ServiceAdmin)."""

    actor = None  # who saves, for the audit log: set per request by TimesheetInline.get_formset

    def add_fields(self, form, index):
        super().add_fields(form, index)
        entry = form.instance
        if entry.pk is not None and entry.is_invoiced:
            form.lock()
        elif entry.pk is not None and not self.actor.has_perm("timesheets.change_timeentry", entry):
            form.lock(NOT_YOURS_MESSAGE)  # a teammate's time: shown, not changed

    def save_new(self, form, commit=True):
        with refused_on(form):
            return form.service_log(actor=self.actor, **{self.fk.name: self.instance})

    def save_existing(self, form, obj, commit=True):
        with refused_on(form):
            return timesheet_update(entry=obj, **form.service_changes(), actor=self.actor)

    def delete_existing(self, obj, commit=True):
        form = next(form for form in self.deleted_forms if form.instance.pk == obj.pk)
        with refused_on(form):
            timesheet_delete(entry=obj, actor=self.actor)


class TimesheetInline(Scoped, admin.TabularInline):
    """The Timesheets of a ticket or a task: the rows the user may see (TimeEntryAdmin's scope)."""

    model = TimeEntry
    form = TimesheetForm
    formset = TimesheetFormSet
    fields = ("date", "user", "description", "minutes", "work_type", "sale_line", "billable", "invoiced")
    readonly_fields = ("billable", "invoiced")
    extra = 1

    def get_queryset(self, request):
        # Each row is titled with its entry (date, agent, duration).
        return super().get_queryset(request).select_related("user")

    def parent_customer(self, parent):
        """Return the customer whose lines the rows of `parent` (a ticket or a task) may bill."""
        raise NotImplementedError

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.actor = request.user  # the class is built for this call
        fields = formset.form.base_fields  # built for this call: safe to adjust
        if "user" in fields:
            fields["user"].initial = request.user.pk
        if "date" in fields:
            fields["date"].initial = timezone.localdate
        rows = self.get_queryset(request).filter(**{self.fk_name: obj}) if obj else TimeEntry.objects.none()
        if "user" in fields and not is_manager(request.user):
            # New rows are the agent's own; the rows shown keep their agents (disabled, still validated).
            fields["user"].queryset = get_user_model().objects.filter(
                Q(pk=request.user.pk) | Q(pk__in=rows.values("user")))
            fields["user"].disabled = True
        if "sale_line" in fields:
            # The lines this customer's time may bill (those of the user's scope), and those the rows are on.
            billable = (sale_lines_billable_for(customer=self.parent_customer(obj)) if obj
                        else SaleOrderLine.objects.none())
            billable = in_scope(billable, scope_of(self.admin_site, SaleOrderLine), request.user)
            fields["sale_line"].queryset = (
                SaleOrderLine.objects.filter(Q(pk__in=billable.values("pk")) | Q(pk__in=rows.values("sale_line")))
                .select_related("order", "product").order_by("order_id", "pk")
            )
        for name in ("user", "sale_line", "work_type"):
            if name in fields:
                # Listed once per page rather than once per row.
                fields[name].choices = list(fields[name].choices)
        return formset

    @admin.display(description=_("Billable"))
    def billable(self, entry):
        return format_minutes(entry.billable_minutes) if entry.pk else "-"

    @admin.display(description=_("Invoiced"), boolean=True)
    def invoiced(self, entry):
        return entry.is_invoiced if entry.pk else None


class TicketTimesheetInline(TimesheetInline):
    fk_name = "ticket"

    def parent_customer(self, ticket):
        return ticket.customer

    def has_add_permission(self, request, obj=None):
        # "Timesheet on Ticket" turns time logging on for the team's tickets.
        return (obj is None or obj.team.timesheet_on_ticket) and super().has_add_permission(request, obj)


class TaskTimesheetInline(TimesheetInline):
    fk_name = "task"

    def parent_customer(self, task):
        return task.billing_customer


# --- All Timesheets ------------------------------------------------------------

class TimeEntryForm(TimesheetForm):
    class Meta(TimesheetForm.Meta):
        fields = ("ticket", "task", "user", "date", "minutes", "description", "work_type", "sale_line")

    def clean(self):
        cleaned_data = super().clean()
        named = "ticket" in self.errors or "task" in self.errors  # given, but not a choice: said already
        if "ticket" in self.fields and "task" in self.fields and not named and not (
            cleaned_data.get("ticket") or cleaned_data.get("task")
        ):
            # On the field, so the model's bare "constraint violated" is not added too.
            self.add_error("ticket", gettext("Log time on a ticket or on a task."))
        return cleaned_data


class InvoicedFilter(admin.SimpleListFilter):
    title = _("invoiced")
    parameter_name = "invoiced"

    def lookups(self, request, model_admin):
        return [("yes", _("Invoiced")), ("no", _("Not invoiced"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(invoice_line__isnull=self.value() == "no")
        return queryset


class TimeEntryAdmin(PeopleSearch, ServiceAdmin):
    scope = staticmethod(time_entries_for)
    field_scopes = {"user": loggers_for}
    form = TimeEntryForm
    list_display = ("date", "user", "ticket", "task", "duration", "work_type", "sale_line", "approval", "written_off",
                    "invoiced")
    list_filter = (InvoicedFilter, "approval", "written_off", "work_type", "date", "user", "project", "ticket__team",
                   "sale_line_manual")
    list_select_related = ("user", "ticket", "task", "work_type", "sale_line__order", "sale_line__product")
    search_fields = ("description", "ticket__title", "task__name", "user__username")
    date_hierarchy = "date"
    autocomplete_fields = ("ticket", "task", "sale_line")
    people_fields = ("user",)

    ADD_FIELDS = ("ticket", "task", "user", "date", "minutes", "description", "work_type", "sale_line")
    SHOWN = ("ticket", "task", "project", "user", "date", "minutes", "description", "work_type", "sale_line",
             "sale_line_manual", "billable", "approval", "approval_note", "written_off", "write_off_reason", "invoice")

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.ADD_FIELDS
        if obj.is_invoiced:
            return tuple("duration" if name == "minutes" else name for name in self.SHOWN)
        return self.SHOWN

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.is_invoiced:
            return self.get_fields(request, obj)
        return ("ticket", "task", "project", "user", "sale_line_manual", "billable", "approval", "approval_note",
                "written_off", "write_off_reason", "invoice")

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk, "date": timezone.localdate(), **super().get_changeform_initial_data(request)}

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        # A bulk delete would bypass `timesheet_delete`: entries are deleted one by one.
        actions.pop("delete_selected", None)
        return actions

    def _may_change(self, request, obj) -> bool:
        return obj is None or (not obj.is_invoiced and request.user.has_perm("timesheets.change_timeentry", obj))

    def has_change_permission(self, request, obj=None):
        # A teammate's entry is shown read-only, as on the screens.
        return self._may_change(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_change(request, obj) and super().has_delete_permission(request, obj)

    def _refuse_invoiced(self, request, object_id):
        """Return a redirect to the entry with the lock's message when it is invoiced, else None."""
        entry = self.get_object(request, unquote(object_id)) if object_id else None
        if entry is None or not entry.is_invoiced:
            return None
        self.message_user(request, INVOICED_MESSAGE, messages.ERROR)
        return HttpResponseRedirect(reverse("admin:timesheets_timeentry_change", args=[entry.pk]))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and (refused := self._refuse_invoiced(request, object_id)):
            return refused
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if refused := self._refuse_invoiced(request, object_id):
            return refused
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:  # invoiced meanwhile
            self.message_user(request, error_message(error), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:timesheets_timeentry_change", args=[unquote(object_id)]))

    def save_model(self, request, obj, form, change):
        if change:
            changes = form.service_changes()
            entry = timesheet_update(entry=obj, **changes, actor=request.user) if changes else obj
        else:
            data = form.cleaned_data
            entry = form.service_log(ticket=data.get("ticket"), task=data.get("task"), actor=request.user)
        obj.pk = entry.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def delete_model(self, request, obj):
        timesheet_delete(entry=obj, actor=request.user)

    @admin.display(description=_("Duration"), ordering="minutes")
    def duration(self, entry):
        return entry.duration

    @admin.display(description=_("Billable"))
    def billable(self, entry):
        return format_minutes(entry.billable_minutes)

    @admin.display(description=_("Invoiced"), boolean=True, ordering="invoice_line")
    def invoiced(self, entry):
        return entry.is_invoiced

    @admin.display(description=_("invoice"))
    def invoice(self, entry):
        return entry.invoice_line.invoice if entry.invoice_line_id else "-"


class LockDateAdmin(ServiceAdmin):
    """The global Timesheets lock date and the agents' grace window: one row, managers change it."""

    list_display = ("__str__", "agent_grace_days", "updated_at")
    fields = ("lock_date", "agent_grace_days")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not LockDate.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False  # an empty lock date unlocks: the row stays, and so does its history

    def save_model(self, request, obj, form, change):
        lock_date_set(lock_date=obj.lock_date, agent_grace_days=obj.agent_grace_days, actor=request.user)
