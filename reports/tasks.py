"""The reports app's background job (Django's tasks framework, django-tasks-db backend)."""

from django.tasks import task


@task
def send_alerts() -> int:
    """Email the alerts raised and not emailed yet (alerts.alerts_send): each at most once."""
    from .alerts import alerts_send

    return alerts_send()
