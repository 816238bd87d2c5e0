"""The three roles, as Django groups created by a migration (invoicing 0003_roles).

Agents log time and see their teams' tickets; managers configure and see all;
accountants create, post and credit invoices. A superuser is all three.
"""

AGENTS, MANAGERS, ACCOUNTANTS = "Agents", "Managers", "Accountants"


def _groups(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._role_names = cached
    return cached


def is_manager(user) -> bool:
    return user.is_superuser or MANAGERS in _groups(user)


def is_accountant(user) -> bool:
    return user.is_superuser or ACCOUNTANTS in _groups(user)


def is_agent(user) -> bool:
    return user.is_superuser or AGENTS in _groups(user)


def can_invoice(user) -> bool:
    """Create, post, cancel and credit invoices: accountants and managers."""
    return is_accountant(user) or is_manager(user)


def sees_everything(user) -> bool:
    """Managers and accountants see every team's tickets and time; agents their teams' only."""
    return is_manager(user) or is_accountant(user)
