"""Response bodies of the turns API (the models clients may pick); the app's send bodies are chat's
(chat/send_serializers.py)."""

from __future__ import annotations

from rest_framework import serializers


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


class FileCapabilities(serializers.Serializer):
    max_per_message = serializers.IntegerField(help_text="Files one question may carry.")
    kinds = serializers.DictField(child=serializers.IntegerField(), help_text="Each kind's size limit in bytes.")


class Capabilities(serializers.Serializer):
    search = serializers.BooleanField(help_text="A search provider is configured: clients show the Search toggle.")
    search_provider = serializers.CharField(allow_null=True, help_text="searxng, brave or tavily; null when off.")
    files = FileCapabilities()


class ModelList(serializers.Serializer):
    object = serializers.CharField(default="list")
    data = ModelInfo(many=True)  # type: ignore[assignment]  # a field, popped by the metaclass
    capabilities = Capabilities()
