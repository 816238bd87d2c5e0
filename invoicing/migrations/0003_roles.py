"""Create the groups Agents, Managers and Accountants with their model permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL = ("add", "change", "delete", "view")

ROLES = {
    "Agents": {
        "sales": {"customer": ["view"], "product": ["view"], "saleorder": ["view"], "saleorderline": ["view"]},
        "projects": {"project": ["view"], "task": ["view", "change"]},
        "tickets": {"helpdeskteam": ["view"], "ticket": ["view", "add", "change"]},
        "timesheets": {"timeentry": list(ALL)},
        "invoicing": {"invoice": ["view"]},
    },
    "Managers": {
        "sales": {m: list(ALL) for m in ("customer", "tax", "product", "saleorder", "saleorderline")},
        "projects": {m: list(ALL) for m in ("project", "task")},
        "tickets": {m: list(ALL) for m in ("helpdeskteam", "ticket")},
        "timesheets": {"timeentry": list(ALL)},
        "invoicing": {"invoice": ["view", "add", "change"], "invoiceline": ["view"]},
    },
    "Accountants": {
        "sales": {"customer": ["view", "add", "change"], "tax": ["view"], "product": ["view"],
                  "saleorder": ["view", "add", "change"], "saleorderline": ["view", "add", "change", "delete"]},
        "projects": {"project": ["view"], "task": ["view"]},
        "tickets": {"helpdeskteam": ["view"], "ticket": ["view"]},
        "timesheets": {"timeentry": ["view"]},
        "invoicing": {"invoice": ["view", "add", "change"], "invoiceline": ["view"]},
    },
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        codenames = [
            (app, f"{action}_{model}")
            for app, models in grants.items()
            for model, actions in models.items()
            for action in actions
        ]
        perms = [Permission.objects.get(content_type__app_label=app, codename=code) for app, code in codenames]
        group.permissions.set(perms)


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0002_initial"),
        ("timesheets", "0001_initial"),
        ("tickets", "0001_initial"),
        ("projects", "0001_initial"),
        ("sales", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, drop_roles)]
