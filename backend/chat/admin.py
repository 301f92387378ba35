"""Django admin for conversations, messages and share links; big text fields are read-only."""

from __future__ import annotations

from django.contrib import admin

from .models import Conversation, Message, ShareLink


class MessageInline(admin.TabularInline):
    model = Message
    fk_name = "conversation"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("role", "status", "model", "created_at", "parent")
    readonly_fields = ("role", "status", "model", "created_at", "parent")

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "created_at", "updated_at", "pinned_at", "archived_at"]
    list_filter = ["created_at", "archived_at", "pinned_at"]
    search_fields = ["title", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["id", "current_message", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "role", "status", "model", "conversation", "created_at"]
    list_filter = ["role", "status", "feedback", "deepthink"]
    search_fields = ["id", "conversation__title", "conversation__user__email"]
    list_select_related = ["conversation"]
    raw_id_fields = ["conversation", "parent"]
    readonly_fields = [
        "id",
        "content",
        "reasoning_content",
        "error",
        "prompt_tokens",
        "completion_tokens",
        "reasoning_tokens",
        "created_at",
        "queued_at",
        "started_at",
        "first_token_at",
        "finished_at",
    ]


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ["token", "title", "user", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["token", "title", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "conversation"]
    readonly_fields = ["id", "token", "snapshot", "created_at"]
