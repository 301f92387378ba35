"""Admin for API keys (created here with the secret shown once, revoked by an action) and completions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from unfold.admin import ModelAdmin

from . import services
from .models import ApiKey, Completion


@admin.register(ApiKey)
class ApiKeyAdmin(ModelAdmin):
    list_display = ("name", "prefix", "user", "tier", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("tier",)
    search_fields = ("name", "prefix", "user__email")
    autocomplete_fields = ("user",)
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.api_key_create(user=obj.user, name=obj.name, expires_at=obj.expires_at, tier=obj.tier)
        overrides = {name: getattr(obj, name) for name in form.changed_data if hasattr(created.key, name)}
        for name, value in overrides.items():
            setattr(created.key, name, value)
        created.key.save()
        obj.pk = created.key.pk
        messages.warning(request, f"The new key's secret, shown only this once: {created.secret}")

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        live = list(queryset.filter(revoked_at__isnull=True))
        count = ApiKey.objects.filter(pk__in=[key.pk for key in live]).update(revoked_at=timezone.now())
        for key in live:  # who revoked which key, and when, in the admin's change history
            self.log_change(request, key, "Revoked the key.")
        messages.success(request, f"Revoked {count} key(s).")


@admin.register(Completion)
class CompletionAdmin(ModelAdmin):
    list_display = (
        "id",
        "api_key",
        "end_user",
        "model",
        "status",
        "prompt_tokens",
        "cached_tokens",
        "completion_tokens",
        "created_at",
    )
    list_filter = ("status", "model")
    # A partner's end user (`user` / `metadata.user_id`): search by it to see that end user's usage.
    search_fields = ("api_key__prefix", "user__email", "end_user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
