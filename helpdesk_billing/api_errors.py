"""The API's exception handler: what the services refuse becomes a 400 or a 409, never a 500.

- Django's `ValidationError` -> 400 `{"field": ["message"]}`, or `{"detail": "message"}`
  when it names no field;
- `core.errors.Conflict` (a document's state forbids it) -> 409 `{"detail": "message"}`;
- deleting a record that others still point at -> 409 `{"detail": "message"}`;
- everything else as Django REST framework answers it.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import ProtectedError, RestrictedError
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from core.errors import Conflict


def validation_error_data(error: ValidationError) -> dict:
    """Return a ValidationError as the API's 400 body."""
    if not hasattr(error, "error_dict"):
        return {"detail": " ".join(error.messages)}
    data = {}
    for field, messages in error.message_dict.items():
        if field == NON_FIELD_ERRORS:
            data["detail"] = " ".join(messages)
        else:
            data[field] = messages
    return data


def renamed(error: ValidationError, rename: dict[str, str]) -> ValidationError:
    """Return `error` with its fields renamed (a service's `minutes` is the API's `duration`)."""
    if isinstance(error, Conflict) or not hasattr(error, "error_dict"):
        return error
    return ValidationError({rename.get(field, field): messages for field, messages in error.message_dict.items()})


def exception_handler(exc, context):
    if isinstance(exc, Conflict):
        set_rollback()
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ValidationError):
        set_rollback()
        return Response(validation_error_data(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        set_rollback()
        users = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        used_by = sorted({str(obj._meta.verbose_name_plural) for obj in users})
        return Response(
            {"detail": f"This record is still used by {', '.join(used_by) or 'other records'} and cannot be deleted."},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


# --- The same errors, in the OpenAPI schema --------------------------------------

class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# A 400 names the fields it refuses, or says why in "detail".
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {},
    "description": '{"field": ["message"]} or {"detail": "message"}',
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with the error answers every operation may give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {"401": (ErrorSerializer, "Not authenticated: send Authorization: Token <key>."),
                  "403": (ErrorSerializer, "Your role does not allow this.")}
        is_list = self._is_list_view()
        if self.method in ("POST", "PUT", "PATCH") or is_list:
            errors["400"] = (VALIDATION_ERROR_SCHEMA, "Refused input.")
        if "{" in self.path or is_list:
            errors["404"] = (ErrorSerializer, "Not found, not visible to you, or no such page.")
        if self.method == "DELETE":
            errors["409"] = (ErrorSerializer, "Still used by other records: not deleted.")
        for code, (schema, description) in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(schema, description=description), code, media_types=["application/json"])
        return dict(sorted(responses.items()))
