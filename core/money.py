"""Money at the edges: rounded to its currency's minor unit, shown for the reader's language (Babel).

Amounts are Decimals everywhere; a currency says how many places it keeps (EUR 2, JPY 0, BHD 3) and
how it is written: "€1,089.00" in English, "1 089,00 €" in French.
"""

from decimal import ROUND_HALF_UP, Decimal

import babel.numbers
from django.utils import translation


def places(currency: str) -> int:
    return babel.numbers.get_currency_precision(currency or "EUR")


def round_money(value, currency: str) -> Decimal:
    """Round HALF-UP to the currency's minor unit, kept with two places at least (the columns have two)."""
    exponent = Decimal(1).scaleb(-places(currency))
    rounded = Decimal(value).quantize(exponent, rounding=ROUND_HALF_UP)
    return rounded.quantize(Decimal("0.01")) if places(currency) < 2 else rounded


def locale_name(language: str | None = None) -> str:
    """Babel's name for a Django language code: "en-us" -> "en_US", "fr" -> "fr"."""
    return translation.to_locale(language or translation.get_language() or "en")


def format_money(value, currency: str, language: str | None = None) -> str:
    """`value` in `currency`, written for `language` (the active one by default); "" for None."""
    if value is None or value == "":
        return ""
    return babel.numbers.format_currency(Decimal(value), currency or "EUR", locale=locale_name(language))
