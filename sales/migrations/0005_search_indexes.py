"""Search (issue 16): pg_trgm, and trigram indexes on the customers' and orders' names (core.trigram).

Every migration of another app that adds a trigram index depends on this one, which installs pg_trgm.
Nothing happens on SQLite.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from core.trigram import TrigramIndex


class Migration(migrations.Migration):

    dependencies = [
        ('sales', '0004_alerts'),
    ]

    operations = [
        TrigramExtension(),
        TrigramIndex('customer_name_trgm', 'sales_customer', 'name'),
        TrigramIndex('order_name_trgm', 'sales_saleorder', 'name'),
    ]
