"""{% load money %} … {{ invoice.amount_total|money:invoice.currency }}: the amount with its currency,
written for the active language (core.money)."""

from django import template

from core.money import format_money

register = template.Library()


@register.filter
def money(value, currency="EUR"):
    return format_money(value, currency)
