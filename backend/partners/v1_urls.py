"""Routes of the partner API, under /v1/ (OpenAI's base URL shape: point any client's base_url here)."""

from __future__ import annotations

from django.urls import path, re_path

from . import files_v1, v1

urlpatterns = [
    path("models", v1.models_list, name="v1-models"),
    path("chat/completions", v1.chat_completions, name="v1-chat-completions"),
    path("completions", v1.completions, name="v1-completions"),
    path("files", files_v1.files_collection, name="v1-files"),
    path("files/<str:file_id>", files_v1.file_detail, name="v1-file"),
    path("files/<str:file_id>/content", files_v1.file_content, name="v1-file-content"),
    re_path(r"^(?P<path>.*)$", v1.not_found),
]
