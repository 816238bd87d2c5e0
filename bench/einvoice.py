"""Issue 14: the Factur-X PDF of the 2,000-entry invoice, next to its plain PDF (target 12)."""

from invoicing.documents import pdf_store
from invoicing.einvoice import cii_xml, facturx_pdf, ubl_xml
from invoicing.models import Invoice
from invoicing.pdf import invoice_pdf

from . import db
from .measures import Figure, _ratio
from .probes import Probes
from .timing import medians


def facturx(probes: dict[str, Probes], runs: int) -> list[Figure]:
    """Time the plain PDF, the Factur-X PDF made from scratch (the same rendering, the CII XML, the embedding)
    and the Factur-X PDF a download makes (the stored PDF read, the XML, the embedding)."""
    aliases = list(probes)
    for alias in aliases:  # after target 8, which times the storing itself: stored already, unless run alone
        with db.use(alias):
            pdf_store(invoice_id=probes[alias].invoice_2000)

    def invoice(alias, *, stored: bool) -> Invoice:
        found = Invoice.objects.select_related("sale_order", "refers").get(pk=probes[alias].invoice_2000)
        if not stored:
            found.pdf = ""  # in memory only: facturx_pdf renders the PDF, as before the job has stored it
        return found

    with db.use(aliases[0]):  # warm-up: WeasyPrint's fonts and CSS, factur-x's import and XSD
        facturx_pdf(invoice(aliases[0], stored=True))
    cases = {}
    for alias in aliases:
        cases[f"{alias} plain"] = (alias, lambda a=alias: invoice_pdf(invoice=invoice(a, stored=True)))
        cases[f"{alias} scratch"] = (alias, lambda a=alias: facturx_pdf(invoice(a, stored=False)))
        cases[f"{alias} stored"] = (alias, lambda a=alias: facturx_pdf(invoice(a, stored=True)))
        cases[f"{alias} xml"] = (alias, lambda a=alias: (cii_xml(invoice(a, stored=True)),
                                                        ubl_xml(invoice(a, stored=True))))
    times = medians(cases, runs=runs, warmup=0)

    def row(kind):
        return {a: times[f"{a} {kind}"] for a in aliases}

    return [
        Figure(12, "plain invoice PDF billing 2,000 entries (PDF/A-3b, target 5's)", row("plain"), "s"),
        Figure(12, "Factur-X PDF of it from scratch (that PDF, the CII XML, the embedding)", row("scratch"), "s"),
        Figure(12, "Factur-X PDF as a download makes it (the stored PDF, the XML, the embedding)", row("stored"),
               "s"),
        Figure(12, "the CII and UBL XMLs alone", row("xml"), "s"),
        Figure(12, "Factur-X from scratch / plain PDF", {a: _ratio(times[f"{a} scratch"], times[f"{a} plain"])
                                                         for a in aliases}, "×"),
        Figure(12, "Factur-X download / plain PDF", {a: _ratio(times[f"{a} stored"], times[f"{a} plain"])
                                                     for a in aliases}, "×"),
    ]
