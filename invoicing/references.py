"""The structured payment reference printed on an invoice, made from its number so a bank statement
line can be matched to it without reading free text.

A Belgian company gives the OGM/VCS "+++123/4567/89002+++": ten digits and their mod-97 check.
Others give the ISO 11649 creditor reference "RF18 INV2 0260 0001", understood by SEPA banks.
"""

import re

from stdnum import iso11649

KIND_DIGIT = {"invoice": "1", "credit_note": "2"}


def _digits(kind: str, number: str) -> str:
    """Ten digits unique per invoice: the kind, the year's last two digits, the sequence on seven."""
    year, sequence = re.fullmatch(r"[A-Z]+/(\d{4})/(\d+)", number).groups()
    return f"{KIND_DIGIT[kind]}{year[-2:]}{int(sequence) % 10**7:07d}"


def ogm(kind: str, number: str) -> str:
    digits = _digits(kind, number)
    check = int(digits) % 97 or 97
    body = f"{digits}{check:02d}"
    return f"+++{body[:3]}/{body[3:7]}/{body[7:]}+++"


def creditor_reference(number: str) -> str:
    """ISO 11649: "RF" + two check digits + the number without its slashes, grouped by four."""
    body = re.sub(r"[^0-9A-Z]", "", number.upper())
    # The check digits make "<body>RF<check>" read as a number equal to 1 modulo 97.
    return iso11649.format(f"RF{iso11649.mod_97_10.calc_check_digits(body + 'RF')}{body}")


def payment_reference(kind: str, number: str, country: str) -> str:
    return ogm(kind, number) if country == "BE" else creditor_reference(number)
