"""Request and response bodies of the turns API."""

from __future__ import annotations

from rest_framework import serializers

from chat.serializers import MessageSerializer, StrictBooleanField, StrictCharField, reject_surrogates


class SendMessageRequest(serializers.Serializer):
    content = StrictCharField(
        max_length=100_000, allow_blank=False, trim_whitespace=False, validators=[reject_surrogates]
    )
    parent_id = serializers.UUIDField(required=False, allow_null=True)
    deepthink = StrictBooleanField(default=False)


class RegenerateRequest(serializers.Serializer):
    deepthink = StrictBooleanField(required=False, allow_null=True, default=None)


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


class CancelResponse(serializers.Serializer):
    turn = MessageSerializer()


class ModelInfo(serializers.Serializer):
    id = serializers.CharField()
    display_name = serializers.CharField()
    description = serializers.CharField()
    reasoning = serializers.BooleanField()
    available = serializers.BooleanField(help_text="A worker serving this model has reported in the last 30 s.")
    demo = serializers.BooleanField(
        help_text="The worker serves the tiny offline demo model, not the real one: show a banner."
    )
    served_model = serializers.CharField(allow_blank=True)


class ModelList(serializers.Serializer):
    object = serializers.CharField(default="list")
    data = ModelInfo(many=True)  # type: ignore[assignment]  # a field, popped by the metaclass
