"""What every portal screen shares: who may open it (a customer's contact), the page, refusals and names.

Only a signed-in customer's contact opens a portal screen: a stranger is sent to the portal's sign-in page,
staff get the 403 page (the portal is not theirs; core.boundary keeps contacts out of everything else).
Every row a screen shows comes from the `contact_*` selectors, so another customer's ticket, timesheet or
invoice is not found (404), as if it did not exist.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext_lazy

from core.errors import error_message
from core.limits import MAX_ID
from invoicing.selectors import contact_invoices
from sales.contacts import name_for_contact, staff_name_for_contact
from sales.models import Company
from sales.selectors import contact_of

PER_PAGE = 25
STAFF_REFUSED = gettext_lazy("The customer portal is for our customers' contacts. Your account is a staff account: "
                             "use the internal screens.")


def portal_view(view):
    """A portal screen: for a signed-in customer's contact (`request.contact`, with their customer) only."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=reverse("portal_login"))
        contact = contact_of(request.user)
        if contact is None:
            raise PermissionDenied(STAFF_REFUSED)
        request.contact = contact
        try:
            return view(request, *args, **kwargs)
        except Http404:  # the portal's own page, with the portal's top bar
            return not_found(request)

    return wrapped


def shown_invoices(contact):
    """The customer's posted invoices and credit notes, with what their pages show of the order and the invoice
    a credit note corrects."""
    return contact_invoices(contact=contact).select_related("refers", "sale_order")


def page(request, template: str, context: dict | None = None, status: int = 200):
    """Render a portal screen with what its top bar shows: the contact, their customer, the company."""
    return render(request, template, {"contact": getattr(request, "contact", None), "company": company(request),
                                      **(context or {})}, status=status)


def company(request) -> Company:
    """The company (its name, whether the portal names agents), read once per request."""
    if not hasattr(request, "portal_company"):
        request.portal_company = Company.current()
    return request.portal_company


def not_found(request, exception=None):
    return page(request, "portal/404.html", status=404)


def add_service_error(form, error: ValidationError, rename: dict[str, str] | None = None) -> None:
    """Show a service's refusal on `form`: on the field it names, else above the fields."""
    rename = rename or {}
    items = error.error_dict.items() if hasattr(error, "error_dict") else [(None, error.error_list)]
    for field, errors in items:
        field = rename.get(field, field)
        for message in ValidationError(errors).messages:
            form.add_error(field if field in form.fields else None, message)


def show_refusal(request, error: ValidationError) -> None:
    messages.error(request, error_message(error))


def record_id(value) -> int | None:
    """`value` as a record id (1 to 19 ASCII digits, at most MAX_ID), else None."""
    if isinstance(value, str) and 0 < len(value) <= 19 and value.isascii() and value.isdigit():
        return int(value) if 0 < int(value) <= MAX_ID else None
    return None


def paginate(request, queryset, per_page: int = PER_PAGE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


class Names:
    """Who did something, as this request's contact reads it (sales.contacts.name_for_contact)."""

    def __init__(self, request):
        self.customer_id = request.contact.customer_id
        self.shows_agents = company(request).portal_shows_agents

    def staff(self, user) -> str:
        return staff_name_for_contact(user, shows_agents=self.shows_agents)

    def anyone(self, user) -> str:
        return name_for_contact(user, customer_id=self.customer_id, shows_agents=self.shows_agents)


def unknown(request):
    """Any other address under /portal/: the portal's "not found", or its address with the slash it lacks."""
    if settings.APPEND_SLASH and not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not unknown:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    request.contact = contact_of(request.user)  # the top bar of a signed-in contact; none for anyone else
    return not_found(request)
