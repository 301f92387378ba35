"""files/downloads.py: the original bytes as the app's API and the partner API both send them."""

from __future__ import annotations

from rest_framework.test import APIClient

from files.downloads import original_response
from files.models import UploadedFile

from .conftest import upload


def test_the_original_is_an_attachment_never_sniffed_rendered_or_cached(api: APIClient) -> None:
    markup = b"<html><body><script>alert(1)</script>hello</body></html>"
    file = UploadedFile.objects.get(id=upload(api, markup, "page.html").json()["id"])

    response = original_response(file)

    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response["Content-Type"] == file.mime
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == markup  # type: ignore[arg-type]
