from django.db import models
from django.db.models import QuerySet

from .models import AuditEvent


def audit_events_for(*, obj: models.Model) -> QuerySet[AuditEvent]:
    """Return the events recorded about `obj`, oldest first."""
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=obj.pk).order_by("at", "pk")
