"""Managers and accountants see alerts in the admin (core.roles.GROUPS)."""

from django.db import migrations

from core.roles import sync_groups


def update_roles(apps, schema_editor):
    sync_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("invoicing", "0010_customer_email_snapshot"),
        ("audit", "0008_alerts"),
    ]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
