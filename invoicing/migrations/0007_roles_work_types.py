"""Managers define work types; managers and accountants set an order's rates (core.roles.GROUPS)."""

from django.db import migrations

from core.roles import sync_groups


def update_roles(apps, schema_editor):
    sync_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0006_explained_lines"),
        ("sales", "0002_work_types_rates_rounding"),
        ("tickets", "0003_default_work_type"),
        ("timesheets", "0006_work_type"),
    ]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
