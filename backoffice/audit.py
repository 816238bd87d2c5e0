"""The audit log and the failed logins, read-only: events are appended by the services, never edited."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin


class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_name", "action", "object_type", "object_id", "object_repr", "what")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "object_repr", "=object_id")
    date_hierarchy = "at"
    fields = ("at", "actor", "actor_name", "action", "object_type", "object_id", "object_repr", "what", "changes")
    readonly_fields = fields

    @admin.display(description=_("what"))
    def what(self, event):
        """The event as the Histories say it (amounts without their currency, timesheets counted)."""
        return event.sentence


class LoginFailureAdmin(ReadOnlyAdmin):
    list_display = ("at", "username", "ip")
    search_fields = ("username", "ip")
    fields = ("at", "username", "ip")
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        # Deleting a pair's failures lifts its lockout: superusers only.
        return request.user.is_superuser
