"""`manage.py worker`: django-tasks-db's db_worker, which also resumes billing runs whose worker was lost.

Run as many as you like, on as many machines (README, Deploy). Every JOB_STALL_SECONDS / 2, each
worker looks for a run step whose job stopped beating (its worker killed, its machine gone) and
enqueues a new job for it (invoicing.runs.runs_recover); the first worker to look wins the step. It also
keeps the daily payment reminders job queued (invoicing.reminders.reminders_schedule) and raises the
billing alerts (reports.alerts.alerts_scan). It lives in the reports app, the top of the domain apps,
so that it may call all of them.
"""

import logging
import threading

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands import db_worker

from invoicing.reminders import reminders_schedule
from invoicing.runs import runs_recover
from reports.alerts import alerts_scan

log = logging.getLogger("reports.worker")


def sweep_forever(interval: float) -> None:
    while True:
        try:
            if resumed := runs_recover():
                log.warning("Resumed billing run steps %s", resumed)
            reminders_schedule()
            alerts_scan()
        except Exception:  # the database restarting, say: try again at the next turn
            log.exception("The sweep failed: stalled billing runs, reminders or alerts")
        finally:
            connection.close()
        threading.Event().wait(interval)


class Command(db_worker.Command):
    help = "Run background jobs (django-tasks-db's db_worker), resuming billing runs whose worker was lost."

    def handle(self, *args, **options):
        interval = max(settings.JOB_STALL_SECONDS / 2, 0.5)
        threading.Thread(target=sweep_forever, args=(interval,), name="run-sweeper", daemon=True).start()
        return super().handle(*args, **options)
