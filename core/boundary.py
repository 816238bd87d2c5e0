"""The portal's boundary: a customer's contact reaches the portal and nothing internal.

Contacts have no internal role, so every internal screen and API call would already show them nothing;
this says so at the door, once, instead of relying on each page: a contact's request for an internal
page is sent to the portal (a page) or refused (anything else), before any view runs. The API's token
authentication asks `contact_refused` too (api.authentication), since a token is read after middleware.
"""

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponseForbidden, HttpResponseRedirect, JsonResponse
from django.utils.translation import gettext_lazy

from .roles import is_contact


def contact_allowed(path: str) -> bool:
    """Whether a contact may ask for `path`: the portal, its API, signing out, the language, static files."""
    return path.startswith(settings.PORTAL_PATHS)


def contact_refused(user, path: str) -> bool:
    return user.is_authenticated and is_contact(user) and not contact_allowed(path)


def _refused(request) -> bool:
    try:
        return contact_refused(request.user, request.path)
    except DatabaseError:
        # The database is down: the view reads the user again and answers 503 (helpdesk_billing.health), as
        # core.languages does; a request refused or not changes nothing while nothing can be read.
        return False


REFUSED = gettext_lazy("This page is for the support company's staff. Your account opens the customer portal.")


class ContactBoundaryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _refused(request):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": str(REFUSED)}, status=403)
        if request.method in ("GET", "HEAD"):
            return HttpResponseRedirect(settings.PORTAL_HOME)
        return HttpResponseForbidden(str(REFUSED))
