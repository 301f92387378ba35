from __future__ import annotations

from django.apps import AppConfig


class ResearchConfig(AppConfig):
    """Web search for a turn: the provider, safe fetching, extraction, ranking and the R1 search prompt."""

    name = "research"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import metrics  # noqa: F401 - registers the research metrics in every process that serves /metrics
