"""UN/CEFACT Cross Industry Invoice (D16B), Factur-X / ZUGFeRD EN 16931 profile: the XML in the Factur-X PDF.

Elements come in the order the schema (Factur-X_EN16931.xsd) gives them.
"""

import datetime

from .facts import Facts, Line, Party, TaxRow, amount
from .xml import Builder

GUIDELINE = "urn:cen.eu:en16931:2017"  # the EN 16931 (comfort) profile of Factur-X

el = Builder({
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
})


def cii(facts: Facts) -> bytes:
    root = el(
        "rsm:CrossIndustryInvoice",
        el("rsm:ExchangedDocumentContext",
           el("ram:GuidelineSpecifiedDocumentContextParameter", el("ram:ID", GUIDELINE))),
        el("rsm:ExchangedDocument",
           el("ram:ID", facts.number),
           el("ram:TypeCode", facts.type_code),
           el("ram:IssueDateTime", _date("udt", facts.issue_date))),
        el("rsm:SupplyChainTradeTransaction",
           [_line(facts, line) for line in facts.lines],
           el("ram:ApplicableHeaderTradeAgreement",
              el("ram:SellerTradeParty", _party(facts.seller)),
              el("ram:BuyerTradeParty", _party(facts.buyer)),
              el("ram:SellerOrderReferencedDocument", el("ram:IssuerAssignedID", facts.order))),
           el.empty("ram:ApplicableHeaderTradeDelivery"),
           _settlement(facts)),
    )
    return el.document(root)


def _date(prefix: str, day: datetime.date | None):
    return el(f"{prefix}:DateTimeString", {"format": "102"}, f"{day:%Y%m%d}") if day else None


def _party(party: Party) -> list:
    return [
        el("ram:Name", party.name),
        el("ram:PostalTradeAddress",
           el("ram:PostcodeCode", party.postcode),
           [el(tag, text) for tag, text in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), party.street)],
           el("ram:CityName", party.city),
           el("ram:CountryID", party.country)),
        el("ram:URIUniversalCommunication", el("ram:URIID", {"schemeID": "EM"}, party.email)),
        el("ram:SpecifiedTaxRegistration", el("ram:ID", {"schemeID": "VA"}, party.vat)),
    ]


def _line(facts: Facts, line: Line):
    return el(
        "ram:IncludedSupplyChainTradeLineItem",
        el("ram:AssociatedDocumentLineDocument", el("ram:LineID", line.id),
           el("ram:IncludedNote", el("ram:Content", line.note))),
        el("ram:SpecifiedTradeProduct", el("ram:Name", line.name)),
        el("ram:SpecifiedLineTradeAgreement",
           el("ram:NetPriceProductTradePrice", el("ram:ChargeAmount", amount(line.price)))),
        el("ram:SpecifiedLineTradeDelivery",
           el("ram:BilledQuantity", {"unitCode": line.unit_code}, f"{line.quantity:.2f}")),
        el("ram:SpecifiedLineTradeSettlement",
           el("ram:ApplicableTradeTax", el("ram:TypeCode", "VAT"), el("ram:CategoryCode", line.category),
              el("ram:RateApplicablePercent", f"{line.rate:.2f}")),
           el("ram:SpecifiedTradeSettlementLineMonetarySummation", el("ram:LineTotalAmount", amount(line.net)))),
    )


def _settlement(facts: Facts):
    start, end = facts.period or (None, None)
    return el(
        "ram:ApplicableHeaderTradeSettlement",
        el("ram:PaymentReference", facts.payment_reference),
        el("ram:InvoiceCurrencyCode", facts.currency),
        # SEPA credit transfer to the seller's account; without an account, no payment means (BR-61).
        el("ram:SpecifiedTradeSettlementPaymentMeans",
           el("ram:TypeCode", "58"),
           el("ram:PayeePartyCreditorFinancialAccount", el("ram:IBANID", facts.iban)),
           el("ram:PayeeSpecifiedCreditorFinancialInstitution", el("ram:BICID", facts.bic))) if facts.iban else None,
        [_tax(row) for row in facts.taxes],
        el("ram:BillingSpecifiedPeriod", el("ram:StartDateTime", _date("udt", start)),
           el("ram:EndDateTime", _date("udt", end))),
        el("ram:SpecifiedTradePaymentTerms", el("ram:Description", facts.terms),
           el("ram:DueDateDateTime", _date("udt", facts.due_date))),
        el("ram:SpecifiedTradeSettlementHeaderMonetarySummation",
           el("ram:LineTotalAmount", amount(facts.untaxed)),
           el("ram:TaxBasisTotalAmount", amount(facts.untaxed)),
           el("ram:TaxTotalAmount", {"currencyID": facts.currency}, amount(facts.tax)),
           el("ram:GrandTotalAmount", amount(facts.total)),
           el("ram:DuePayableAmount", amount(facts.total))),
        el("ram:InvoiceReferencedDocument", el("ram:IssuerAssignedID", facts.refers[0]),
           el("ram:FormattedIssueDateTime", _date("qdt", facts.refers[1]))) if facts.refers else None,
    )


def _tax(row: TaxRow):
    return el("ram:ApplicableTradeTax",
              el("ram:CalculatedAmount", amount(row.tax)),
              el("ram:TypeCode", "VAT"),
              el("ram:BasisAmount", amount(row.base)),
              el("ram:CategoryCode", row.category),
              el("ram:RateApplicablePercent", f"{row.rate:.2f}"))
