"""The OpenAPI schema (/api/v1/schema/): drf-spectacular's, with the error answers every operation
may give, as `core.api_errors.exception_handler` and DRF give them."""

from drf_spectacular import openapi
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# A 400 names the fields it refuses, or says why in "detail".
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {},
    "description": '{"field": ["message"]} or {"detail": "message"}',
}

REFUSED = OpenApiResponse(VALIDATION_ERROR_SCHEMA, description="Refused input.")


def conflict(description: str) -> OpenApiResponse:
    """Return a 409's documentation: `description` says which state refuses the operation."""
    return OpenApiResponse(ErrorSerializer, description=description)


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


class PortalAwareSessionScheme(SessionScheme):
    """The browser's session, as DRF's (api.authentication's keeps a customer's contact to the portal's API)."""

    target_class = "api.authentication.SessionAuthentication"
