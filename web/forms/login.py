"""Login forms that throttle password guessing: for the /login/ page and the admin's login."""

import ipaddress
import math

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

from audit.services import login_failure_record, login_failures_clear, login_locked_for


def client_ip(request) -> str | None:
    """Return the address the request came from (REMOTE_ADDR), or None when there is none.

    Behind a reverse proxy that is the proxy's address: the lock is then per username,
    for everyone behind that proxy, unless the proxy hands the server the client's address.
    """
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:  # a Unix socket gives "", or anything but an address
        return None


def locked_error(seconds: int) -> ValidationError:
    minutes = math.ceil(seconds / 60)
    message = ngettext("Too many failed logins for this username from your address. Try again in {minutes} minute, "
                       "or ask a manager to reset your password.",
                       "Too many failed logins for this username from your address. Try again in {minutes} minutes, "
                       "or ask a manager to reset your password.", minutes)
    return ValidationError(message.format(minutes=minutes), code="throttled")


class ThrottledLogin:
    """Refuse a username from an address after LOGIN_FAILURE_LIMIT failed logins within LOGIN_LOCKOUT_SECONDS.

    While locked, the password is not even checked, so guessing on gets nowhere.
    """

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()
        ip = client_ip(self.request)
        if wait := login_locked_for(username=username, ip=ip):
            raise locked_error(wait)
        try:
            cleaned_data = super().clean()
        except ValidationError:
            if self.user_cache is None:  # a wrong password, not a refused account (inactive, not staff)
                login_failure_record(username=username, ip=ip)
                if wait := login_locked_for(username=username, ip=ip):
                    raise locked_error(wait) from None
            raise
        login_failures_clear(username=username, ip=ip)
        return cleaned_data


class LoginForm(ThrottledLogin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLogin, AdminAuthenticationForm):
    pass
