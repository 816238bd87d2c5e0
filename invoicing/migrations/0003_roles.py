"""Create the groups Agents, Managers and Accountants with their model permissions (core.roles.GROUPS)."""

from django.db import migrations

from core.roles import GROUPS, sync_groups


def create_roles(apps, schema_editor):
    sync_groups(apps)


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0002_initial"),
        ("audit", "0001_initial"),  # managers and accountants read the audit log
        ("timesheets", "0001_initial"),
        ("tickets", "0001_initial"),
        ("projects", "0001_initial"),
        ("sales", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, drop_roles)]
