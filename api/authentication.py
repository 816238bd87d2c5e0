"""The API's token authentication, reading the user's roles with the token."""

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from core.db import one
from core.roles import remember_roles, with_role_names


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
