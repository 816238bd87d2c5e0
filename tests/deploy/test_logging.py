"""With DEBUG off, a request that fails is one record on stderr with its traceback; nothing else is logged.

Each case runs in a fresh process with the production settings, as gunicorn would load them, and
reads what that process wrote to its stderr (file descriptor 2). The failure is a real one: the
function /healthz reads the database's state from raises, and the test client answers with the
500 page instead of re-raising, as a server does. The pages link hashed static files, so the
process uses those the deployment (conftest.py) collected.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

REQUESTS = """
import django
django.setup()
from django.test import Client
from helpdesk_billing import health

def broken(alias="default"):
    raise RuntimeError("the database state could not be read")

health.database_state = broken
client = Client(raise_request_exception=False)
statuses = [client.get(path, secure=True, HTTP_HOST=host).status_code for path, host in %r]
print(statuses)
"""


def serve(requests: list[tuple[str, str]], tmp_path, deployment, **env) -> tuple[list[int], str]:
    """Send `requests` ((path, Host) pairs) to the app in a fresh production process; return the
    statuses and what it wrote on stderr."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SECURE_", "DEBUG"))}
    environ.update({"DJANGO_SETTINGS_MODULE": "helpdesk_billing.settings", "DEBUG": "false",
                    "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "billing.example.com",
                    # No query reaches it; set so that nothing could touch the project's own file.
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
                    "STATIC_ROOT": str(deployment.static_root), **env})
    result = subprocess.run([sys.executable, "-c", REQUESTS % (requests,)], cwd=ROOT, env=environ,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return eval(result.stdout), result.stderr  # a list of ints, printed by our own script


RECORD = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[(\w+)\] ([\w.]+): (.*)$")


def records(stderr: str) -> list[tuple[str, str, str]]:
    """Return (level, logger, message) of each record: the lines that start one."""
    return [match.groups() for line in stderr.splitlines() if (match := RECORD.match(line))]


def test_a_server_error_is_one_record_with_its_traceback(tmp_path, deployment):
    statuses, stderr = serve([("/healthz", "billing.example.com")], tmp_path, deployment)
    assert statuses == [500]
    assert records(stderr) == [("ERROR", "django.request", "Internal Server Error: /healthz")]
    # The record carries the traceback, down to the line that raised.
    assert stderr.count("Traceback (most recent call last):") == 1
    assert 'in broken\n    raise RuntimeError("the database state could not be read")' in stderr
    assert stderr.rstrip().endswith("RuntimeError: the database state could not be read")


def test_client_errors_are_not_logged_but_a_wrong_host_is_one_line(tmp_path, deployment):
    statuses, stderr = serve([("/no-such-page/", "billing.example.com"), ("/login/", "attacker.example")], tmp_path,
                             deployment)
    assert statuses == [404, 400]
    # A 404 is the client's business; a Host the app does not serve is worth one line, without a traceback.
    assert records(stderr) == [("WARNING", "django.security.DisallowedHost",
                                "Invalid HTTP_HOST header: 'attacker.example'. You may need to add "
                                "'attacker.example' to ALLOWED_HOSTS.")]
    assert "Traceback" not in stderr


@pytest.mark.parametrize("level, logged", [("INFO", True), ("WARNING", False)])
def test_log_level_sets_what_else_is_logged(tmp_path, deployment, level, logged):
    """The app's own records follow LOG_LEVEL (here an INFO one of ours); request errors are logged whatever it is."""
    script = ("import django, logging; django.setup(); "
              "logging.getLogger('invoicing').info('Invoice INV/2026/00001 posted')")
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk_billing.settings", "LOG_LEVEL": level}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environ, capture_output=True, text=True,
                            timeout=60)
    assert records(result.stderr) == ([("INFO", "invoicing", "Invoice INV/2026/00001 posted")] if logged else [])
    statuses, stderr = serve([("/healthz", "billing.example.com")], tmp_path, deployment, LOG_LEVEL="CRITICAL")
    assert records(stderr) == [("ERROR", "django.request", "Internal Server Error: /healthz")]
