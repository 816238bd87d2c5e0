"""Writes of the audit app: record a billing event; count, check and clear failed logins."""

import datetime
import math
from collections.abc import Mapping

from django.conf import settings
from django.db import models
from django.utils import timezone, translation

from .models import AuditEvent, LoginFailure


def _who(actor) -> tuple:
    """Return (the user, their username as it is now); no one for a command."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None  # an anonymous request changes nothing, but a command passes no one
    return actor, actor.get_username() if actor else ""


def _repr(obj: models.Model) -> str:
    """What the event calls `obj`, as recorded: in the site's language, whoever's request records it (a record is
    never translated; its sentence is, when read)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(obj)[:200]


def audit_record(*, action: str, obj: models.Model, actor=None, changes: Mapping | None = None) -> AuditEvent:
    """Append an event: `actor` did `action` to `obj`; `changes` says what ({"field": [before, after]}).

    Call it inside the service's transaction: the event is kept exactly when the change is.
    """
    actor, name = _who(actor)
    return AuditEvent.objects.create(
        actor=actor, actor_name=name, action=action,
        object_type=obj._meta.label_lower, object_id=obj.pk, object_repr=_repr(obj),
        changes=dict(changes or {}),
    )


def audit_record_many(*, action: str, objects: list[tuple[models.Model, Mapping]], actor=None) -> int:
    """Append one event per (object, changes), in one INSERT: a bulk action costs the same queries
    for ten entries or ten thousand. Inside the service's transaction, like `audit_record`."""
    actor, name = _who(actor)
    with translation.override(settings.LANGUAGE_CODE):  # as _repr, once for the list
        events = [AuditEvent(actor=actor, actor_name=name, action=action, object_type=obj._meta.label_lower,
                             object_id=obj.pk, object_repr=str(obj)[:200], changes=dict(changes))
                  for obj, changes in objects]
    # One INSERT on PostgreSQL whatever the count (psycopg binds client-side); Django batches for SQLite's limit.
    return len(AuditEvent.objects.bulk_create(events))


def field_changes(before: Mapping, after: Mapping) -> dict:
    """Return {"field": [before, after]} for the fields whose value differs."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


# --- Failed logins --------------------------------------------------------------------

def _key(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _window() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def login_locked_for(*, username: str, ip: str | None) -> int:
    """Return the seconds before `username` may try again from `ip`; 0 when not locked.

    Locked while LOGIN_FAILURE_LIMIT failures of the pair fall within the last LOGIN_LOCKOUT_SECONDS.
    """
    limit, now = settings.LOGIN_FAILURE_LIMIT, timezone.now()
    recent = list(LoginFailure.objects.filter(username=_key(username), ip=ip, at__gt=now - _window())
                  .order_by("-at").values_list("at", flat=True)[:limit])
    if len(recent) < limit:
        return 0
    # The lock lifts when the oldest of the last `limit` failures leaves the window.
    return max(math.ceil((recent[-1] + _window() - now).total_seconds()), 1)


def login_failure_record(*, username: str, ip: str | None) -> None:
    """Count a failed login of `username` from `ip`, and forget failures older than the window."""
    LoginFailure.objects.filter(at__lte=timezone.now() - _window()).delete()
    LoginFailure.objects.create(username=_key(username), ip=ip)


def login_failures_clear(*, username: str, ip: str | None) -> None:
    """Forget the pair's failures after a successful login."""
    LoginFailure.objects.filter(username=_key(username), ip=ip).delete()
