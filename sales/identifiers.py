"""The numbers an invoice carries, checked before they are stored: VAT numbers (python-stdnum),
IBAN and BIC (schwifty); the ISO 4217 currencies (Babel) are the company's choices. Each check
returns the number in its compact form or raises a ValidationError that says what is wrong and
what a good one looks like."""

import babel.numbers
from django.core.exceptions import ValidationError
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as NumberError

CURRENCIES = sorted(babel.numbers.list_currencies())


def vat_clean(number: str, country: str = "") -> str:
    """Return a VAT number compacted ("BE 0403.019.261" -> "BE0403019261"), or raise.

    A number with its country prefix is checked by that country's rules; one without takes the
    country given. Countries python-stdnum has no rules for get a plain shape check.
    """
    number = (number or "").strip()
    if not number:
        return ""
    prefix = number[:2].upper()
    if prefix.isalpha() and prefix.lower() in eu_vat.MEMBER_STATES | {"el", "xi"}:
        checker, shown = eu_vat, number
    else:
        module = get_cc_module(country.lower(), "vat") if country else None
        checker, shown = module, number
    try:
        return checker.compact(checker.validate(shown)) if checker else _shape(number)
    except NumberError as error:
        raise ValidationError(f"{number} is not a valid VAT number ({_lower(error.message)}): "
                              "e.g. BE0403019261.", code="vat") from None


def _lower(message: str) -> str:
    return message[:1].lower() + message[1:].rstrip(".")


def _shape(number: str) -> str:
    compact = number.replace(" ", "").replace(".", "").replace("-", "").upper()
    if not (compact.isalnum() and 4 <= len(compact) <= 20):
        raise ValidationError(f"{number} is not a valid VAT number: letters and digits only, e.g. BE0403019261.",
                              code="vat")
    return compact


def iban_clean(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return IBAN(value).compact
    except SchwiftyException as error:
        raise ValidationError(f"{value} is not a valid IBAN ({_lower(str(error))}): "
                              "e.g. BE68 5390 0754 7034.", code="iban") from None


def bic_clean(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return BIC(value).compact
    except SchwiftyException as error:
        raise ValidationError(f"{value} is not a valid BIC ({_lower(str(error))}): e.g. GEBABEBB.",
                              code="bic") from None

