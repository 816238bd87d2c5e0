"""The API's token and session authentication: the user's roles read with the token, and a customer's contact
kept to the portal's API (core.boundary: the middleware cannot see a token, read only here)."""

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from core.boundary import REFUSED, contact_refused
from core.db import one
from core.roles import remember_roles, with_role_names


def _kept_to_portal(request, result):
    if result is not None and contact_refused(result[0], request.path):
        raise exceptions.PermissionDenied(str(REFUSED))
    return result


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's, in one query: the token, its user and the user's groups (every permission asks them)."""

    def authenticate_credentials(self, key):
        token = one(with_role_names(self.get_model().objects.select_related("user").filter(key=key), "user__"))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        remember_roles(token.user, token.role_names)
        return token.user, token

    def authenticate(self, request):
        return _kept_to_portal(request, super().authenticate(request))


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request):
        return _kept_to_portal(request, super().authenticate(request))
