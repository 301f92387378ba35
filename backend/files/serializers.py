"""What the API says about a file: its status, why it failed, how much was read, and a preview of its text."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from .models import UploadedFile


class FileFailureSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="encrypted, no_text, damaged, too_large, timeout, infected or unsupported_type."
    )
    message = serializers.CharField(help_text="Why, in plain words, for the file's chip.")


class FileSerializer(serializers.ModelSerializer):
    failure = serializers.SerializerMethodField()

    class Meta:
        model = UploadedFile
        fields: tuple[str, ...] = (
            "id",
            "name",
            "size",
            "mime",
            "kind",
            "status",
            "failure",
            "pages",
            "pages_read",
            "ocr_pages",
            "truncated",
            "text_chars",
            "created_at",
            "updated_at",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_failure(self, file: UploadedFile) -> dict[str, str] | None:
        if file.status != UploadedFile.Status.FAILED:
            return None
        return {"code": file.failure_code, "message": file.failure_message}

    get_failure.__annotations__["return"] = FileFailureSerializer(allow_null=True)  # for the schema


class FileDetailSerializer(FileSerializer):
    preview = serializers.SerializerMethodField(help_text="The start of the extracted text (empty until ready).")

    class Meta(FileSerializer.Meta):
        fields: tuple[str, ...] = (*FileSerializer.Meta.fields, "preview")
        read_only_fields: tuple[str, ...] = fields

    def get_preview(self, file: UploadedFile) -> str:
        return file.text[: settings.WHALE_FILES_PREVIEW_CHARS]


class FileContentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    truncated = serializers.BooleanField(help_text="Only the first pages or characters were read.")
    text = serializers.CharField(help_text="The whole extracted text, as the model reads it.")


class FileUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="One file; its type is read from its bytes, never from its name.")


def file_event_payload(file: UploadedFile) -> dict[str, Any]:
    return {"file": dict(FileSerializer(file).data)}
