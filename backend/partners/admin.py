"""Admin for API keys (created here with the secret shown once, revoked by an action) and completions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from unfold.admin import ModelAdmin

from . import selectors, services
from .models import ApiKey, Completion

ADMIN_USAGE_DAYS = 30
USAGE_COLUMNS = (
    "date",
    "requests",
    "prompt_tokens",
    "cached_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "errors",
)
END_USER_COLUMNS = ("end_user", "requests", "prompt_tokens", "completion_tokens", "errors")


@admin.register(ApiKey)
class ApiKeyAdmin(ModelAdmin):
    list_display = ("name", "prefix", "user", "tier", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("tier",)
    search_fields = ("name", "prefix", "user__email")
    autocomplete_fields = ("user",)
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at", "usage_by_day", "usage_by_end_user")
    actions = ["revoke"]

    @admin.display(description=f"Usage, last {ADMIN_USAGE_DAYS} days (UTC)")
    def usage_by_day(self, key: ApiKey) -> SafeString | str:
        """The same days the owner sees in the app (GET /api/v1/api-keys/<id>/usage), days with use only."""
        if key.pk is None:
            return "-"
        used = [day for day in selectors.api_key_usage_by_day(key=key, days=ADMIN_USAGE_DAYS) if day["requests"]]
        if not used:
            return "No use."
        return _table(USAGE_COLUMNS, used)

    @admin.display(description=f"Busiest end users, last {ADMIN_USAGE_DAYS} days")
    def usage_by_end_user(self, key: ApiKey) -> SafeString | str:
        """The partner's own end users (`user` / `metadata.user_id`) by tokens; the completions list has the rest."""
        if key.pk is None:
            return "-"
        rows = selectors.api_key_end_user_usage(key=key, days=ADMIN_USAGE_DAYS)
        return _table(END_USER_COLUMNS, rows) if rows else "No completions with an end user."

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
    list_filter = ("turn__status", "turn__model")
    list_select_related = ("turn", "api_key")
    # A partner's end user (`user` / `metadata.user_id`): search by it to see that end user's usage.
    search_fields = ("api_key__prefix", "user__email", "end_user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _table(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> SafeString:
    header = format_html_join("", "<th>{}</th>", ((name.replace("_", " "),) for name in columns))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((row[n],) for n in columns)),) for row in rows)
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", header, body)
