"""Performance (issue 5): Delivered checkpoints, the entries' index by line, planner statistics.

`entry_by_line` replaces the plain index of the sale_line foreign key: the same lookups, plus
the range after a checkpoint, read without visiting the table (and `check_billing` reads the
whole index in order). The ndistinct statistics tell PostgreSQL how few (line, invoice line)
pairs there are, so `check_billing` plans the rest of its statement for the right number of rows.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE STATISTICS IF NOT EXISTS entry_line_pairs (ndistinct) "
                              "ON sale_line_id, invoice_line_id FROM timesheets_timeentry")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP STATISTICS IF EXISTS entry_line_pairs")


class Migration(migrations.Migration):

    dependencies = [
        ('invoicing', '0003_roles'),
        ('projects', '0001_initial'),
        ('sales', '0001_initial'),
        ('tickets', '0001_initial'),
        ('timesheets', '0002_timer'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DeliveredCheckpoint',
            fields=[
                ('sale_line', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='sales.saleorderline')),
                ('last_entry_id', models.BigIntegerField()),
                ('delivered_minutes', models.PositiveBigIntegerField()),
                ('invoiced_minutes', models.PositiveBigIntegerField()),
            ],
        ),
        migrations.AlterField(
            model_name='timeentry',
            name='sale_line',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='time_entries', to='sales.saleorderline', verbose_name='Sales Order Item'),
        ),
        migrations.AddIndex(
            model_name='timeentry',
            index=models.Index(fields=['sale_line', 'id'], include=('billable_minutes', 'invoice_line'), name='entry_by_line'),
        ),
        migrations.RunPython(create_statistics, drop_statistics),
    ]
