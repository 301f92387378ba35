"""Conversations, the message tree inside each (branches from edits and regenerations), and share links."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from turns.models import Turn, TurnColumn, TurnColumnsManager, TurnColumnsQuerySet, turn_columns_pop

TITLE_MAX_LENGTH = 200


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


class MessageQuerySet(TurnColumnsQuerySet["Message"]):
    def create(self, **fields: Any) -> Message:
        """A message; an answer with its Turn (same id), from the turn's columns among `fields`."""
        columns = turn_columns_pop(fields)
        if fields.get("role") != Message.Role.ASSISTANT or fields.get("turn") or fields.get("turn_id"):
            return super().create(**fields)  # a question has no turn, and reads done
        fields.setdefault("id", uuid.uuid4())
        conversation = fields.get("conversation") or Conversation.objects.get(id=fields["conversation_id"])
        fields["turn"] = Turn.objects.create(
            id=fields["id"], source=Turn.Source.APP, user_id=conversation.user_id, **columns
        )
        return super().create(**fields)


class MessageManager(TurnColumnsManager["Message"]):
    _queryset_class = MessageQuerySet


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    Status = Turn.Status  # an answer's status is its turn's

    class Feedback(models.TextChoices):
        UP = "up", "Up"
        DOWN = "down", "Down"
        NONE = "none", "None"

    TERMINAL_STATUSES = Turn.TERMINAL_STATUSES
    ACTIVE_STATUSES = Turn.ACTIVE_STATUSES

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    role = models.CharField(max_length=16, choices=Role.choices)
    # An answer's generation (the turn's id is the message's id); a question has none.
    turn = models.OneToOneField(Turn, null=True, blank=True, on_delete=models.CASCADE, related_name="message")
    content = models.TextField(blank=True)
    reasoning_content = models.TextField(blank=True)
    deepthink = models.BooleanField(default=False)
    feedback = models.CharField(max_length=8, choices=Feedback.choices, default=Feedback.NONE)
    # Search and files (issues 16 and 17): an answer's research step and what it says, a question's attachments.
    search = models.BooleanField(default=False, help_text="The answer was asked to search the web.")
    sources = models.JSONField(default=list, blank=True, help_text="[{n, title, url, site, snippet}]: [citation:n].")
    notices = models.JSONField(default=list, blank=True, help_text="[{code, message, ...}]: what it could not use.")
    # A question's files, in the order sent. The file's own `message` is the first question it came with:
    # that one's conversation owns it (deleted with it); an edited question may carry the same files again.
    attachments = models.ManyToManyField("files.UploadedFile", blank=True, related_name="attached_to")
    created_at = models.DateTimeField(default=timezone.now)

    # The answer's generation as the app shows it, read from its Turn (a question reads done, no usage).
    model = TurnColumn("")
    status = TurnColumn(Turn.Status.DONE.value)
    error = TurnColumn("")
    error_code = TurnColumn("")
    finish_reason = TurnColumn("")
    prompt_tokens = TurnColumn(0)
    completion_tokens = TurnColumn(0)
    reasoning_tokens = TurnColumn(0)
    cached_tokens = TurnColumn(0)
    queued_at = TurnColumn(None)
    started_at = TurnColumn(None)
    first_token_at = TurnColumn(None)
    finished_at = TurnColumn(None)

    objects = MessageManager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "parent", "created_at"])]

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
