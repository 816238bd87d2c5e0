"""Projects, and tasks with their Timesheets."""

from core.admin import ServiceAdmin
from projects.selectors import projects_for, tasks_for
from projects.services import project_save

from .timesheets import TaskTimesheetInline


class ProjectAdmin(ServiceAdmin):
    scope = staticmethod(projects_for)
    list_display = ("name", "customer", "billable", "sale_line")
    list_filter = ("billable",)
    list_select_related = ("customer", "sale_line__order", "sale_line__product")
    search_fields = ("name", "customer__name")
    fields = ("name", "customer", "billable", "sale_line")
    autocomplete_fields = ("customer", "sale_line")

    def save_model(self, request, obj, form, change):
        project_save(project=obj)


class TaskAdmin(ServiceAdmin):
    scope = staticmethod(tasks_for)
    list_display = ("name", "project", "customer", "sale_line", "ticket")
    list_filter = ("project",)
    list_select_related = ("project", "customer", "sale_line__order", "sale_line__product", "ticket")
    search_fields = ("name", "project__name")
    fields = ("project", "name", "customer", "sale_line")
    autocomplete_fields = ("project", "customer", "sale_line")
    inlines = [TaskTimesheetInline]

    def save_model(self, request, obj, form, change):
        # The form ran Task.clean. A plain save: the timesheets receiver moves the
        # task's unbilled entries when its Sales Order Item or project changed,
        # as `task_set_sale_line` would.
        obj.save()
