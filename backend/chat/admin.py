"""Django admin (unfold theme) for conversations, messages and share links.

Conversations are private: the lists show only who, when and how much, never titles or text, and
opening one conversation or message records an audit event (who read it, when) before it renders.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from unfold.admin import ModelAdmin, TabularInline

from common import audit

from .models import Conversation, Message, ShareLink

AUDIT_NOTICE = "Reading this is recorded in the audit log with your account and the time."


class MessageInline(TabularInline):
    model = Message
    fk_name = "conversation"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("role", "status", "model", "created_at", "parent")
    readonly_fields = ("role", "status", "model", "created_at", "parent")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("turn")  # status and model are the turn's

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class AuditedReadMixin:
    """Opening an object's page (GET) records who read it and when, before it renders."""

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "GET":
            obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
            if obj is not None and self.has_view_or_change_permission(request, obj):  # type: ignore[attr-defined]
                action = audit.CONVERSATION_VIEWED if isinstance(obj, Conversation) else audit.MESSAGE_VIEWED
                audit.staff_action_record(actor=request.user, action=action, obj=obj)
        extra_context = {**(extra_context or {}), "subtitle": AUDIT_NOTICE}
        return super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc, no-any-return]


@admin.register(Conversation)
class ConversationAdmin(AuditedReadMixin, ModelAdmin):
    list_display = ["id", "user", "message_count", "created_at", "updated_at", "pinned_at", "archived_at"]
    list_filter = ["created_at", "archived_at", "pinned_at"]
    search_fields = ["id", "user__email"]  # never by title: a search would read private text without an audit
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["id", "current_message", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [MessageInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return super().get_queryset(request).annotate(message_total=Count("messages"))

    @admin.display(description="Messages", ordering="message_total")
    def message_count(self, obj: Any) -> int:
        return int(getattr(obj, "message_total", 0))


@admin.register(Message)
class MessageAdmin(AuditedReadMixin, ModelAdmin):
    list_display = [
        "id",
        "role",
        "status",
        "model",
        "conversation_id",
        "prompt_tokens",
        "completion_tokens",
        "created_at",
    ]
    list_filter = ["role", "turn__status", "feedback", "deepthink"]
    list_select_related = ["turn"]
    search_fields = ["id", "conversation__user__email"]
    raw_id_fields = ["conversation", "parent"]
    # The answer's generation is its Turn's, written only by turns' services.
    readonly_fields = [
        "id",
        "turn",
        "content",
        "reasoning_content",
        "model",
        "status",
        "error",
        "error_code",
        "finish_reason",
        "prompt_tokens",
        "completion_tokens",
        "reasoning_tokens",
        "cached_tokens",
        "created_at",
        "queued_at",
        "started_at",
        "first_token_at",
        "finished_at",
    ]


@admin.register(ShareLink)
class ShareLinkAdmin(ModelAdmin):
    list_display = ["token", "title", "user", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["token", "title", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "conversation"]
    readonly_fields = ["id", "token", "snapshot", "created_at"]
