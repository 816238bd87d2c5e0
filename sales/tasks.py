"""The sales app's background jobs (Django's tasks framework, django-tasks-db backend)."""

from django.tasks import task


@task
def send_contact_link(user_id: int, kind: str, site: str) -> bool:
    """Email a contact their invitation or password link (contacts.contact_link_send)."""
    from .contacts import contact_link_send

    return contact_link_send(user_id=user_id, kind=kind, site=site)
