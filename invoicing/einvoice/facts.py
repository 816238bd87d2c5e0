"""What an e-invoice says, read once from a posted invoice: both syntaxes (CII, UBL) write these facts.

Everything comes from the invoice's snapshots (its seller, customer, lines and stored amounts), so a posted
invoice's e-invoices are the same whenever they are asked for. Their one sentence, the payment terms, is
written in the customer's language, as the PDF is (codes and numbers are the standard's).
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.l10n import day

from ..languages import customer_language
from ..models import Invoice
from ..selectors import taxes_by_rate

# UN/ECE Recommendation 20 codes of the units lines are sold in.
UNIT_CODES = {"hour": "HUR", "day": "DAY"}

# Peppol EAS schemes of VAT numbers, by the number's country, for the parties' electronic addresses;
# a party without one is addressed by email ("EM").
VAT_SCHEMES = {"AT": "9914", "BE": "9925", "DE": "9930", "ES": "9920", "FR": "9957", "GB": "9932", "IT": "0211",
               "LU": "9938", "NL": "9944"}

# "1000 Brussels", "75008 Paris", "NL-1012 AB Amsterdam": a postcode (it has a digit) and a city.
POSTCODE_CITY = re.compile(r"^(?P<postcode>(?=\S*\d)\S+(?: [A-Z]{2})?)\s+(?P<city>\D.*)$")


@dataclass(frozen=True)
class Party:
    name: str
    street: tuple[str, ...]
    postcode: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    vat: str  # with its country prefix, or ""
    email: str

    @property
    def endpoint(self) -> tuple[str, str] | None:
        """The party's electronic address (scheme, id): its VAT number where Peppol has a scheme for it,
        else its email."""
        scheme = VAT_SCHEMES.get(_vat_country(self.vat))
        if scheme:
            return scheme, self.vat
        return ("EM", self.email) if self.email else None


@dataclass(frozen=True)
class Line:
    id: str
    name: str
    note: str
    quantity: Decimal
    unit_code: str
    price: Decimal
    net: Decimal
    category: str  # VAT category: S (standard) or Z (zero rated)
    rate: Decimal


@dataclass(frozen=True)
class TaxRow:
    category: str
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Facts:
    number: str
    credit_note: bool
    issue_date: datetime.date
    due_date: datetime.date | None
    currency: str
    seller: Party
    buyer: Party
    order: str  # the sales order's name: the seller's order reference
    refers: tuple[str, datetime.date] | None  # a credit note's invoice: number and date
    period: tuple[datetime.date | None, datetime.date | None] | None
    lines: tuple[Line, ...]
    taxes: tuple[TaxRow, ...]
    untaxed: Decimal
    tax: Decimal
    total: Decimal
    payment_reference: str
    iban: str
    bic: str
    terms: str

    @property
    def type_code(self) -> str:
        """UNTDID 1001: 380 commercial invoice, 381 credit note."""
        return "381" if self.credit_note else "380"


def category(rate: Decimal) -> str:
    return "S" if rate else "Z"


def amount(value: Decimal) -> str:
    """An amount as EN 16931 writes it: two decimals, whatever the currency keeps (JPY 1235 -> "1235.00")."""
    return f"{Decimal(value):.2f}"


def invoice_facts(invoice: Invoice) -> Facts:
    """Return what the e-invoices of a posted invoice or credit note say."""
    seller = invoice.issuer
    lines = tuple(
        Line(id=str(n), name=line.name, note=line.explanation, quantity=line.quantity,
             unit_code=UNIT_CODES.get(line.uom, "C62"), price=line.price_unit, net=line.amount_untaxed,
             category=category(line.tax_rate), rate=line.tax_rate)
        for n, line in enumerate(invoice.lines.order_by("pk"), start=1))
    taxes = tuple(TaxRow(category=category(row["tax_rate"]), rate=row["tax_rate"], base=row["base"], tax=row["tax"])
                  for row in taxes_by_rate(invoice=invoice))
    refers = (invoice.refers.number, invoice.refers.invoice_date) if invoice.refers_id else None
    period = (invoice.period_start, invoice.period_end) if invoice.period_start or invoice.period_end else None
    return Facts(
        number=invoice.number, credit_note=invoice.is_credit_note, issue_date=invoice.invoice_date,
        due_date=invoice.due_date, currency=invoice.currency,
        seller=_party(seller["name"], seller["address"], seller["country"], seller["vat_number"], seller["email"]),
        buyer=_buyer(invoice), order=invoice.sale_order.name, refers=refers, period=period, lines=lines,
        taxes=taxes, untaxed=invoice.amount_untaxed, tax=invoice.amount_tax, total=invoice.amount_total,
        payment_reference=invoice.payment_reference, terms=_terms_in_language(invoice),
        # A credit note is money owed to the buyer: no account of the seller's to pay into.
        iban="" if invoice.is_credit_note else seller.get("iban", ""), bic="" if invoice.is_credit_note else
        seller.get("bic", ""))


def _buyer(invoice: Invoice) -> Party:
    email = "" if invoice.customer_vat else invoice.customer_email  # without VAT number, its electronic address
    # EN 16931 needs the buyer's country (BR-11); a customer without one is taken from its VAT number's
    # prefix, else as the seller's.
    country = invoice.customer_country or _vat_country(invoice.customer_vat) or invoice.issuer["country"]
    return _party(invoice.customer_name, invoice.customer_address, country, invoice.customer_vat, email)


def _party(name: str, address: str, country: str, vat: str, email: str) -> Party:
    rows = [row.strip() for row in (address or "").splitlines() if row.strip()]
    postcode = city = ""
    match = POSTCODE_CITY.match(rows[-1]) if rows else None
    if match:
        postcode, city = match["postcode"], match["city"].strip()
        rows = rows[:-1]
    return Party(name=name, street=tuple(rows), postcode=postcode, city=city, country=country,
                 vat=_vat_with_prefix(vat, country), email=email or "")


def _vat_country(vat: str) -> str:
    prefix = (vat or "")[:2].upper()
    return {"EL": "GR", "XI": "GB"}.get(prefix, prefix) if prefix.isalpha() else ""


def _vat_with_prefix(vat: str, country: str) -> str:
    """EN 16931 wants a VAT number with its country's prefix (BR-CO-9); Greece's is EL."""
    if not vat or vat[:2].isalpha():
        return vat or ""
    return {"GR": "EL"}.get(country, country) + vat


def _terms_in_language(invoice: Invoice) -> str:
    with translation.override(customer_language(invoice.customer)):
        return _terms(invoice)


def _terms(invoice: Invoice) -> str:
    if invoice.is_credit_note:
        return _("Credit note for {invoice}.").format(invoice=invoice.refers.number)
    if invoice.due_date is None:
        return ""
    days = (invoice.due_date - invoice.invoice_date).days
    if days > 0:
        terms = ngettext("Payable within {days} day, by {date}.", "Payable within {days} days, by {date}.",
                         days).format(days=days, date=day(invoice.due_date))
    else:
        terms = _("Payable on receipt.")
    if invoice.payment_reference:
        return _("{terms} Reference: {reference}").format(terms=terms, reference=invoice.payment_reference)
    return terms
