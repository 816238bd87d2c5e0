"""The REST API v1 (/api/v1/), an interface on top of the domain apps: serializers, viewsets,
filters, permissions, routes and the OpenAPI schema. The rules stay below it, in the domain
apps' services and selectors and in core's permissions."""
