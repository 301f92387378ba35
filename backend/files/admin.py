"""Admin for files: read-only, for support (who uploaded what, and why it failed)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from .models import UploadedFile


@admin.register(UploadedFile)
class UploadedFileAdmin(ModelAdmin):
    list_display = ("name", "owner", "kind", "size", "status", "failure_code", "created_at")
    list_filter = ("status", "kind", "failure_code")
    search_fields = ("owner__email", "name", "sha256")
    exclude = ("text",)
    readonly_fields = [f.name for f in UploadedFile._meta.fields if f.name != "text"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
