"""An uploaded file's original bytes as a response, the same from the app's API and the partner API."""

from __future__ import annotations

from django.core.files.storage import storages
from django.http import FileResponse

from .models import UploadedFile


def original_response(file: UploadedFile) -> FileResponse:
    """The original, as an attachment that is never rendered from our origin: an HTML or SVG upload cannot
    run as our page, and no cache keeps a copy."""
    response = FileResponse(
        storages["files"].open(file.blob, "rb"), as_attachment=True, filename=file.name, content_type=file.mime
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
