"""The audit log of what staff did in the admin (who read a private conversation, who suspended whom, when),
and staff's switches over the model registry (disable a model, rename it for clients)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One staff action. Rows are only ever added (the admin shows them read-only)."""

    class Action(models.TextChoices):
        CONVERSATION_VIEWED = "conversation.viewed", "Read a conversation"
        MESSAGE_VIEWED = "message.viewed", "Read a message"
        USER_SUSPENDED = "user.suspended", "Suspended a user"
        USER_REINSTATED = "user.reinstated", "Reinstated a user"
        USER_DELETED = "user.deleted", "Deleted a user"
        OBJECT_ADDED = "object.added", "Added an object"
        OBJECT_CHANGED = "object.changed", "Changed an object"
        OBJECT_DELETED = "object.deleted", "Deleted an object"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Kept when the staff account goes: the email stays as it was.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_email = models.CharField(max_length=254)
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["object_type", "object_id", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.actor_email} {self.action} {self.object_type}:{self.object_id}"


class ModelSetting(models.Model):
    """Staff's overrides of one entry of the model registry (settings.WHALE_MODELS), read by serving.registry."""

    name = models.CharField(max_length=100, unique=True, editable=False)
    enabled = models.BooleanField(default=True, help_text="Off: clients cannot pick it and new turns are refused.")
    display_name = models.CharField(max_length=100, blank=True, help_text="Blank: the name from the settings.")
    description = models.CharField(max_length=300, blank=True, help_text="Blank: the description from the settings.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "model"

    def __str__(self) -> str:
        return self.name
