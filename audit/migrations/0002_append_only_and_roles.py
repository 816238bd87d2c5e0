"""Make the audit log append-only in the database too, and let managers and accountants read it.

On PostgreSQL a trigger refuses UPDATE and DELETE of audit_auditevent rows, whatever
the client (the ORM refuses them as well, see audit.models). TRUNCATE is left to the
database owner: it is what a test run's flush uses.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_append_only();
"""

READERS = ("Managers", "Accountants")


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)
        schema_editor.execute(TRIGGER, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


def grant_view(apps, schema_editor):
    config = apps.get_app_config("audit")
    config.models_module = True  # permissions are normally created after all migrations
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="audit", codename="view_auditevent")
    for group in Group.objects.filter(name__in=READERS):
        group.permissions.add(view)


def revoke_view(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="audit", codename="view_auditevent").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        # The groups are created there.
        ("invoicing", "0003_roles"),
    ]

    operations = [
        migrations.RunPython(guard, unguard),
        migrations.RunPython(grant_view, revoke_view),
    ]
