"""The audit log in the admin, read-only: events are appended by the services, never edited."""

from django.contrib import admin

from .models import AuditEvent, LoginFailure


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin that only shows: documents and logs are never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_name", "action", "object_type", "object_id", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "object_repr", "=object_id")
    date_hierarchy = "at"
    fields = ("at", "actor", "actor_name", "action", "object_type", "object_id", "object_repr", "changes")
    readonly_fields = fields


@admin.register(LoginFailure)
class LoginFailureAdmin(ReadOnlyAdmin):
    list_display = ("at", "username", "ip")
    search_fields = ("username", "ip")
    fields = ("at", "username", "ip")
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        # Deleting a pair's failures lifts its lockout: superusers only.
        return request.user.is_superuser
