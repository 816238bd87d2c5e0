"""EN 16931 e-invoices of posted invoices and credit notes: Factur-X (CII in a PDF/A-3) and UBL 2.1
Peppol BIS Billing 3.0. Being written (issue 14): the functions below are the interface."""

from ..models import Invoice


def cii_xml(invoice: Invoice) -> bytes:
    """The invoice as UN/CEFACT CII XML, Factur-X EN 16931 profile."""
    raise NotImplementedError


def ubl_xml(invoice: Invoice) -> bytes:
    """The invoice as UBL 2.1 XML, Peppol BIS Billing 3.0 (Invoice, or CreditNote)."""
    raise NotImplementedError


def facturx_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF/A-3 with its CII XML embedded (factur-x.xml): the Factur-X file."""
    raise NotImplementedError


def facturx_filename(invoice: Invoice) -> str:
    return f"{invoice.number.replace('/', '-')}-facturx.pdf"


def ubl_filename(invoice: Invoice) -> str:
    return f"{invoice.number.replace('/', '-')}-ubl.xml"
