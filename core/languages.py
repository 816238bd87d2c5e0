"""Which language a request is answered in: the one the user saved, else the browser's.

Django's LocaleMiddleware reads the language cookie (set by the top bar's choice) and the browser's
Accept-Language; a signed-in user's saved language (core.models.Preferences) comes after it and wins,
so it follows them to another browser, and their emails are written in it (`language_of`).
"""

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import translation

from .models import Preferences

CODES = {code for code, _ in settings.LANGUAGES}


def with_language(users: QuerySet, path: str = "") -> QuerySet:
    """`users` (or rows reaching a user by `path`) with their saved language as `saved_language`, in the same
    query: the session's user is read with it (core.permissions.GroupsBackend.get_user)."""
    pk = OuterRef(f"{path}pk" if path else "pk")
    return users.annotate(saved_language=Subquery(Preferences.objects.filter(user=pk).values("language")[:1]))


def language_of(user) -> str:
    """The language to write to `user` in: theirs, else the site's."""
    saved = getattr(user, "saved_language", None)
    if saved is None and getattr(user, "pk", None):
        saved = Preferences.objects.filter(user=user).values_list("language", flat=True).first()
    return saved if saved in CODES else settings.LANGUAGE_CODE


@transaction.atomic
def language_save(*, user, language: str) -> None:
    """Save `language` ("" for the browser's) as the user's own."""
    if language not in CODES | {""}:
        raise ValueError(f"Unknown language {language!r}.")
    Preferences.objects.update_or_create(user=user, defaults={"language": language})
    user.saved_language = language


class UserLanguageMiddleware:
    """Answer a signed-in user in the language they saved (after LocaleMiddleware and authentication)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = self._saved(request)
        if language in CODES:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)

    @staticmethod
    def _saved(request) -> str | None:
        user = getattr(request, "user", None)
        try:
            return getattr(user, "saved_language", None) if user is not None and user.is_authenticated else None
        except DatabaseError:
            # The database is down: the view reads the user again and answers 503 (helpdesk_billing.health),
            # in the browser's language; here the request goes on as if no language were saved.
            return None
