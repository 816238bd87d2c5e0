"""{% load money %} … {{ invoice.amount_total|money:invoice.currency }}: the amount with its currency,
written for the active language (core.money)."""

from django import template

from core.money import format_money

register = template.Library()


@register.filter
def money(value, currency="EUR"):
    return format_money(value, currency)


@register.filter
def iban(value):
    """An IBAN as people read and type it: in groups of four ("BE68 5390 0754 7034")."""
    compact = "".join(str(value or "").split())
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
