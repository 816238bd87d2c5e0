"""/healthz for load balancers, and a database outage answered 503 with a message, never a 500 or a traceback."""

import json
import socket
import sqlite3
from contextlib import contextmanager

import pytest
from django.db import InterfaceError, OperationalError, connection, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from helpdesk_billing.health import UNAVAILABLE, is_outage

from ..conftest import requires_postgres
from ..factories import UserFactory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def database_down():
    """Point the connection at a port nobody listens on, as if PostgreSQL had stopped; put it back after."""
    settings = connection.settings_dict
    saved = settings["HOST"], settings["PORT"]
    connection.close()
    settings["HOST"], settings["PORT"] = "127.0.0.1", free_port()
    try:
        yield
    finally:
        connection.close()
        settings["HOST"], settings["PORT"] = saved


def test_healthz_says_ok_without_a_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "app": "ok", "database": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_answers_head_and_refuses_writes(client, db):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_healthz_reports_the_database_down_then_recovers_by_itself():
    client = Client()
    with database_down():
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "app": "ok", "database": "unavailable: OperationalError"}
    assert client.get("/healthz").status_code == 200


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_pages_and_api_answer_503_with_a_message_while_the_database_is_down():
    # No role group: a transactional test may run after another flushed the groups away.
    agent = UserFactory(username="root", is_superuser=True)
    token = Token.objects.create(user=agent).key
    browser, api = Client(), Client(HTTP_AUTHORIZATION=f"Token {token}")
    browser.force_login(agent)
    with database_down():
        page = browser.get(reverse("ticket_list"))
        assert page.status_code == 503
        assert page["Retry-After"] == "5"
        html = page.content.decode()
        assert "Back in a moment" in html and UNAVAILABLE in html and "Traceback" not in html

        answer = api.post("/api/v1/timesheets/", json.dumps({"ticket": 1, "duration": "1:00"}),
                          content_type="application/json")
        assert answer.status_code == 503
        assert answer.json() == {"detail": UNAVAILABLE}
        assert browser.get(reverse("login")).status_code == 503
    # Back: the next requests work, nothing to restart.
    assert browser.get(reverse("ticket_list")).status_code == 200
    assert api.get("/api/v1/timesheets/").status_code == 200


@pytest.mark.parametrize("error", [OperationalError("server closed the connection unexpectedly"),
                                   InterfaceError("connection already closed")])
def test_a_view_losing_the_database_answers_503(client, db, monkeypatch, error):
    client.force_login(UserFactory(username="agent", role="Agents"))

    def lost(**kwargs):
        raise error

    monkeypatch.setattr("web.views.tickets.tickets_for", lost)
    response = client.get(reverse("ticket_list"))
    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()


def test_an_outage_is_logged_once_as_a_warning(client, db, monkeypatch, caplog):
    """The operator reads one line per request cut, not the same 503 again as a request error."""
    client.force_login(UserFactory(username="agent", role="Agents"))

    def lost(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("web.views.tickets.tickets_for", lost)
    with caplog.at_level("WARNING"):
        assert client.get(reverse("ticket_list")).status_code == 503
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "Database unavailable: GET /tickets/ answered 503 "
                    "(OperationalError: server closed the connection unexpectedly)")]


def test_an_outage_outside_a_view_answers_503_too(db, monkeypatch):
    """A session saved after the view (in a middleware) goes through the 500 handler: 503 as well."""
    from django.contrib.sessions.middleware import SessionMiddleware

    def lost(self, request, response):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(SessionMiddleware, "process_response", lost)
    client = Client(raise_request_exception=False)
    response = client.get(reverse("login"))
    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()


def test_other_errors_stay_500(db, monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="agent", role="Agents"))

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("web.views.tickets.tickets_for", broken)
    response = client.get(reverse("ticket_list"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def refused_statement():
    """Run a statement the database refuses with an OperationalError although it is up: a bug, not an outage."""
    # In a savepoint, so that the test's transaction survives the refusal on PostgreSQL.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT 'a' LIKE %s", ["a" * 60_000])  # over SQLite's 50,000-byte LIKE pattern limit
        else:
            cursor.execute("SET LOCAL statement_timeout = 1")
            cursor.execute("SELECT pg_sleep(1)")  # query_canceled, SQLSTATE 57014


def test_a_statement_the_database_refuses_stays_a_500(db, monkeypatch):
    """A 503 would tell the user to wait for a database that is there, and hide the bug."""
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="agent", role="Agents"))
    monkeypatch.setattr("web.views.tickets.tickets_for", lambda **kwargs: refused_statement())
    response = client.get(reverse("ticket_list"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def sqlite_error(work) -> OperationalError:
    """Return the error Django raises for what the SQLite driver raises doing `work`."""
    try:
        work()
    except sqlite3.OperationalError as error:
        try:
            raise OperationalError(*error.args) from error  # as django.db.utils.DatabaseErrorWrapper does
        except OperationalError as wrapped:
            return wrapped
    raise AssertionError("no error")


def test_a_sqlite_file_that_is_locked_or_missing_is_an_outage(tmp_path):
    """`make run`'s database: another process holding the write lock, or a file that cannot be opened."""
    path = tmp_path / "db.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    locked = sqlite_error(lambda: other.execute("INSERT INTO t VALUES (1)"))
    missing = sqlite_error(lambda: sqlite3.connect(tmp_path / "no folder" / "db.sqlite3"))
    too_complex = sqlite_error(lambda: other.execute("SELECT 'a' LIKE ?", ["a" * 60_000]))
    holder.close()
    other.close()

    assert (str(locked), str(missing), str(too_complex)) == (
        "database is locked", "unable to open database file", "LIKE or GLOB pattern too complex")
    assert (is_outage(locked), is_outage(missing), is_outage(too_complex)) == (True, True, False)
