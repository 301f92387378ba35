"""URL routes for files (included under /api/v1/)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import api

urlpatterns: list[URLPattern] = [
    path("files", api.FileUploadApi.as_view(), name="file-list"),
    path("files/<uuid:file_id>", api.FileDetailApi.as_view(), name="file-detail"),
    path("files/<uuid:file_id>/content", api.FileContentApi.as_view(), name="file-content"),
    path("files/<uuid:file_id>/download", api.FileDownloadApi.as_view(), name="file-download"),
]
