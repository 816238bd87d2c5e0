"""OASIS UBL 2.1 Invoice or CreditNote, Peppol BIS Billing 3.0.

Elements come in the order the schemas (UBL-Invoice-2.1.xsd, UBL-CreditNote-2.1.xsd) give them.
"""

from .facts import Facts, Line, Party, TaxRow, amount
from .xml import Builder

CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ROOTS = {False: "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
         True: "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"}


def ubl(facts: Facts) -> bytes:
    el = Builder({"": ROOTS[facts.credit_note], "cac": CAC, "cbc": CBC})
    kind = "CreditNote" if facts.credit_note else "Invoice"
    money = {"currencyID": facts.currency}
    start, end = facts.period or (None, None)
    root = el(
        f":{kind}",
        el("cbc:CustomizationID", CUSTOMIZATION),
        el("cbc:ProfileID", PROFILE),
        el("cbc:ID", facts.number),
        el("cbc:IssueDate", facts.issue_date.isoformat()),
        # A credit note has no DueDate of its own in UBL 2.1: its payment means carry it.
        None if facts.credit_note else el("cbc:DueDate", facts.due_date and facts.due_date.isoformat()),
        el(f"cbc:{kind}TypeCode", facts.type_code),
        el("cbc:DocumentCurrencyCode", facts.currency),
        el("cac:InvoicePeriod", el("cbc:StartDate", start and start.isoformat()),
           el("cbc:EndDate", end and end.isoformat())),
        # No purchase order number of the buyer's: Peppol's "NA", and the sales order it bills.
        el("cac:OrderReference", el("cbc:ID", "NA"), el("cbc:SalesOrderID", facts.order)),
        el("cac:BillingReference", el("cac:InvoiceDocumentReference", el("cbc:ID", facts.refers[0]),
                                      el("cbc:IssueDate", facts.refers[1].isoformat()))) if facts.refers else None,
        el("cac:AccountingSupplierParty", _party(el, facts.seller)),
        el("cac:AccountingCustomerParty", _party(el, facts.buyer)),
        _payment_means(el, facts),
        el("cac:PaymentTerms", el("cbc:Note", facts.terms)),
        el("cac:TaxTotal", el("cbc:TaxAmount", money, amount(facts.tax)),
           [_tax(el, row, money) for row in facts.taxes]),
        el("cac:LegalMonetaryTotal",
           el("cbc:LineExtensionAmount", money, amount(facts.untaxed)),
           el("cbc:TaxExclusiveAmount", money, amount(facts.untaxed)),
           el("cbc:TaxInclusiveAmount", money, amount(facts.total)),
           el("cbc:PayableAmount", money, amount(facts.total))),
        [_line(el, facts, line, kind) for line in facts.lines],
    )
    return el.document(root)


def _party(el: Builder, party: Party):
    scheme, endpoint = party.endpoint or (None, None)
    return el(
        "cac:Party",
        el("cbc:EndpointID", {"schemeID": scheme}, endpoint),
        el("cac:PartyName", el("cbc:Name", party.name)),
        el("cac:PostalAddress",
           el("cbc:StreetName", party.street[0] if party.street else None),
           el("cbc:AdditionalStreetName", party.street[1] if len(party.street) > 1 else None),
           el("cbc:CityName", party.city),
           el("cbc:PostalZone", party.postcode),
           el("cac:AddressLine", el("cbc:Line", ", ".join(party.street[2:]))),
           el("cac:Country", el("cbc:IdentificationCode", party.country))),
        el("cac:PartyTaxScheme", el("cbc:CompanyID", party.vat), el("cac:TaxScheme", el("cbc:ID", "VAT")))
        if party.vat else None,
        el("cac:PartyLegalEntity", el("cbc:RegistrationName", party.name)),
        el("cac:Contact", el("cbc:ElectronicMail", party.email)),
    )


def _payment_means(el: Builder, facts: Facts):
    if not facts.iban:  # a credit transfer names the account it goes to (BR-61)
        return None
    return el(
        "cac:PaymentMeans",
        el("cbc:PaymentMeansCode", "58"),
        el("cbc:PaymentDueDate", facts.due_date.isoformat()) if facts.credit_note and facts.due_date else None,
        el("cbc:PaymentID", facts.payment_reference),
        el("cac:PayeeFinancialAccount", el("cbc:ID", facts.iban),
           el("cac:FinancialInstitutionBranch", el("cbc:ID", facts.bic))),
    )


def _category(el: Builder, code: str, rate) -> list:
    return [el("cbc:ID", code), el("cbc:Percent", f"{rate:.2f}"), el("cac:TaxScheme", el("cbc:ID", "VAT"))]


def _tax(el: Builder, row: TaxRow, money: dict):
    return el("cac:TaxSubtotal",
              el("cbc:TaxableAmount", money, amount(row.base)),
              el("cbc:TaxAmount", money, amount(row.tax)),
              el("cac:TaxCategory", _category(el, row.category, row.rate)))


def _line(el: Builder, facts: Facts, line: Line, kind: str):
    money = {"currencyID": facts.currency}
    quantity = "cbc:CreditedQuantity" if facts.credit_note else "cbc:InvoicedQuantity"
    return el(
        f"cac:{kind}Line",
        el("cbc:ID", line.id),
        el("cbc:Note", line.note),
        el(quantity, {"unitCode": line.unit_code}, f"{line.quantity:.2f}"),
        el("cbc:LineExtensionAmount", money, amount(line.net)),
        el("cac:Item", el("cbc:Name", line.name), el("cac:ClassifiedTaxCategory", _category(el, line.category,
                                                                                            line.rate))),
        el("cac:Price", el("cbc:PriceAmount", money, amount(line.price))),
    )
