from __future__ import annotations

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"

    def ready(self) -> None:
        from . import logging  # noqa: F401 - connects the Celery signals that put the ids on task log lines
