"""Render the PDFs a restore lost: every posted invoice without its stored file. Never replaces a file."""

from django.core.management.base import BaseCommand

from invoicing.documents import pdfs_render_missing


class Command(BaseCommand):
    help = "Render and store the PDF of every posted invoice whose file is missing; existing files are kept."

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true",
                            help="Queue one job per invoice for the workers instead of rendering here.")

    def handle(self, *args, enqueue=False, **options):
        count = pdfs_render_missing(enqueue=enqueue, out=self.stdout)
        self.stdout.write(f"{count} PDF{'s' if count != 1 else ''} {'queued' if enqueue else 'rendered'}; "
                          "every other posted invoice has its file.")
