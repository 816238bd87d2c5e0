from django.core.management.base import BaseCommand, CommandError

from invoicing.selectors import billing_drift


class Command(BaseCommand):
    help = "Recompute every stored Delivered and invoiced figure from the time entries; fail on any drift."

    def handle(self, *args, **options):
        drifts = billing_drift()
        if drifts:
            for drift in drifts:
                self.stderr.write(str(drift))
            raise CommandError(f"{len(drifts)} billing figure(s) differ from the time entries.")
        self.stdout.write(self.style.SUCCESS("Billing is consistent: every stored figure matches the entries."))
