"""Health and database outages: `/healthz` for load balancers, and a 503 instead of a 500 while the
database is away.

A lost database connection raises django.db's OperationalError or InterfaceError. The
middleware turns those into a 503 with a message (JSON under /api/, a page elsewhere)
and a Retry-After, when the driver's error says the database went away (`is_outage`): an
OperationalError also reports a statement the database refused (SQLite's "LIKE or GLOB
pattern too complex"), which is a bug to fix, so a 500 with its traceback in the log.
`server_error`, the 500 handler, does the same for the few raised outside a view (a session
saved after the response). Django reconnects by itself on the next request (CONN_HEALTH_CHECKS),
so nothing needs restarting once the database is back.
"""

import logging
import sqlite3
import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext, gettext_noop
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# In English; answered in the request's language (gettext when answering).
UNAVAILABLE = gettext_noop("The database is unavailable, so nothing was saved. Try again in a moment.")
RETRY_AFTER_SECONDS = 5
# PostgreSQL's SQLSTATE classes of a server that went away: connection exception, insufficient
# resources (too many connections, disk full), shutdown or restart in progress, system error.
PG_OUTAGE_STATES = ("08", "53", "57P", "58")
# SQLite's result codes of a file that cannot be used now: busy or locked by another
# process, unreadable, full, missing.
SQLITE_OUTAGE_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
                       sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN}


def is_outage(error: BaseException | None) -> bool:
    """Return whether `error` says the database is unavailable, rather than that it refused a statement."""
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__  # the driver's error, which Django wraps
    if isinstance(cause, sqlite3.Error):
        return cause.sqlite_errorcode & 0xFF in SQLITE_OUTAGE_CODES  # the primary code of an extended one
    state = getattr(cause, "pgcode", None)
    # No SQLSTATE: the connection broke or never opened, so the server did not answer at all.
    return state is None or state.startswith(PG_OUTAGE_STATES)


def database_unavailable(request) -> HttpResponse:
    """Return the 503 answer: JSON for the API, a page for a browser."""
    message = gettext(UNAVAILABLE)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        # A page of its own: base.html would ask the database who the user is.
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Said once, by the caller's warning: Django would log every 5xx again as an ERROR.
    response._has_been_logged = True
    return response


class DatabaseUnavailableMiddleware:
    """Answer 503 with a message, not a 500 with a traceback, when a view loses the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_outage(exception):
            reason = str(exception).strip().splitlines()[:1] or [""]
            logger.warning("Database unavailable: %s %s answered 503 (%s: %s)", request.method, request.path,
                           type(exception).__name__, reason[0])
            return database_unavailable(request)
        return None


def server_error(request):
    """The 500 handler: a 503 when the error was the database going away, else Django's 500 page."""
    if is_outage(sys.exc_info()[1]):
        return database_unavailable(request)
    return defaults.server_error(request)


def database_state(alias: str = "default") -> str:
    """Return "ok" when the database answers a query, else why not."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        try:
            connection.close()  # the next request opens a fresh connection
        except DatabaseError:
            pass
        return f"unavailable: {type(error).__name__}"
    return "ok"


@never_cache
@require_safe
def healthz(request):
    """For load balancers, no login: 200 {"status": "ok"} when the app and its database answer, else 503."""
    database = database_state()
    healthy = database == "ok"
    return JsonResponse({"status": "ok" if healthy else "unavailable", "app": "ok", "database": database},
                        status=200 if healthy else 503)
