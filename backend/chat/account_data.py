"""The user's conversations and share links in the account export (accounts.selectors.user_export) and the
usage the admin shows on an account's page: registered with accounts.hooks in chat.apps."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, Sum
from rest_framework import serializers
from turns.models import turn_column_value

from accounts.hooks import AccountUsage
from accounts.models import User

from .models import Conversation, Message, ShareLink

_MESSAGE_FIELDS = (
    "id",
    "conversation_id",
    "parent_id",
    "role",
    "content",
    "reasoning_content",
    "deepthink",
    "feedback",
    "created_at",
)
# An answer's columns that live on its Turn; a question reads the defaults (done, no usage).
_TURN_FIELDS = (
    "model",
    "status",
    "error",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "queued_at",
    "started_at",
    "first_token_at",
    "finished_at",
)


def _turn_values() -> dict[str, Any]:
    return {name: turn_column_value(name, getattr(Message, name).default) for name in _TURN_FIELDS}


def user_conversations(user: User) -> list[dict[str, Any]]:
    """Every conversation with every message of every branch (a flat list, root first, linked by parent_id)."""
    conversations: list[dict[str, Any]] = []
    by_id: dict[Any, dict[str, Any]] = {}
    for conversation in Conversation.objects.filter(user=user).order_by("created_at", "id").iterator():
        entry = {
            "id": conversation.id,
            "title": conversation.title,
            "created_at": conversation.created_at,
            "updated_at": conversation.updated_at,
            "pinned_at": conversation.pinned_at,
            "archived_at": conversation.archived_at,
            "current_message_id": conversation.current_message_id,
            "messages": [],
        }
        conversations.append(entry)
        by_id[conversation.id] = entry
    messages = (
        Message.objects.filter(conversation__user=user)
        .order_by("created_at", "id")
        .values(*_MESSAGE_FIELDS, **_turn_values())
    )
    for message in messages.iterator():
        message["usage"] = {
            "prompt_tokens": message.pop("prompt_tokens"),
            "completion_tokens": message.pop("completion_tokens"),
            "reasoning_tokens": message.pop("reasoning_tokens"),
        }
        by_id[message.pop("conversation_id")]["messages"].append(message)
    return conversations


def user_share_links(user: User) -> list[dict[str, Any]]:
    links = ShareLink.objects.filter(user=user).order_by("created_at", "id")
    return [dict(link) for link in links.values("id", "conversation_id", "title", "created_at", "revoked_at")]


def user_usage(user: User) -> AccountUsage:
    """The user's answers of all time, and their tokens."""
    if not user.pk:
        return AccountUsage()
    totals = Message.objects.filter(conversation__user=user, role=Message.Role.ASSISTANT).aggregate(
        total=Count("id"),
        failed=Count("id", filter=Q(turn__status=Message.Status.FAILED)),
        tokens_in=Sum("turn__prompt_tokens"),
        tokens_out=Sum("turn__completion_tokens"),
    )
    return AccountUsage(
        turns=totals["total"],
        failed=totals["failed"],
        tokens_in=totals["tokens_in"] or 0,
        tokens_out=totals["tokens_out"] or 0,
    )


# The export file's chat sections


class DataExportUsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    reasoning_tokens = serializers.IntegerField()


class DataExportMessageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    parent_id = serializers.UUIDField(allow_null=True)
    role = serializers.ChoiceField(choices=Message.Role.choices)
    content = serializers.CharField(allow_blank=True)
    reasoning_content = serializers.CharField(allow_blank=True)
    model = serializers.CharField(allow_blank=True)
    deepthink = serializers.BooleanField()
    status = serializers.ChoiceField(choices=Message.Status.choices)
    error = serializers.CharField(allow_blank=True)
    finish_reason = serializers.CharField(allow_blank=True)
    usage = DataExportUsageSerializer()
    feedback = serializers.ChoiceField(choices=Message.Feedback.choices)
    created_at = serializers.DateTimeField()
    queued_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    first_token_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class DataExportConversationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    pinned_at = serializers.DateTimeField(allow_null=True)
    archived_at = serializers.DateTimeField(allow_null=True)
    current_message_id = serializers.UUIDField(allow_null=True)
    messages = DataExportMessageSerializer(many=True, help_text="Every message of every branch, oldest first.")


class DataExportShareLinkSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    conversation_id = serializers.UUIDField()
    title = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
