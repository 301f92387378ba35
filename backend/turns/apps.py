from __future__ import annotations

from django.apps import AppConfig


class TurnsConfig(AppConfig):
    name = "turns"
    verbose_name = "Chat turns"
