"""Who may call what: every role reads, the rules of core.permissions decide who writes.

Each permission asks `user.has_perm(...)` of the same rule the screens and the admin ask; which
rows a user sees is the selectors' job (the viewsets' querysets), so a row out of sight is a 404.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.roles import has_role


class RolePermission(BasePermission):
    """Every role reads; writes (any unsafe method) need the rule `perm` (core.permissions)."""

    message = _("Your account has no role: ask a manager to add you to Agents, Managers or Accountants.")
    write_message = _("Your role does not allow this.")
    perm = None

    def has_permission(self, request, view):
        if not has_role(request.user):
            return False
        if request.method in SAFE_METHODS or request.user.has_perm(self.perm):
            return True
        self.message = self.write_message
        return False


def writers(perm: str, message) -> type[RolePermission]:
    """Return a permission: every role reads, users with the rule `perm` write."""
    return type("WritersPermission", (RolePermission,), {"perm": perm, "write_message": message})


def needs(perm: str, message) -> type[BasePermission]:
    """Return a permission: users with the rule `perm`, for every method (a report anyone with it reads)."""
    return type("RulePermission", (BasePermission,), {
        "message": message, "has_permission": lambda self, request, view: request.user.has_perm(perm)})


ManagersWrite = writers("core.configure", _("Only managers change the configuration."))
TicketsWrite = writers("tickets.work_ticket", _("Only agents and managers change tickets."))
TimesheetsWrite = writers("timesheets.log_time", _("Only agents and managers log time."))
SalesWrite = writers("sales.sell", _("Only accountants and managers change sales orders."))
InvoicersWrite = writers("invoicing.bill", _("Only accountants and managers create, post, cancel and credit invoices."))


class InvoicesOnly(BasePermission):
    """Invoices, read or written, are for those who bill."""

    message = _("Only accountants and managers see and change invoices.")

    def has_permission(self, request, view):
        return request.user.has_perm("invoicing.bill")
