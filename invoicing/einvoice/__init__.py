"""EN 16931 e-invoices of posted invoices and credit notes: Factur-X (CII in a PDF/A-3) and UBL 2.1
Peppol BIS Billing 3.0.

Both are written from the posted invoice's snapshots (`facts`), so they say the same thing every time they
are asked for; the Factur-X PDF is the stored PDF (rendered once, PDF/A-3b) with the CII XML embedded.
"""

import threading
from contextlib import contextmanager

from django.utils.translation import gettext as _

from core.errors import Conflict

from ..documents import pdf_file
from ..languages import customer_language
from ..models import Invoice
from ..pdf import invoice_pdf
from .cii import cii
from .facts import invoice_facts
from .ubl import ubl


def refuse_unposted(invoice: Invoice) -> None:
    """Raise Conflict unless the invoice or credit note is posted: a draft's figures may still change."""
    if invoice.state == Invoice.State.CANCELLED:
        raise Conflict(_("{invoice} is cancelled: e-invoices are made of posted invoices.").format(invoice=invoice))
    if invoice.state != Invoice.State.POSTED:
        raise Conflict(_("{invoice} is a draft: e-invoices are made of posted invoices.").format(invoice=invoice))


def cii_xml(invoice: Invoice) -> bytes:
    """The invoice as UN/CEFACT CII XML, Factur-X EN 16931 profile."""
    refuse_unposted(invoice)
    return cii(invoice_facts(invoice))


def ubl_xml(invoice: Invoice) -> bytes:
    """The invoice as UBL 2.1 XML, Peppol BIS Billing 3.0 (Invoice, or CreditNote)."""
    refuse_unposted(invoice)
    return ubl(invoice_facts(invoice))


def facturx_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF/A-3 with its CII XML embedded (factur-x.xml): the Factur-X file.

    The PDF is the stored one; until its job has stored it (the API answers 202 meanwhile), it is rendered
    here, as the job renders it.
    """
    import facturx  # heavy import (pypdf, the XSDs), only where a Factur-X file is made

    xml = cii_xml(invoice)
    pdf = _stored_pdf(invoice) or invoice_pdf(invoice=invoice)
    with _dated(invoice):
        # The XSD check is cheap (~10 ms) and stops a file that no reader would accept.
        return facturx.generate_from_binary(pdf, xml, flavor="factur-x", level="en16931", check_xsd=True,
                                            lang=customer_language(invoice.customer))


def facturx_filename(invoice: Invoice) -> str:
    return f"{invoice.number.replace('/', '-')}-facturx.pdf"


def ubl_filename(invoice: Invoice) -> str:
    return f"{invoice.number.replace('/', '-')}-ubl.xml"


def _stored_pdf(invoice: Invoice) -> bytes | None:
    try:
        file = pdf_file(invoice)
    except FileNotFoundError:
        return None
    if file is None:
        return None
    with file:
        return file.read()


# factur-x stamps the file with the time it is made (its Info dates, the XMP metadata, the XML's ModDate);
# stamped with the posting time instead, a posted invoice's Factur-X is the same bytes every time. Its two
# clock functions are module globals: the lock keeps two threads from swapping them at once.
_CLOCK = threading.Lock()


@contextmanager
def _dated(invoice: Invoice):
    from facturx import facturx as library

    posted = invoice.posted_at
    pdf_timestamp = getattr(library, "_get_pdf_timestamp", None)
    metadata_timestamp = getattr(library, "_get_metadata_timestamp", None)
    if pdf_timestamp is None or metadata_timestamp is None:  # a later factur-x without them: dated now, still valid
        yield
        return
    with _CLOCK:
        library._get_pdf_timestamp = lambda date=None: pdf_timestamp(date or posted)
        library._get_metadata_timestamp = lambda: f"{posted.astimezone(library.timezone.utc):%Y-%m-%dT%H:%M:%S}+00:00"
        try:
            yield
        finally:
            library._get_pdf_timestamp, library._get_metadata_timestamp = pdf_timestamp, metadata_timestamp
