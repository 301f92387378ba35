"""Request and response bodies of the app's sends (chat/send_api.py) and of its socket's frames."""

from __future__ import annotations

from rest_framework import serializers

from .serializers import (
    ConversationSerializer,
    MessageSerializer,
    StrictBooleanField,
    StrictCharField,
    reject_surrogates,
)

# The number of files is checked by the send (400 too_many_files, WHALE_FILES_PER_MESSAGE); this only
# bounds what is parsed at all.
FILE_IDS_PARSE_MAX = 1000


def _file_ids_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        max_length=FILE_IDS_PARSE_MAX,
        help_text="Ready files of the sender's to attach to the question (at most WHALE_FILES_PER_MESSAGE).",
    )


class SendMessageRequest(serializers.Serializer):
    # The length limits (the server's and the plan's) are checked by the service: 400 message_too_long.
    content = StrictCharField(allow_blank=False, trim_whitespace=False, validators=[reject_surrogates])
    parent_id = serializers.UUIDField(required=False, allow_null=True)
    deepthink = StrictBooleanField(default=False)
    search = StrictBooleanField(
        default=False, help_text="Search the web first (400 search_unavailable without a provider)."
    )
    file_ids = _file_ids_field()


class FirstMessageRequest(serializers.Serializer):
    content = StrictCharField(allow_blank=False, trim_whitespace=False, validators=[reject_surrogates])
    deepthink = StrictBooleanField(default=False)
    search = StrictBooleanField(
        default=False, help_text="Search the web first (400 search_unavailable without a provider)."
    )
    file_ids = _file_ids_field()

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if "parent_id" in self.initial_data:
            raise serializers.ValidationError({"parent_id": ["A new conversation's first message has no parent."]})
        return attrs


class RegenerateRequest(serializers.Serializer):
    deepthink = StrictBooleanField(required=False, allow_null=True, default=None)
    search = StrictBooleanField(
        required=False, allow_null=True, default=None, help_text="Omitted: as the answer it replaces did."
    )
    file_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=FILE_IDS_PARSE_MAX,
        help_text="Ignored: a new answer reads its question's own files again.",
    )


class StreamLinks(serializers.Serializer):
    events_url = serializers.CharField()
    websocket_url = serializers.CharField()


class TurnFallback(serializers.Serializer):
    to = serializers.CharField(help_text="The model that answers instead.")
    reason = serializers.CharField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.CharField(help_text="The model that was asked for.")
        return fields


class TurnCreatedResponse(serializers.Serializer):
    conversation_id = serializers.UUIDField()
    user_message = MessageSerializer(allow_null=True)
    assistant_message = MessageSerializer()
    queue_position = serializers.IntegerField()
    fallback = TurnFallback(
        allow_null=True,
        help_text="Set when the DeepThink allowance was spent and the chat model answers instead.",
    )
    stream = StreamLinks()


class FirstMessageResponse(TurnCreatedResponse):
    conversation = ConversationSerializer(
        help_text="The new conversation, as GET /conversations/{id} without messages."
    )


class CancelResponse(serializers.Serializer):
    turn = MessageSerializer()
