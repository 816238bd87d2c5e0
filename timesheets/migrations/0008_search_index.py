"""Search (issue 16): a trigram index on the time entries' description (core.trigram); nothing on SQLite."""

from django.db import migrations

from core.trigram import TrigramIndex


class Migration(migrations.Migration):

    dependencies = [
        ('sales', '0005_search_indexes'),
        ('timesheets', '0007_report_indexes'),
    ]

    operations = [
        TrigramIndex('entry_description_trgm', 'timesheets_timeentry', 'description'),
    ]
