"""The top bar's language choice: English or French, for this browser and, signed in, for the user."""

from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.languages import CODES, language_save


@require_POST
def language_choose(request):
    """Answer in the chosen language from now on: the language cookie for this browser, and the user's own
    setting when signed in (their other browsers and their emails follow it)."""
    language = request.POST.get("language", "")
    if language not in CODES:
        return HttpResponseBadRequest(_("Choose English or French."))
    if request.user.is_authenticated:
        language_save(user=request.user, language=language)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE, httponly=True)
    return response
