"""Routes of the Anthropic-format partner API, under /anthropic/ (an Anthropic client's base_url points here)."""

from __future__ import annotations

from django.urls import path, re_path

from . import anthropic

urlpatterns = [
    path("v1/messages", anthropic.messages, name="anthropic-messages"),
    path("v1/models", anthropic.models, name="anthropic-models"),
    path("v1/models/<str:model_id>", anthropic.models, name="anthropic-model"),
    re_path(r"^(?P<path>.*)$", anthropic.not_found),
]
