"""Background jobs in tests: run the queue in this process, or start real worker processes.

Jobs are rows of the database (django-tasks-db), enqueued inside the transactions that need them, so
a test sees them queued exactly as production would. `run_jobs()` then does what one
`manage.py worker --batch` does, in the test's own transaction. `worker_process()` starts the real
command against the test database, for the tests where a process matters (killed, or two at once):
those need committed data (`django_db(transaction=True)`) and PostgreSQL, whose test database other
processes can open.
"""

import os
import subprocess
import sys
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

ROOT = Path(__file__).resolve().parent.parent


def run_jobs() -> int:
    """Run every queued job here until none is left (jobs queued by jobs included); return how many ran.

    The worker's own loop, without its housekeeping: it closes connections between jobs, which would
    end the test's transaction.
    """
    worker = Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                    max_tasks=None, worker_id="test-run-jobs", excluded_queue_names=[])
    count = 0
    while True:
        with transaction.atomic():
            job = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
            if job is None:
                return count
            job.claim(worker.worker_id)
        worker.run_task(job)
        count += 1


def queued(path: str) -> list[list]:
    """The arguments of the jobs of `path` (e.g. "invoicing.tasks.render_pdf") waiting to run."""
    return [row.args_kwargs["args"] for row in DBTaskResult.objects.filter(task_path=path, status="READY")]


def database_url() -> str:
    db = connection.settings_dict
    assert connection.vendor == "postgresql", "worker processes need a database other processes can open"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_process(*extra: str, env: dict | None = None) -> subprocess.Popen:
    """Start `manage.py worker` on the test database; the caller stops (or kills) it."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-reload", "--interval", "0.1", "--no-startup-delay", *extra],
        cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk_billing.test_settings",
                       "DATABASE_URL": database_url(), **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stored_pdf(invoice) -> bytes:
    """The bytes of the invoice's stored PDF (its job has run)."""
    invoice.refresh_from_db()
    with default_storage.open(invoice.pdf.name, "rb") as file:
        return file.read()
