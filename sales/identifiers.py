"""The numbers an invoice carries, checked before they are stored: VAT numbers (python-stdnum),
IBAN and BIC (schwifty); the ISO 4217 currencies (Babel) are the company's choices. Each check
returns the number in its compact form or raises a ValidationError that says what is wrong and
what a good one looks like."""

import re

import babel.numbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as NumberError

CURRENCIES = sorted(babel.numbers.list_currencies())

# What python-stdnum and schwifty say is wrong with a number, as our sentences quote it (first letter
# lowercase, no full stop), each in the reader's language; a message not listed is quoted as it is.
_DETAILS = [(re.compile(pattern), text) for pattern, text in (
    (r"the number has an invalid format", gettext_lazy("the number has an invalid format")),
    (r"the number's checksum or check digit is invalid",
     gettext_lazy("the number's checksum or check digit is invalid")),
    (r"the number has an invalid length", gettext_lazy("the number has an invalid length")),
    (r"one of the parts of the number are invalid or unknown",
     gettext_lazy("one of the parts of the number are invalid or unknown")),
    (r"invalid IBAN length", gettext_lazy("invalid IBAN length")),
    (r"invalid checksum digits", gettext_lazy("invalid checksum digits")),
    (r"invalid national checksum", gettext_lazy("invalid national checksum")),
    (r"invalid length '(?P<length>[^']*)'", gettext_lazy("invalid length '{length}'")),
    (r"invalid country code '(?P<code>[^']*)'", gettext_lazy("invalid country code '{code}'")),
    (r"invalid structure '(?P<value>[^']*)'", gettext_lazy("invalid structure '{value}'")),
    (r"invalid characters in IBAN (?P<iban>.*)", gettext_lazy("invalid characters in IBAN {iban}")),
    (r"invalid BBAN structure: '(?P<bban>[^']*)' doesn't match '(?P<spec>[^']*)'",
     gettext_lazy("invalid BBAN structure: '{bban}' doesn't match '{spec}'")),
)]


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
        raise ValidationError(_("{number} is not a valid VAT number ({detail}): e.g. BE0403019261.").format(
            number=number, detail=_detail(error.message)), code="vat") from None


def _detail(message: str) -> str:
    """A library's message as a part of our sentence, in the reader's language."""
    message = message[:1].lower() + message[1:].rstrip(".")
    for pattern, text in _DETAILS:
        if match := pattern.fullmatch(message):
            return str(text).format(**match.groupdict())
    return message


def _shape(number: str) -> str:
    compact = number.replace(" ", "").replace(".", "").replace("-", "").upper()
    if not (compact.isalnum() and 4 <= len(compact) <= 20):
        raise ValidationError(_("{number} is not a valid VAT number: letters and digits only, e.g. BE0403019261.")
                              .format(number=number), code="vat")
    return compact


def iban_clean(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return IBAN(value).compact
    except SchwiftyException as error:
        raise ValidationError(_("{iban} is not a valid IBAN ({detail}): e.g. BE68 5390 0754 7034.").format(
            iban=value, detail=_detail(str(error))), code="iban") from None


def bic_clean(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return BIC(value).compact
    except SchwiftyException as error:
        raise ValidationError(_("{bic} is not a valid BIC ({detail}): e.g. GEBABEBB.").format(
            bic=value, detail=_detail(str(error))), code="bic") from None

