"""Helpdesk teams, and tickets with their Timesheets."""

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import JsonResponse
from django.urls import path, reverse

from core.admin import ServiceAdmin
from core.limits import SEARCH_LENGTH
from core.roles import AGENTS, MANAGERS
from tickets.selectors import teams_for, tickets_for
from tickets.services import team_save, ticket_set_customer

from .timesheets import TicketTimesheetInline


def teammates(*, user):
    """Return the members of the teams `user` sees: whom an agent may assign a ticket to."""
    return get_user_model().objects.filter(helpdesk_teams__in=teams_for(user=user).values("pk"))


def member_choices():
    """Who may be a team's member: the active agents and managers."""
    groups = Group.objects.filter(name__in=[AGENTS, MANAGERS]).values("user")
    return get_user_model().objects.filter(is_active=True, pk__in=groups).order_by("username", "pk")


class MembersSelect(AutocompleteSelectMultiple):
    """The admin's autocomplete for Members, asking the team admin's own search (`members_view`) rather than the
    users' admin: whoever edits a team picks among the agents and managers, without the right to see the users."""

    def get_url(self):
        return reverse("admin:tickets_helpdeskteam_members")


MEMBERS_PER_PAGE = 20


class HelpdeskTeamAdmin(ServiceAdmin):
    scope = staticmethod(teams_for)
    list_display = ("name", "timesheet_on_ticket", "project", "time_reinvoicing", "invoiced_timesheets",
                    "default_work_type", "timesheets_lock_date")
    list_filter = ("timesheet_on_ticket", "time_reinvoicing", "invoiced_timesheets")
    list_select_related = ("project", "default_work_type")
    search_fields = ("name",)
    fields = ("name", "timesheet_on_ticket", "project", "time_reinvoicing", "invoiced_timesheets",
              "default_work_type", "timesheets_lock_date", "members")
    autocomplete_fields = ("project",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "members":
            # Every agent and manager is a choice; the page holds the members only (the list grows with the staff).
            kwargs.update(queryset=member_choices(), widget=MembersSelect(db_field, self.admin_site))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_urls(self):
        members = path("members/", self.admin_site.admin_view(self.members_view), name="tickets_helpdeskteam_members")
        return [members, *super().get_urls()]

    def members_view(self, request):
        """The search behind Members, answered as the admin's autocomplete answers: a page of the agents and
        managers whose username or name holds `term`, to those who may add or change a team (403 otherwise)."""
        if not (self.has_change_permission(request) or self.has_add_permission(request)):
            raise PermissionDenied
        term = request.GET.get("term", "").replace("\x00", "")[:SEARCH_LENGTH].strip()
        people = member_choices()
        if term:
            people = people.filter(Q(username__icontains=term) | Q(first_name__icontains=term)
                                   | Q(last_name__icontains=term))
        page = Paginator(people, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
        return JsonResponse({"results": [{"id": str(user.pk), "text": str(user)} for user in page],
                             "pagination": {"more": page.has_next()}})

    def save_model(self, request, obj, form, change):
        team_save(team=obj, actor=request.user)


class TicketAdmin(ServiceAdmin):
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
