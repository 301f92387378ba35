"""The audit log and Django's admin change history (read-only), and the model registry's switches."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from unfold.admin import ModelAdmin

from .models import AuditEvent, ModelSetting


class ReadOnlyAdmin(ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_email", "action", "object_type", "object_id", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_email", "object_id", "object_repr"]
    date_hierarchy = "created_at"


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    """Every add, change and delete made through the admin forms and actions: who, when, what."""

    list_display = ["action_time", "user", "action_flag", "content_type", "object_repr", "change_message"]
    list_filter = ["action_flag", "content_type"]
    search_fields = ["object_repr", "user__email", "change_message"]
    list_select_related = ["user", "content_type"]
    date_hierarchy = "action_time"


@admin.register(ModelSetting)
class ModelSettingAdmin(ModelAdmin):
    """One row per model of the registry (settings.WHALE_MODELS); edits are kept in Django's admin history."""

    list_display = ["name", "enabled", "display_name", "queue", "updated_at"]
    list_editable = ["enabled"]
    fields = ["name", "enabled", "display_name", "description", "queue", "updated_at"]
    readonly_fields = ["name", "queue", "updated_at"]
    actions = ["disable_models", "enable_models"]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        for name in settings.WHALE_MODELS:  # a model added to the settings shows up here, enabled
            ModelSetting.objects.get_or_create(name=name)
        return super().changelist_view(request, extra_context)

    @admin.display(description="GPU queue")
    def queue(self, obj: ModelSetting) -> str:
        return str(settings.WHALE_MODELS.get(obj.name, {}).get("queue", "(not in the settings)"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Disable: clients cannot pick them, new turns are refused")
    def disable_models(self, request: HttpRequest, queryset: QuerySet[ModelSetting]) -> None:
        self._switch(request, queryset, enabled=False)

    @admin.action(description="Enable")
    def enable_models(self, request: HttpRequest, queryset: QuerySet[ModelSetting]) -> None:
        self._switch(request, queryset, enabled=True)

    def _switch(self, request: HttpRequest, queryset: QuerySet[ModelSetting], *, enabled: bool) -> None:
        changed = list(queryset.exclude(enabled=enabled))
        for setting in changed:
            setting.enabled = enabled
            setting.save(update_fields=["enabled", "updated_at"])
        if changed:
            LogEntry.objects.log_actions(
                user_id=request.user.pk,  # type: ignore[arg-type]
                queryset=changed,
                action_flag=CHANGE,
                change_message="Enabled" if enabled else "Disabled",
            )
        self.message_user(request, f"{len(changed)} model(s) {'enabled' if enabled else 'disabled'}.")
