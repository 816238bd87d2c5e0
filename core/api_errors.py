"""The API's exception handler: what the services refuse becomes a 400 or a 409, never a 500.

- Django's `ValidationError` -> 400 `{"field": ["message"]}`, or `{"detail": "message"}`
  when it names no field;
- `core.errors.Conflict` (a document's state forbids it) -> 409 `{"detail": "message"}`;
- deleting a record that others still point at -> 409 `{"detail": "message"}`;
- everything else as Django REST framework answers it.

The same answers are documented in the OpenAPI schema by `api.schema.AutoSchema`.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from .errors import Conflict, error_message


def validation_error_data(error: ValidationError) -> dict:
    """Return a ValidationError as the API's 400 body."""
    if not hasattr(error, "error_dict"):
        return {"detail": error_message(error)}
    data = {}
    for field, messages in error.message_dict.items():
        if field == NON_FIELD_ERRORS:
            data["detail"] = " ".join(messages)
        else:
            data[field] = messages
    return data


def exception_handler(exc, context):
    if isinstance(exc, Conflict):
        set_rollback()
        return Response({"detail": error_message(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ValidationError):
        set_rollback()
        return Response(validation_error_data(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        set_rollback()
        users = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        used_by = sorted({str(obj._meta.verbose_name_plural) for obj in users})
        detail = (_("This record is still used by {records} and cannot be deleted.").format(records=", ".join(used_by))
                  if used_by else _("This record is still used by other records and cannot be deleted."))
        return Response({"detail": detail}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
