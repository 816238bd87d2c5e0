"""A deployment made by the README's Deploy instructions, once per test run: every command of its code
block, in order, then gunicorn serving on a free loopback port, stopped at the end.

What the test changes, and why: `python` and `gunicorn` are this virtualenv's; `SECRET_KEY` is the
key the block's first command printed; `DATABASE_URL` is a database created for the deployment on
the suite's PostgreSQL server, and dropped afterwards (never the suite's own test database; the
instructions are PostgreSQL's, so `make test`'s SQLite pass skips them); `STATIC_ROOT` is a temporary folder;
`createsuperuser` gets `--no-input` and its password in `DJANGO_SUPERUSER_PASSWORD` (Django's way
for scripts); gunicorn binds 127.0.0.1 on a free port. Everything else runs as written.
"""

import http.client
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PASSWORD = secrets.token_urlsafe(16)


def deploy_commands() -> list[str]:
    """Return the lines of the README's Deploy code block, without comments and blank lines."""
    section = (ROOT / "README.md").read_text().split("\n## Deploy\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def fresh_database():
    """Yield the URL of an empty database on the suite's PostgreSQL server; drop it afterwards."""
    import psycopg2

    url = os.environ["DATABASE_URL"]

    name = f"hb_deploy_{secrets.token_hex(4)}"
    server = psycopg2.connect(url)
    server.autocommit = True
    try:
        with server.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlsplit(url)._replace(path=f"/{name}").geturl()
        finally:
            with server.cursor() as cursor:
                cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        server.close()


@dataclass
class Answer:
    status: int
    headers: object  # an email.message.Message: case-insensitive, get_all() for Set-Cookie
    body: bytes

    def text(self) -> str:
        return self.body.decode()


@dataclass
class Deployment:
    port: int
    host: str  # the public host name the README sets in ALLOWED_HOSTS
    static_root: Path
    log: Path  # gunicorn's stderr
    ran: list[str]  # the README lines run, in order
    exported: dict[str, str]  # the variables as the README sets them
    env: dict  # the environment the commands ran in
    worker_log: Path  # the worker's stderr
    cookies: dict[str, str] = field(default_factory=dict)

    def fetch(self, path: str, *, method="GET", body: bytes | None = None, headers=None, proxy=True) -> Answer:
        """Send a request as the TLS proxy forwards it (`proxy=False`: plain http, as a load balancer's check)."""
        sent = {"Host": self.host, **(headers or {})}
        if proxy:
            sent["X-Forwarded-Proto"] = "https"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            answer = Answer(response.status, response.msg, response.read())
        finally:
            connection.close()
        for header in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return answer


def run(line: str, env: dict, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(shlex.split(line), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                            **kwargs)
    assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def deployment(tmp_path_factory):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the Deploy instructions are for PostgreSQL: make test's first pass runs them")
    folder = tmp_path_factory.mktemp("deploy")
    static_root = folder / "static"
    log = folder / "gunicorn.err"
    # The environment of a fresh shell: none of the suite's settings.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "SECURE_", "CSRF_", "DEBUG", "DATABASE_URL", "SECRET_KEY",
                                  "ALLOWED_HOSTS", "STATIC_ROOT", "MEDIA_ROOT", "LOG_LEVEL", "CONN_MAX_AGE",
                                  "TEST_MEDIA_ROOT"))}
    ran, exported, key, process, worker = [], {}, None, None, None
    with fresh_database() as database_url:
        ours = {"DATABASE_URL": database_url, "STATIC_ROOT": str(static_root), "MEDIA_ROOT": str(folder / "media")}
        try:
            for readme_line in deploy_commands():
                line, words = readme_line, shlex.split(readme_line)
                if words[0] == "export":
                    export(words[1:], exported, env, {**ours, "SECRET_KEY": key})
                elif words[:3] == ["python", "manage.py", "worker"]:
                    worker = start_worker(words, env, folder)
                elif words[0] == "python" and words[1] == "-c":
                    key = run(line.replace("python", sys.executable, 1), env).stdout.strip()
                elif words[0] == "python":
                    line = line.replace("python", sys.executable, 1) + (" --no-input" * (words[2] == "createsuperuser"))
                    run(line, {**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD})
                elif words[0] == "gunicorn":
                    port = free_port()
                    bind = words[words.index("--bind") + 1]
                    line = line.replace(bind, f"{HOST}:{port}").replace("gunicorn", f"{sys.executable} -m gunicorn", 1)
                    process = subprocess.Popen(shlex.split(line), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                               stderr=log.open("wb"), start_new_session=True)
                else:
                    raise AssertionError(f"the test does not know how to run: {line}")
                ran.append(readme_line)
            assert process is not None, "the Deploy block starts no server"
            assert worker is not None, "the Deploy block starts no worker"
            deployment = Deployment(port=port, host=exported["ALLOWED_HOSTS"], static_root=static_root, log=log,
                                    ran=ran, exported=exported, env=env, worker_log=folder / "worker.err")
            wait_healthy(deployment, process)
            yield deployment
        finally:
            stop(*[started for started in (process, worker) if started is not None])


def export(assignments: list[str], exported: dict, env: dict, ours: dict) -> None:
    """Record the README's `export NAME=value`s, and set them in `env` (ours replacing the README's where given)."""
    for assignment in assignments:
        name, value = assignment.split("=", 1)
        exported[name] = value
        env[name] = ours.get(name, value)


def start_worker(words: list[str], env: dict, folder: Path) -> subprocess.Popen:
    """Start the README's worker line in the background, its output in `folder`."""
    return subprocess.Popen([sys.executable, *words[1:]], cwd=ROOT, env=env, stdout=(folder / "worker.out").open("wb"),
                            stderr=(folder / "worker.err").open("wb"), start_new_session=True)


def wait_healthy(deployment: Deployment, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn exited:\n{deployment.log.read_text()}"
        try:
            if deployment.fetch("/healthz", proxy=False).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer /healthz:\n{deployment.log.read_text()}")


def stop(*processes: subprocess.Popen) -> None:
    """Stop gunicorn and the worker as a process manager does (SIGTERM), a whole group if it lingers."""
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
