"""The server `make run` starts, on a database of its own, and the Chromium of the browser tests."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import signed_in_pages

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 120  # migrate and load_demo on 2 busy cores take a few seconds; a hung start fails the test


@dataclass(frozen=True)
class Demo:
    url: str
    env: dict
    log: Path  # the server's and the worker's stderr
    out: Path  # their stdout: the worker's emails (console backend)

    def manage(self, *args: str) -> str:
        """Run a management command on the demo's database and return what it printed."""
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(server: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"scripts/demo.sh exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    pytest.fail(f"the demo server did not answer within {START_SECONDS} s:\n{log.read_text()}")


@pytest.fixture
def demo(tmp_path):
    """`make run` in a temporary folder: scripts/demo.sh with the repository's Python, a fresh SQLite
    file and a free port, in a process group of its own, stopped at the end."""
    # The environment of a newcomer's shell: not the test settings pytest-django exports.
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env["MEDIA_ROOT"] = str(tmp_path / "media")  # the stored invoice PDFs
    url = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "server.log"
    with log.open("w") as stderr, (tmp_path / "stdout.log").open("w") as stdout:
        server = subprocess.Popen([ROOT / "scripts" / "demo.sh", sys.executable, url.removeprefix("http://")],
                                  env=env, stdout=stdout, stderr=stderr, start_new_session=True)
    try:
        wait_until_up(server, url, log)
        yield Demo(url=url, env=env, log=log, out=tmp_path / "stdout.log")
    finally:
        # runserver's autoreloader serves from a child process: stop the whole group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture
def open_browser(request, browser, demo, artifacts):
    """Return `open(username, password)`: a page signed in to the demo server; a failed test screenshots them."""
    yield from signed_in_pages(request, browser, demo.url, artifacts)
