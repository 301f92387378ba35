"""Routes of the partner API, under /v1/ (OpenAI's base URL shape: point any client's base_url here)."""

from __future__ import annotations

from django.urls import path, re_path

from . import v1

urlpatterns = [
    path("models", v1.models_list, name="v1-models"),
    path("chat/completions", v1.chat_completions, name="v1-chat-completions"),
    path("completions", v1.completions, name="v1-completions"),
    re_path(r"^(?P<path>.*)$", v1.not_found),
]
