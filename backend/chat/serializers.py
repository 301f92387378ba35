"""Request and response shapes of the conversations API (docs/api.md, "Conversations and messages")."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from files.models import UploadedFile
from rest_framework import serializers

from common.serializers import BuiltFieldsOnce

from .models import TITLE_MAX_LENGTH, Conversation, Message, ShareLink
from .selectors import message_sibling_ids

SEARCH_MAX_LENGTH = 200


def reject_surrogates(value: str) -> None:
    """Lone UTF-16 surrogates parse from JSON but cannot be stored as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise serializers.ValidationError("Contains characters that are not valid Unicode.") from exc


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else: DRF would turn 12 or true into "12" or "True"."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false: DRF would also take "yes", "on" or 1."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


# --- Input ---------------------------------------------------------------------------------


class ConversationListQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=SEARCH_MAX_LENGTH,
        default="",
        help_text="Search titles and message text.",
    )
    archived = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=False,
        help_text="List archived conversations instead (they are hidden by default).",
    )
    pinned = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only pinned (true) or unpinned (false) ones."
    )


class ConversationCreateSerializer(serializers.Serializer):
    title = StrictCharField(
        required=False, allow_blank=True, max_length=TITLE_MAX_LENGTH, default="", validators=[reject_surrogates]
    )


class ConversationUpdateSerializer(serializers.Serializer):
    title = StrictCharField(
        required=False, allow_blank=True, max_length=TITLE_MAX_LENGTH, validators=[reject_surrogates]
    )
    pinned = StrictBooleanField(required=False)
    archived = StrictBooleanField(required=False)
    current_message_id = serializers.UUIDField(
        required=False, help_text="Switch branch: the branch then follows this message's newest descendants."
    )


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["markdown", "json"], required=False, default="markdown")


class MessageUpdateSerializer(serializers.Serializer):
    feedback = serializers.ChoiceField(choices=Message.Feedback.choices)


# --- Output --------------------------------------------------------------------------------


class UsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    reasoning_tokens = serializers.IntegerField()


class AttachmentSerializer(BuiltFieldsOnce, serializers.ModelSerializer):
    """A question's file, as its card shows it (GET /api/v1/files/{id}/content and /download open it)."""

    class Meta:
        model = UploadedFile
        fields = ["id", "name", "size", "mime", "kind", "status", "truncated", "pages"]
        read_only_fields = fields


class SourceSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="The X of [citation:X] in the answer.")
    title = serializers.CharField()
    url = serializers.CharField()
    site = serializers.CharField()
    snippet = serializers.CharField()


class NoticeSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="search_unavailable or file_truncated (then also file_id, name, percent).")
    message = serializers.CharField()


def message_files(message: Message) -> list[dict[str, Any]]:
    """A question's files: as the send attached them, prefetched with the thread, else in one query."""
    if message.role != Message.Role.USER or message.pk is None:
        return []
    attached = getattr(message, "attached_files", None)  # set by the send (turns.preparing)
    files = message.attachments.all() if attached is None else attached
    return list(AttachmentSerializer(files, many=True).data)


# Unbound DRF fields for MessageSerializer's conversions (none of them reads its parent or the context).
_UUID = serializers.UUIDField()
_TEXT = serializers.CharField()
_BOOLEAN = serializers.BooleanField()
_INTEGER = serializers.IntegerField()
_DATETIME = serializers.DateTimeField()
_NOTICES = serializers.ListField(child=serializers.DictField())
_ROLE = serializers.ChoiceField(choices=Message.Role.choices)
_STATUS = serializers.ChoiceField(choices=Message.Status.choices)
_FEEDBACK = serializers.ChoiceField(choices=Message.Feedback.choices)


def _or_none(field: serializers.Field, value: Any) -> Any:
    return None if value is None else field.to_representation(value)


def _source(source: Any) -> dict[str, Any]:
    return {
        "n": _or_none(_INTEGER, source["n"]),
        **{name: _or_none(_TEXT, source[name]) for name in ("title", "url", "site", "snippet")},
    }


class MessageSerializer(BuiltFieldsOnce, serializers.ModelSerializer):
    """A message of the tree; `sibling_index` is 0-based among messages with the same parent, oldest first."""

    # Pass {"sibling_ids": {message id: [sibling ids]}} in the context to save a query per message.

    parent_id = serializers.UUIDField(read_only=True, allow_null=True)
    usage = UsageSerializer(source="*", read_only=True)
    sibling_count = serializers.SerializerMethodField()
    sibling_index = serializers.SerializerMethodField()
    sibling_ids = serializers.SerializerMethodField()
    sources = SourceSerializer(many=True, read_only=True)
    notices = serializers.ListField(child=serializers.DictField(), read_only=True)
    files = serializers.SerializerMethodField()
    # The answer's generation, flattened from its Turn (a question reads done).
    model = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Message.Status.choices, read_only=True)
    error = serializers.CharField(read_only=True)
    finish_reason = serializers.CharField(read_only=True)
    queued_at = serializers.DateTimeField(read_only=True, allow_null=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    first_token_at = serializers.DateTimeField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "parent_id",
            "role",
            "content",
            "reasoning_content",
            "model",
            "deepthink",
            "search",
            "sources",
            "notices",
            "files",
            "status",
            "error",
            "finish_reason",
            "usage",
            "feedback",
            "created_at",
            "queued_at",
            "started_at",
            "first_token_at",
            "finished_at",
            "sibling_count",
            "sibling_index",
            "sibling_ids",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Message) -> dict[str, Any]:
        """The fields above, written out: DRF's generic walk copied and bound every field of every message (a
        send's answer body, each message of a conversation's tree), about a millisecond a message. The values
        go through the same DRF field conversions; test_serializers keeps this equal to the generic walk
        (`serializers.ModelSerializer.to_representation`) for each kind of message."""
        message = instance
        siblings = self._siblings(message)
        return {
            "id": _UUID.to_representation(message.id),
            "parent_id": _or_none(_UUID, message.parent_id),
            "role": _or_none(_ROLE, message.role),
            "content": _or_none(_TEXT, message.content),
            "reasoning_content": _or_none(_TEXT, message.reasoning_content),
            "model": _or_none(_TEXT, message.model),
            "deepthink": _or_none(_BOOLEAN, message.deepthink),
            "search": _or_none(_BOOLEAN, message.search),
            "sources": None if message.sources is None else [_source(source) for source in message.sources],
            "notices": _or_none(_NOTICES, message.notices),
            "files": message_files(message),
            "status": _or_none(_STATUS, message.status),
            "error": _or_none(_TEXT, message.error),
            "finish_reason": _or_none(_TEXT, message.finish_reason),
            "usage": {
                "prompt_tokens": _or_none(_INTEGER, message.prompt_tokens),
                "completion_tokens": _or_none(_INTEGER, message.completion_tokens),
                "reasoning_tokens": _or_none(_INTEGER, message.reasoning_tokens),
            },
            "feedback": _or_none(_FEEDBACK, message.feedback),
            "created_at": _DATETIME.to_representation(message.created_at),
            "queued_at": _DATETIME.to_representation(message.queued_at),
            "started_at": _DATETIME.to_representation(message.started_at),
            "first_token_at": _DATETIME.to_representation(message.first_token_at),
            "finished_at": _DATETIME.to_representation(message.finished_at),
            "sibling_count": len(siblings),
            "sibling_index": siblings.index(message.id) if message.id in siblings else 0,
            "sibling_ids": siblings,
        }

    def _siblings(self, message: Message) -> list[uuid.UUID]:
        known: dict[uuid.UUID, list[uuid.UUID]] = self.context.setdefault("sibling_ids", {})
        if message.id not in known:
            known[message.id] = message_sibling_ids(message=message)
        return known[message.id]

    def get_sibling_count(self, message: Message) -> int:
        return len(self._siblings(message))

    def get_sibling_index(self, message: Message) -> int:
        siblings = self._siblings(message)
        return siblings.index(message.id) if message.id in siblings else 0

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_sibling_ids(self, message: Message) -> list[uuid.UUID]:
        return self._siblings(message)

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_files(self, message: Message) -> list[dict[str, Any]]:
        return message_files(message)


class ConversationSerializer(BuiltFieldsOnce, serializers.ModelSerializer):
    pinned = serializers.SerializerMethodField()
    archived = serializers.SerializerMethodField()
    current_message_id = serializers.UUIDField(read_only=True, allow_null=True)
    is_generating = serializers.SerializerMethodField(help_text="A message is queued or streaming.")

    class Meta:
        model = Conversation
        fields = [
            "id",
            "title",
            "pinned",
            "archived",
            "created_at",
            "updated_at",
            "current_message_id",
            "is_generating",
        ]
        read_only_fields = fields

    def get_pinned(self, conversation: Conversation) -> bool:
        return conversation.pinned_at is not None

    def get_archived(self, conversation: Conversation) -> bool:
        return conversation.archived_at is not None

    def get_is_generating(self, conversation: Conversation) -> bool:
        # Annotated by the conversation selectors.
        return bool(getattr(conversation, "is_generating", False))


class ConversationDetailSerializer(ConversationSerializer):
    """A conversation with its current branch of messages, root first."""

    # Serialize a selectors.Thread: the conversation, with context {"messages", "sibling_ids"} from it.

    messages = serializers.SerializerMethodField(help_text="The current branch, root first.")

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages"]
        read_only_fields = fields

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, conversation: Conversation) -> Any:
        return MessageSerializer(self.context.get("messages", []), many=True, context=self.context).data


NO_USAGE = {"prompt_tokens": 0, "completion_tokens": 0, "reasoning_tokens": 0}


class SnapshotMessageSerializer(serializers.Serializer):
    """A message of a snapshot; snapshots saved before timings were kept read as null timings and zero usage."""

    role = serializers.ChoiceField(choices=Message.Role.choices)
    content = serializers.CharField()
    reasoning_content = serializers.CharField()
    created_at = serializers.DateTimeField()
    queued_at = serializers.DateTimeField(allow_null=True, default=None)
    started_at = serializers.DateTimeField(allow_null=True, default=None)
    first_token_at = serializers.DateTimeField(allow_null=True, default=None)
    finished_at = serializers.DateTimeField(allow_null=True, default=None)
    usage = UsageSerializer(default=NO_USAGE)
    search = serializers.BooleanField(default=False)
    sources = SourceSerializer(many=True, default=list)
    notices = serializers.ListField(child=serializers.DictField(), default=list)
    files = serializers.ListField(
        child=serializers.DictField(), default=list, help_text="The question's files: {name, size, mime, kind, pages}."
    )

    def to_representation(self, instance: Any) -> Any:
        # A stored snapshot is a dict; fill what older ones lack (DRF would raise KeyError on a missing key).
        filled: dict[str, Any] = {name: None for name in ("queued_at", "started_at", "first_token_at", "finished_at")}
        filled.update(usage=NO_USAGE, search=False, sources=[], notices=[], files=[])
        return super().to_representation({**filled, **instance})


class SharedConversationSerializer(serializers.Serializer):
    """The public, frozen view of a shared conversation."""

    title = serializers.CharField()
    created_at = serializers.DateTimeField()
    messages = SnapshotMessageSerializer(many=True, source="snapshot")


class ShareLinkSerializer(serializers.ModelSerializer):
    conversation_id = serializers.UUIDField(read_only=True)
    url = serializers.SerializerMethodField(
        help_text="Absolute URL of the public web page (WHALE_PUBLIC_URL, else the request's origin)."
    )
    api_url = serializers.SerializerMethodField(help_text="Path of the public JSON snapshot.")

    class Meta:
        model = ShareLink
        fields = ["id", "token", "conversation_id", "title", "url", "api_url", "created_at"]
        read_only_fields = fields

    # Pass {"request": request} in the context: without WHALE_PUBLIC_URL the URL takes the request's origin.

    def get_url(self, share_link: ShareLink) -> str:
        path = f"/share/{share_link.token}"
        public_url = settings.WHALE_PUBLIC_URL.rstrip("/")
        if public_url:
            return public_url + path
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_api_url(self, share_link: ShareLink) -> str:
        return f"/api/v1/shared/{share_link.token}"


class ExportMessageSerializer(serializers.ModelSerializer):
    parent_id = serializers.UUIDField(read_only=True, allow_null=True)
    usage = UsageSerializer(source="*", read_only=True)
    sources = SourceSerializer(many=True, read_only=True)
    notices = serializers.ListField(child=serializers.DictField(), read_only=True)
    files = serializers.SerializerMethodField()
    model = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Message.Status.choices, read_only=True)
    error = serializers.CharField(read_only=True)
    finish_reason = serializers.CharField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "parent_id",
            "role",
            "content",
            "reasoning_content",
            "model",
            "deepthink",
            "search",
            "sources",
            "notices",
            "files",
            "status",
            "error",
            "finish_reason",
            "usage",
            "feedback",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_files(self, message: Message) -> list[dict[str, Any]]:
        return message_files(message)


class ConversationExportSerializer(serializers.Serializer):
    """The JSON export: every message of every branch, oldest first, each with its parent."""

    id = serializers.UUIDField()
    title = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    current_message_id = serializers.UUIDField(allow_null=True)
    exported_at = serializers.DateTimeField()
    messages = ExportMessageSerializer(many=True)
