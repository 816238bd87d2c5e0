"""Managers and accountants see customers' contacts, ticket messages and customer reviews in the admin; the
customers' contacts' group exists (core.roles.GROUPS, issue 18)."""

from django.db import migrations

from core.roles import sync_groups


def update_roles(apps, schema_editor):
    sync_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_translatable_labels"),
        ("sales", "0008_portal_contacts"),
        ("tickets", "0006_portal"),
        ("timesheets", "0010_customer_reviews"),
    ]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
