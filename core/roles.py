"""The three roles, and the customers' contacts: the groups, their model permissions, and the predicates that name them.

Agents log time and see their teams' tickets; managers configure and see all; accountants
create, post and credit invoices. A superuser is all three. The groups and their permissions
are defined here and applied by a migration (invoicing 0003), and again by `sync_groups`
wherever they must be put back (a test that flushed the database).
"""

import rules
from django.apps import apps as django_apps
from django.contrib.auth.management import create_permissions
from django.db.models import QuerySet, StringAgg, Value

AGENTS, MANAGERS, ACCOUNTANTS = "Agents", "Managers", "Accountants"
# Customers' contacts (issue 18): users of the customer portal, never of the internal screens, admin or API.
CONTACTS = "Customer contacts"

ALL = ("add", "change", "delete", "view")

# {group: {app label: {model: [actions]}}}: the model permissions the admin asks for.
GROUPS = {
    AGENTS: {
        "sales": {"customer": ["view"], "product": ["view"], "saleorder": ["view"], "saleorderline": ["view"],
                  "worktype": ["view"]},
        "projects": {"project": ["view"], "task": ["view", "change"]},
        "tickets": {"helpdeskteam": ["view"], "ticket": ["view", "add", "change"]},
        "timesheets": {"timeentry": list(ALL)},
        "invoicing": {"invoice": ["view"]},
    },
    MANAGERS: {
        "audit": {"auditevent": ["view"]},
        "sales": {**{m: list(ALL) for m in ("customer", "tax", "product", "saleorder", "saleorderline", "worktype",
                                            "agentrate", "worktyperate")}, "company": ["view", "change"],
                  "contact": ["view"]},
        "projects": {m: list(ALL) for m in ("project", "task")},
        "tickets": {**{m: list(ALL) for m in ("helpdeskteam", "ticket")}, "ticketmessage": ["view"]},
        "timesheets": {"timeentry": list(ALL), "lockdate": ["view", "add", "change"], "customerreview": ["view"]},
        "invoicing": {"invoice": ["view", "add", "change"], "invoiceline": ["view"], "ticketcharge": ["view"],
                      "payment": ["view"], "reminder": ["view"]},
        "reports": {"alert": ["view"]},
    },
    ACCOUNTANTS: {
        "audit": {"auditevent": ["view"]},
        "sales": {"customer": ["view", "add", "change"], "tax": ["view"], "product": ["view"],
                  "saleorder": ["view", "add", "change"], "saleorderline": ["view", "add", "change", "delete"],
                  "worktype": ["view"], "agentrate": list(ALL), "worktyperate": list(ALL), "company": ["view"],
                  "contact": ["view"]},
        "projects": {"project": ["view"], "task": ["view"]},
        "tickets": {"helpdeskteam": ["view"], "ticket": ["view"], "ticketmessage": ["view"]},
        "timesheets": {"timeentry": ["view"], "lockdate": ["view"], "customerreview": ["view"]},
        "invoicing": {"invoice": ["view", "add", "change"], "invoiceline": ["view"], "ticketcharge": ["view"],
                      "payment": ["view", "add"], "reminder": ["view"]},
        "reports": {"alert": ["view"]},
    },
    # No model permission: the portal's views and selectors show a contact their customer's rows only.
    CONTACTS: {},
}


def _exists(apps, app: str, model: str) -> bool:
    try:
        apps.get_model(app, model)
    except LookupError:
        return False
    return True


def sync_groups(apps=django_apps) -> None:
    """Create the three groups, or put them back, with exactly the permissions of GROUPS.

    `apps` is a migration's historical registry, or the project's.
    """
    # Permissions are normally created after all migrations; the groups need them now.
    for config in apps.get_app_configs():
        models_module = getattr(config, "models_module", None)
        config.models_module = models_module or True  # a migration's apps have none: create them all the same
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        # A model a later migration adds (an early migration runs this with the registry of its time)
        # is granted by the migration that follows it.
        wanted = [(app, f"{action}_{model}") for app, models in grants.items()
                  for model, actions in models.items() if _exists(apps, app, model) for action in actions]
        group.permissions.set([Permission.objects.get(content_type__app_label=app, codename=codename)
                               for app, codename in wanted])


# Between the group names a query reads with the user (`with_role_names`); no group name holds a line break.
_SEPARATOR = "\n"


def with_role_names(users: QuerySet, path: str = "") -> QuerySet:
    """`users` (or rows reaching a user by `path`, e.g. "user__") with their group names as `role_names`, in the
    same query: authenticating then reads the roles every permission asks with the user, not in a query of its own."""
    return users.annotate(role_names=StringAgg(f"{path}groups__name", Value(_SEPARATOR), default=Value("")))


def remember_roles(user, names: str) -> None:
    """Keep the group names read by `with_role_names` on the user, where `_groups` looks first."""
    user._role_names = set(filter(None, names.split(_SEPARATOR)))


def _groups(user) -> set[str]:
    """The names of the user's groups, read once per user object."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._role_names = cached
    return cached


@rules.predicate
def is_superuser(user) -> bool:
    return user.is_authenticated and user.is_superuser


@rules.predicate
def _in_agents(user) -> bool:
    return AGENTS in _groups(user)


@rules.predicate
def _in_managers(user) -> bool:
    return MANAGERS in _groups(user)


@rules.predicate
def _in_accountants(user) -> bool:
    return ACCOUNTANTS in _groups(user)


@rules.predicate
def is_contact(user) -> bool:
    """A customer's contact: the portal is theirs, nothing internal (core.boundary)."""
    return CONTACTS in _groups(user)


is_agent = is_superuser | _in_agents
is_manager = is_superuser | _in_managers
is_accountant = is_superuser | _in_accountants
# Managers and accountants see every team's tickets and time; agents their teams' only.
sees_everything = is_manager | is_accountant
# Anyone with a role: what every screen and the API's reads ask.
has_role = is_agent | is_manager | is_accountant
