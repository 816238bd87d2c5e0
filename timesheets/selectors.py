from django.db.models import Q, QuerySet

from helpdesk_billing.roles import is_manager, sees_everything

from .models import TimeEntry


def time_entries_for(*, user) -> QuerySet[TimeEntry]:
    """Return the entries `user` may see: all for managers and accountants; for agents, their own
    and those on their teams' tickets."""
    entries = TimeEntry.objects.select_related(
        "user", "ticket", "task", "project", "sale_line__order", "sale_line__product", "invoice_line__invoice")
    if sees_everything(user):
        return entries
    if not user.is_authenticated:
        return entries.none()
    return entries.filter(Q(user=user) | Q(ticket__team__in=user.helpdesk_teams.all()))


def can_edit_entry(*, user, entry: TimeEntry) -> bool:
    """Agents edit their own time; managers anyone's. Invoiced time is refused by the services."""
    return is_manager(user) or entry.user_id == user.pk
