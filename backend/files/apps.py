from __future__ import annotations

from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"
    verbose_name = "Files"

    def ready(self) -> None:
        from accounts.selectors import export_section_register

        from . import signals  # noqa: F401 - deleting a row deletes its stored bytes
        from .selectors import files_export

        export_section_register("files", files_export)  # the account export holds each file's text
