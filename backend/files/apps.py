from __future__ import annotations

from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"
    verbose_name = "Files"

    def ready(self) -> None:
        from rest_framework import serializers

        from accounts.hooks import ExportSection, export_section_register

        from . import signals  # noqa: F401 - deleting a row deletes its stored bytes
        from .selectors import files_export

        # The account export holds each file's text.
        export_section_register(
            ExportSection(
                "files",
                files_export,
                lambda: serializers.ListField(
                    child=serializers.DictField(),
                    default=list,
                    help_text="Every file: {id, name, size, mime, kind, status, pages, truncated, conversation_id, "
                    "message_id, created_at, text} (text: what was read from it).",
                ),
            )
        )
