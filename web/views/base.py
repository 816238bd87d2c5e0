"""What every screen shares: the page, refusals, paging and the query string's input.

Views call services and selectors only; what is allowed is decided there and in core.permissions' rules.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from core.errors import error_message
from core.limits import MAX_ID, searchable

PER_PAGE = 25


def page(request, template: str, context: dict | None = None, status: int = 200):
    """Render a screen; its top bar comes from web.context_processors.top_bar, as on every page."""
    return render(request, template, context or {}, status=status)


ROLE_REFUSED = gettext_lazy("Your role does not allow this.")


def refuse_unless(allowed: bool, message: str = ROLE_REFUSED) -> None:
    """Answer 403 with `message` unless `allowed` (a lazy text: the 403 page says it in the reader's language)."""
    if not allowed:
        raise PermissionDenied(message)


def show_refusal(request, error: ValidationError) -> None:
    """Show a service's refusal (ValidationError or Conflict) as an error message."""
    messages.error(request, error_message(error))


def add_service_error(form: forms.Form, error: ValidationError, rename: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on `form`: on the field it names, else above the fields.

    `rename` maps the service's names to the form's, e.g. {"minutes": "duration"}.
    """
    rename = rename or {}
    items = error.error_dict.items() if hasattr(error, "error_dict") else [(None, error.error_list)]
    for field, errors in items:
        field = rename.get(field, field)
        if field not in form.fields:
            field = None
        for message in ValidationError(errors).messages:
            form.add_error(field, message)


def act(request, call, success):
    """Run a service for a POST action: its refusal becomes an error message, its result a success one.

    `success` is the message, or a function of the service's result returning it.
    Return the result, or None when the service refused.
    """
    try:
        result = call()
    except ValidationError as error:
        show_refusal(request, error)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result


def record_id(value) -> int | None:
    """Return `value` as a record id when it is one (1 to 19 ASCII digits, at most MAX_ID), else None.

    str.isdigit() alone also passes "²" and a hundred thousand digits, which int() refuses.
    """
    if isinstance(value, str) and 0 < len(value) <= 19 and value.isascii() and value.isdigit():
        return int(value) if int(value) <= MAX_ID else None
    return None


def search_text(request) -> str:
    """Return the search box's text as a search sends it (core.limits.searchable)."""
    return searchable(request.GET.get("q", ""))


def paginate(request, queryset, per_page: int = PER_PAGE):
    """Return the page of `queryset` the query string asks for: the first if not a number, the last past the end."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))
