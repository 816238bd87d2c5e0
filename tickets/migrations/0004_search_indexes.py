"""Search (issue 16): trigram indexes on the tickets' title and description (core.trigram); nothing on SQLite."""

from django.db import migrations

from core.trigram import TrigramIndex


class Migration(migrations.Migration):

    dependencies = [
        ('sales', '0005_search_indexes'),
        ('tickets', '0003_default_work_type'),
    ]

    operations = [
        TrigramIndex('ticket_title_trgm', 'tickets_ticket', 'title'),
        TrigramIndex('ticket_description_trgm', 'tickets_ticket', 'description'),
    ]
