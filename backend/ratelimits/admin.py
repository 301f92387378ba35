"""Admin for tiers (edit limits), users' tier assignments and overrides, and read-only usage per day."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from .models import Tier, UsageDay, UserLimit


@admin.register(Tier)
class TierAdmin(ModelAdmin):
    list_display = (
        "slug",
        "name",
        "priority",
        "requests_per_minute",
        "turns_per_day",
        "reasoning_turns_per_day",
        "search_turns_per_day",
        "tokens_per_day",
        "concurrent_turns",
    )
    ordering = ("priority", "slug")


@admin.register(UserLimit)
class UserLimitAdmin(ModelAdmin):
    list_display = ("user", "tier")
    list_filter = ("tier",)
    search_fields = ("user__email",)
    autocomplete_fields = ("user",)


@admin.register(UsageDay)
class UsageDayAdmin(ModelAdmin):
    list_display = (
        "date",
        "user",
        "api_key_id",
        "turns",
        "reasoning_turns",
        "search_turns",
        "prompt_tokens",
        "cached_tokens",
        "completion_tokens",
        "errors",
        "files",
        "file_bytes",
    )
    list_filter = ("date",)
    search_fields = ("user__email",)
    date_hierarchy = "date"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
