"""Managers set the Timesheets lock date; accountants read it (core.roles.GROUPS)."""

from django.db import migrations

from core.roles import sync_groups


def update_roles(apps, schema_editor):
    sync_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0004_billing_runs"),
        ("timesheets", "0005_approval"),
    ]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
