"""Helpdesk teams, and tickets with their Timesheets."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext as _

from core.admin import ServiceAdmin
from core.roles import AGENTS, MANAGERS
from tickets.selectors import teams_for, tickets_for
from tickets.services import team_save, ticket_set_customer

from .people import PeopleSearch
from .timesheets import TicketTimesheetInline


def teammates(*, user):
    """Return the members of the teams `user` sees: whom an agent may assign a ticket to."""
    return get_user_model().objects.filter(helpdesk_teams__in=teams_for(user=user).values("pk"))


def member_choices():
    """Who may be a team's member: the active agents and managers."""
    groups = Group.objects.filter(name__in=[AGENTS, MANAGERS]).values("user")
    return get_user_model().objects.filter(is_active=True, pk__in=groups).order_by("username", "pk")


class HelpdeskTeamAdmin(PeopleSearch, ServiceAdmin):
    scope = staticmethod(teams_for)
    list_display = ("name", "timesheet_on_ticket", "project", "time_reinvoicing", "invoiced_timesheets",
                    "default_work_type", "timesheets_lock_date")
    list_filter = ("timesheet_on_ticket", "time_reinvoicing", "invoiced_timesheets")
    list_select_related = ("project", "default_work_type")
    search_fields = ("name",)
    fields = ("name", "timesheet_on_ticket", "project", "time_reinvoicing", "invoiced_timesheets",
              "default_work_type", "timesheets_lock_date", "portal_tickets", "hold_disputed", "members")
    autocomplete_fields = ("project",)
    people_fields = ("members",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name != "members":
            return super().formfield_for_manytomany(db_field, request, **kwargs)
        kwargs["queryset"] = member_choices()
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        # The admin's "Hold down Control…" is for a plain multiple select: this one searches as one types.
        field.help_text = _("The agents and managers of the team: type a name to add one.")
        return field

    def save_model(self, request, obj, form, change):
        team_save(team=obj, actor=request.user)


class TicketAdmin(PeopleSearch, ServiceAdmin):
    scope = staticmethod(tickets_for)
    field_scopes = {"assignee": teammates}
    list_display = ("id", "title", "team", "customer", "status", "assignee", "sale_line", "created_at")
    list_display_links = ("id", "title")
    list_filter = ("team", "status", ("customer", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("team", "customer", "assignee", "sale_line__order", "sale_line__product")
    search_fields = ("=id", "title", "description", "customer__name")
    fields = ("team", "customer", "title", "description", "status", "assignee", "task", "sale_line", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("customer", "task", "sale_line")
    people_fields = ("assignee",)
    inlines = [TicketTimesheetInline]

    def get_readonly_fields(self, request, obj=None):
        fixed = obj is not None and not request.user.has_perm("tickets.change_ticket_customer", obj)
        return (*self.readonly_fields, "customer") if fixed else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # The form ran Ticket.clean and the one-ticket-per-task check. A new customer goes
        # through its service (its time moves, or it is refused, and the log says so); then
        # a plain save: the timesheets receiver moves the ticket's unbilled entries when its
        # task or Sales Order Item changed, the same as ticket_link_task / ticket_set_sale_line.
        if change and "customer" in form.changed_data:
            ticket_set_customer(ticket=obj, customer=obj.customer, sale_line=obj.sale_line, actor=request.user)
        obj.save()
