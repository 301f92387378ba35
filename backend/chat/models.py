"""Conversations, the message tree inside each (branches from edits and regenerations), and share links."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

TITLE_MAX_LENGTH = 200
MODEL_NAME_MAX_LENGTH = 100


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True)
    # The leaf of the branch the user sees; reading walks up from here.
    current_message = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    pinned_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["user", "-updated_at", "-id"])]

    def __str__(self) -> str:
        return self.title or str(self.id)


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        STREAMING = "streaming", "Streaming"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    class Feedback(models.TextChoices):
        UP = "up", "Up"
        DOWN = "down", "Down"
        NONE = "none", "None"

    TERMINAL_STATUSES = (Status.DONE, Status.CANCELLED, Status.FAILED)
    ACTIVE_STATUSES = (Status.QUEUED, Status.STREAMING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    reasoning_content = models.TextField(blank=True)
    model = models.CharField(max_length=MODEL_NAME_MAX_LENGTH, blank=True)
    deepthink = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DONE)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    reasoning_tokens = models.PositiveIntegerField(default=0)
    # Of prompt_tokens, those the engine served from its prefix cache (its own count), for the hit rate.
    cached_tokens = models.PositiveIntegerField(default=0)
    feedback = models.CharField(max_length=8, choices=Feedback.choices, default=Feedback.NONE)
    # Search and files (issues 16 and 17): an answer's research step and what it says, a question's attachments.
    search = models.BooleanField(default=False, help_text="The answer was asked to search the web.")
    sources = models.JSONField(default=list, blank=True, help_text="[{n, title, url, site, snippet}]: [citation:n].")
    notices = models.JSONField(default=list, blank=True, help_text="[{code, message, ...}]: what it could not use.")
    # A question's files, in the order sent. The file's own `message` is the first question it came with:
    # that one's conversation owns it (deleted with it); an edited question may carry the same files again.
    attachments = models.ManyToManyField("files.UploadedFile", blank=True, related_name="attached_to")
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    first_token_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "parent", "created_at"]),
            models.Index(fields=["status"]),
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.id}"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL_STATUSES


class ShareLink(models.Model):
    """A read-only public link to a snapshot of a conversation as it was when shared."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="share_links")
    title = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True)
    snapshot = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"share {self.token[:8]}"
