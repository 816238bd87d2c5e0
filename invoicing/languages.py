"""The language of what the customer reads: its invoices' lines, their PDF and the emails sent to it.

A customer's own (sales.Customer.language), else the site's (settings.LANGUAGE_CODE). Documents are
written in it when they are made (`translation.override`), in a request or a job alike: the explanation
stored on an invoice line, the PDF, the invoice and reminder emails. Refusals stay in the reader's language.
"""

from django.conf import settings

from core.languages import CODES


def customer_language(customer) -> str:
    """The language to write to `customer` in: theirs, else the site's."""
    language = getattr(customer, "language", "") or ""
    return language if language in CODES else settings.LANGUAGE_CODE
