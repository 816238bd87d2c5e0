"""The bench databases: created from a migrated template, and switched under Django's `default`."""

import contextlib
import os
import subprocess
import sys

import psycopg2
from django.conf import settings
from django.db import connections


def _server_dsn(name: str) -> str:
    db = settings.DATABASES["default"]
    return (f"dbname={name} user={db['USER']} host={db['HOST']} port={db['PORT']}"
            + (f" password={db['PASSWORD']}" if db.get("PASSWORD") else ""))


def admin(sql: str) -> None:
    """Run `sql` outside a transaction on the server's maintenance database."""
    conn = psycopg2.connect(_server_dsn("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


def create_databases(aliases: list[str]) -> None:
    """(Re)create a migrated template, then one copy of it per alias."""
    names = settings.DATABASE_NAMES
    for name in [names["template"], *(names[a] for a in aliases)]:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{names["template"]}"')
    db = settings.DATABASES["template"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{names['template']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "helpdesk_billing.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], check=True, env=env)
    for alias in aliases:
        admin(f'CREATE DATABASE "{names[alias]}" TEMPLATE "{names["template"]}"')


@contextlib.contextmanager
def use(alias: str):
    """Run the block with Django's `default` connection on the data set `alias`."""
    previous = connections["default"]
    connections["default"] = connections[alias]
    try:
        yield connections[alias]
    finally:
        connections["default"] = previous
