"""Responses the screens and the API build alike."""

from django.core.files import File
from django.http import FileResponse, HttpResponse


def attachment(content: bytes | File, filename: str, content_type: str) -> HttpResponse:
    """A download: bytes made now in one response, a stored file streamed from where it is kept."""
    if isinstance(content, bytes):
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return FileResponse(content, as_attachment=True, filename=filename, content_type=content_type)
