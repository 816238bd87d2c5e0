"""What every page rendered with a request knows: the top bar of the user's role.

A context processor, not a view's context, so that Django's own 403 and 404 pages, and any view
that renders a template, show the same top bar as every screen.
"""

from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from core.roles import is_accountant, is_agent, is_manager


def nav(user) -> dict:
    """Return what the top bar offers the user's role."""
    if is_manager(user):
        role = _("Manager")
    elif is_accountant(user):
        role = _("Accountant")
    elif is_agent(user):
        role = _("Agent")
    else:
        role = ""
    return {"role": role, "orders": user.has_perm("sales.sell"), "invoices": user.has_perm("invoicing.bill"),
            "approve": user.has_perm("timesheets.approve"), "receivables": user.has_perm("invoicing.see_receivables"),
            "admin": is_manager(user) and user.is_staff}


def top_bar(request) -> dict:
    """Return `nav` for the top bar, worked out only when a page shows it (the admin's do not)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    return {"nav": SimpleLazyObject(lambda: nav(user))}
