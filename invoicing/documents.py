"""Invoice PDFs: a posted invoice's is rendered once, by a job, and stored; a draft's is a preview.

Posting enqueues `tasks.render_pdf` in the posting transaction, so the job exists exactly when the
invoice is posted. The file goes through Django's storage API (MEDIA_ROOT, or a bucket: settings) and
is never replaced: a posted invoice's PDF stays what it was, whatever the template or the company
settings become. `manage.py render_missing_pdfs` renders those a restore lost, never the others.
"""

import logging

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction

from audit.models import AuditEvent
from audit.services import audit_record

from .models import Invoice
from .pdf import invoice_pdf, invoice_pdf_filename

log = logging.getLogger(__name__)


def pdf_store(*, invoice_id: int) -> bool:
    """Render and store a posted invoice's PDF unless it has one; True when this call stored it.

    Two jobs for one invoice (a resumed one, say) may both render: the first to record its file
    wins, the other deletes its own copy.
    """
    invoice = Invoice.objects.select_related("sale_order", "refers").get(pk=invoice_id)
    if invoice.state != Invoice.State.POSTED or invoice.pdf:
        return False
    data = invoice_pdf(invoice=invoice)
    name = invoice.pdf.field.generate_filename(invoice, invoice_pdf_filename(invoice))
    stored = default_storage.save(name, ContentFile(data))
    with transaction.atomic():
        won = Invoice.objects.filter(pk=invoice.pk, pdf="").update(pdf=stored)
        if won:
            audit_record(action=AuditEvent.Action.INVOICE_PDF_STORED, obj=invoice,
                         changes={"file": stored, "bytes": len(data)})
    if not won:
        default_storage.delete(stored)
    return bool(won)


def pdf_file(invoice: Invoice) -> File | None:
    """Return the stored PDF of a posted invoice, open for reading; None while it is being prepared."""
    if not invoice.pdf:
        return None
    return default_storage.open(invoice.pdf.name, "rb")


# What a download gets when there is no file to give: its job has not stored it yet, or storage lost it.
PREPARING, MISSING = "preparing", "missing"
RETRY_SECONDS = 3  # how soon to ask again while it is being prepared


def pdf_download(invoice: Invoice) -> bytes | File | str:
    """What a download of the invoice gets: a draft's preview rendered now (bytes), a posted invoice's
    stored file (open), else PREPARING until its job stored it, or MISSING when storage lost it."""
    if invoice.state != Invoice.State.POSTED:
        return invoice_pdf(invoice=invoice)  # marked "Draft" (or "Cancelled") on every page
    try:
        file = pdf_file(invoice)
    except FileNotFoundError:
        log.warning("%s: its PDF %s is missing from storage", invoice, invoice.pdf.name)
        return MISSING
    return PREPARING if file is None else file


def pdfs_render_missing(*, enqueue: bool = False, out=None) -> int:
    """Render the PDF of every posted invoice without one, or whose file is gone; never replace a file."""
    from .tasks import render_pdf

    count = 0
    for invoice in Invoice.objects.filter(state=Invoice.State.POSTED).order_by("pk").iterator():
        if invoice.pdf and default_storage.exists(invoice.pdf.name):
            continue
        if invoice.pdf:  # recorded but lost: forget the name, so pdf_store renders it again
            log.warning("%s: its PDF %s is missing from storage; rendering it again", invoice, invoice.pdf.name)
            Invoice.objects.filter(pk=invoice.pk, pdf=invoice.pdf.name).update(pdf="")
        if enqueue:
            render_pdf.enqueue(invoice.pk)
        else:
            pdf_store(invoice_id=invoice.pk)
        count += 1
        if out:
            out.write(f"{invoice.number}: {'queued' if enqueue else 'rendered'}\n")
    return count
