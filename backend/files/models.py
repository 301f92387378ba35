"""An uploaded file: who owns it, what its bytes are (sniffed), where they are stored, and the text read from it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from . import kinds

NAME_MAX_LENGTH = 255


class UploadedFile(models.Model):
    class Kind(models.TextChoices):
        PDF = kinds.PDF, "PDF"
        DOCX = kinds.DOCX, "Word"
        PPTX = kinds.PPTX, "PowerPoint"
        XLSX = kinds.XLSX, "Excel"
        EPUB = kinds.EPUB, "EPUB"
        TEXT = kinds.TEXT, "Text"
        IMAGE = kinds.IMAGE, "Image"

    class Status(models.TextChoices):
        UPLOADING = "uploading", "Uploading"
        READING = "reading", "Reading"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=NAME_MAX_LENGTH, help_text="Sanitised: no path, no control characters.")
    size = models.PositiveBigIntegerField()
    mime = models.CharField(max_length=127, help_text="Sniffed from the bytes by libmagic.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    sha256 = models.CharField(max_length=64)
    # The key in the "files" storage (settings.STORAGES): the bytes are never served from the app's origin inline.
    blob = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADING)
    failure_code = models.CharField(max_length=32, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True, help_text="The extracted text, as the model reads it.")
    text_chars = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(null=True, blank=True, help_text="Pages, slides or sheets in the file.")
    pages_read = models.PositiveIntegerField(null=True, blank=True)
    ocr_pages = models.PositiveIntegerField(default=0)
    truncated = models.BooleanField(default=False, help_text="Only the first pages or characters were read.")
    extraction_seconds = models.FloatField(null=True, blank=True)
    # The first question the file was sent with, which owns it (null until then: an unattached upload is an
    # orphan). chat.Message.attachments lists every question that carries it (an edited one may too).
    conversation = models.ForeignKey(
        "chat.Conversation", null=True, blank=True, on_delete=models.CASCADE, related_name="files"
    )
    message = models.ForeignKey("chat.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="files")
    # OpenAI's `purpose` of an upload through the partner API (/v1/files): such a file is referenced by id in
    # completions, never attached to a message, and is kept until deleted (not an orphan). Empty: the app's.
    purpose = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["created_at"], name="files_orphan_idx", condition=models.Q(message__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.name
