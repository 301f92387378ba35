from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.contrib import admin

        # The admin's home page is the operators' dashboard (dashboard.views.dashboard_callback fills it).
        admin.site.index_template = "dashboard/index.html"

        from django.db.models.signals import post_delete, post_save

        from serving.registry import staff_overrides_reader_set

        from .models import ModelSetting
        from .selectors import model_setting_overrides

        staff_overrides_reader_set(model_setting_overrides)

        from common.audit import staff_acted

        from .services import staff_action_recorded

        staff_acted.connect(staff_action_recorded, dispatch_uid="dashboard-audit-record")

        post_save.connect(_forget_model_settings, sender=ModelSetting, dispatch_uid="forget-model-settings-save")
        post_delete.connect(_forget_model_settings, sender=ModelSetting, dispatch_uid="forget-model-settings-delete")


def _forget_model_settings(**_kwargs: object) -> None:
    """The model registry caches staff's settings for a moment: a change here takes effect at once."""
    from django.db import transaction

    from serving.registry import forget_staff_overrides

    forget_staff_overrides()
    transaction.on_commit(forget_staff_overrides)
