from __future__ import annotations

from django.apps import AppConfig


class RatelimitsConfig(AppConfig):
    name = "ratelimits"
    verbose_name = "Rate limits and quotas"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import Tier, UserLimit
        from .selectors import limits_cache_clear

        for model in (Tier, UserLimit):
            post_save.connect(limits_cache_clear, sender=model, dispatch_uid=f"limits-cache-{model.__name__}-save")
            post_delete.connect(limits_cache_clear, sender=model, dispatch_uid=f"limits-cache-{model.__name__}-delete")
