"""Search (issue 16): trigram indexes on the invoices' number and customer name (core.trigram); nothing on SQLite."""

from django.db import migrations

from core.trigram import TrigramIndex


class Migration(migrations.Migration):

    dependencies = [
        ('invoicing', '0010_customer_email_snapshot'),
        ('sales', '0005_search_indexes'),
    ]

    operations = [
        TrigramIndex('invoice_number_trgm', 'invoicing_invoice', 'number'),
        TrigramIndex('invoice_customer_name_trgm', 'invoicing_invoice', 'customer_name'),
    ]
