"""Target 4: the app under gunicorn (2 workers, loopback only), driven by 8 `hey` clients.

Every run sends a fixed number of requests and stops by itself; the server is stopped after.
Both endpoints are measured against the same server, in alternating rounds.
"""

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(alias: str):
    """Run gunicorn on the data set `alias` at a free loopback port; yield its base URL."""
    db = settings.DATABASES[alias]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk_billing.settings",
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DEBUG": "false", "SECURE_SSL_REDIRECT": "false", "ALLOWED_HOSTS": "127.0.0.1",
        "CONN_MAX_AGE": "600",  # persistent connections, as in production
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "helpdesk_billing.wsgi:application", "--workers", str(WORKERS),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_ready(url: str, token: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            request = urllib.request.Request(f"{url}/api/v1/", headers={"Authorization": f"Token {token}"})
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _hey(url: str, token: str, requests: int, body: dict | None) -> list[str]:
    command = ["hey", "-n", str(requests), "-c", "1", "-t", "30", "-H", f"Authorization: Token {token}"]
    if body is not None:
        command += ["-m", "POST", "-T", "application/json", "-d", json.dumps(body)]
    return [*command, url]


def run_clients(url: str, token: str, *, requests: int, bodies: list[dict | None]) -> float:
    """Run one `hey` client per body, each sending `requests` requests one after the other, all
    clients at once; return the requests per second of them all. Every answer must be a success."""
    started = time.perf_counter()
    clients = [subprocess.Popen(_hey(url, token, requests, body), stdout=subprocess.PIPE, text=True)
               for body in bodies]
    outputs = [client.communicate(timeout=600)[0] for client in clients]
    elapsed = time.perf_counter() - started
    for client, output in zip(clients, outputs):
        codes = dict(re.findall(r"\[(\d{3})\]\s+(\d+) responses", output))
        if client.returncode or set(codes) - {"200", "201"} or sum(map(int, codes.values())) != requests:
            raise RuntimeError(f"hey got other answers than 200/201 from {url}:\n{output}")
    return requests * len(bodies) / elapsed


def measure(alias: str, token: str, tickets: list[int], *, rounds: int, ping_requests: int,
            post_requests: int) -> dict:
    """Return the median requests/s of the trivial endpoint and of logging time, on one server.

    One client per ticket (8 agents, each logging on a ticket of their own line), and as many
    clients asking the trivial endpoint.
    """
    posts = [{"ticket": ticket, "duration": "0:15", "description": "Load test"} for ticket in tickets]
    pings = [None] * len(tickets)
    with server(alias) as url:
        wait_ready(url, token)
        ping_url, post_url = f"{url}/api/v1/", f"{url}/api/v1/timesheets/"
        run_clients(ping_url, token, requests=ping_requests // 5, bodies=pings)  # warm-up
        run_clients(post_url, token, requests=post_requests // 5, bodies=posts)
        results = {"ping": [], "post": []}
        for _ in range(rounds):
            results["ping"].append(run_clients(ping_url, token, requests=ping_requests, bodies=pings))
            results["post"].append(run_clients(post_url, token, requests=post_requests, bodies=posts))
    return {name: statistics.median(values) for name, values in results.items()}
