"""Invoices posted before payments existed: their due date (30 days), reference, seller and balance,
as posting gives them now; and the roles' grants for the company, payments and reminders."""

import datetime

from django.db import migrations

from core.roles import sync_groups


def backfill(apps, schema_editor):
    from invoicing.payments import figures
    from invoicing.references import payment_reference

    Invoice = apps.get_model("invoicing", "Invoice")
    Company = apps.get_model("sales", "Company")
    company, _ = Company.objects.get_or_create(pk=1)
    seller = {"name": company.name, "address": company.address, "country": str(company.country),
              "vat_number": company.vat_number, "email": company.email, "iban": company.iban, "bic": company.bic,
              "invoice_footer": company.invoice_footer, "logo": ""}
    posted = Invoice.objects.filter(state="posted").order_by("pk")
    for invoice in posted:
        invoice.seller = seller
        invoice.due_date = invoice.invoice_date + datetime.timedelta(days=0 if invoice.refers_id else 30)
        invoice.payment_reference = payment_reference(invoice.kind, invoice.number, str(company.country))
        invoice.save(update_fields=["seller", "due_date", "payment_reference"])
    for origin in posted.filter(refers__isnull=True):
        notes = list(posted.filter(refers=origin))
        residual, owed = figures(origin.amount_total, 0, [(note.amount_total, 0) for note in notes])
        state = ("paid" if origin.amount_total == 0 else "reversed") if residual == 0 else "not_paid"
        Invoice.objects.filter(pk=origin.pk).update(amount_residual=residual, payment_state=state)
        for note, left in zip(notes, owed):
            note_state = "paid" if left == 0 else ("partial" if left < note.amount_total else "not_paid")
            Invoice.objects.filter(pk=note.pk).update(amount_residual=left, payment_state=note_state)


def update_roles(apps, schema_editor):
    sync_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0008_receivable"),
        ("audit", "0007_receivable"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop),
                  migrations.RunPython(update_roles, migrations.RunPython.noop)]
