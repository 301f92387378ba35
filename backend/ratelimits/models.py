"""Tiers of limits (free, pro, partner, staff), a user's tier and overrides, and usage per user per day."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

# The limits a tier sets; a user or an API key may override any of them (blank: the tier's value).
LIMIT_FIELDS = (
    "requests_per_minute",
    "turns_per_day",
    "reasoning_turns_per_day",
    "search_turns_per_day",
    "tokens_per_day",
    "concurrent_turns",
    "max_message_chars",
    "max_context_tokens",
)

# Limits on attachments (files app): uploads per UTC day, bytes uploaded per day, bytes kept per user.
# Users' overrides have them too; API keys do not (the partner API takes no files yet).
FILE_LIMIT_FIELDS = ("files_per_day", "file_bytes_per_day", "file_storage_bytes")

UNLIMITED_HELP = "Blank means unlimited."
OVERRIDE_HELP = "Blank means the tier's value."


class Tier(models.Model):
    """A named set of limits. Every field left blank is unlimited; `priority` orders the GPU queue (0 first)."""

    slug = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text=UNLIMITED_HELP)
    turns_per_day = models.PositiveIntegerField(null=True, blank=True, help_text=UNLIMITED_HELP)
    reasoning_turns_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="DeepThink (reasoning model) turns per day. " + UNLIMITED_HELP
    )
    search_turns_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Turns with Search (web research) per day. " + UNLIMITED_HELP
    )
    tokens_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Prompt plus completion tokens per day. " + UNLIMITED_HELP
    )
    concurrent_turns = models.PositiveIntegerField(null=True, blank=True, help_text=UNLIMITED_HELP)
    max_message_chars = models.PositiveIntegerField(null=True, blank=True, help_text=UNLIMITED_HELP)
    max_context_tokens = models.PositiveIntegerField(null=True, blank=True, help_text=UNLIMITED_HELP)
    files_per_day = models.PositiveIntegerField(null=True, blank=True, help_text="Uploads per day. " + UNLIMITED_HELP)
    file_bytes_per_day = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Bytes uploaded per day. " + UNLIMITED_HELP
    )
    file_storage_bytes = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Bytes of files a user may keep. " + UNLIMITED_HELP
    )
    priority = models.PositiveSmallIntegerField(
        default=6, help_text="Queue priority 0-9, lower is served first (Redis keeps steps 0, 3, 6, 9)."
    )

    class Meta:
        ordering = ["priority", "slug"]

    def __str__(self) -> str:
        return self.name


class LimitOverrides(models.Model):
    """Per-subject overrides of a tier's limits (abstract: users here, API keys in partners)."""

    requests_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text=OVERRIDE_HELP)
    turns_per_day = models.PositiveIntegerField(null=True, blank=True, help_text=OVERRIDE_HELP)
    reasoning_turns_per_day = models.PositiveIntegerField(null=True, blank=True, help_text=OVERRIDE_HELP)
    search_turns_per_day = models.PositiveIntegerField(null=True, blank=True, help_text=OVERRIDE_HELP)
    tokens_per_day = models.PositiveIntegerField(null=True, blank=True, help_text=OVERRIDE_HELP)
    concurrent_turns = models.PositiveIntegerField(null=True, blank=True, help_text=OVERRIDE_HELP)
    max_message_chars = models.PositiveIntegerField(null=True, blank=True, help_text=OVERRIDE_HELP)
    max_context_tokens = models.PositiveIntegerField(null=True, blank=True, help_text=OVERRIDE_HELP)

    class Meta:
        abstract = True


class FileLimitOverrides(models.Model):
    """Per-user overrides of a tier's file limits (apart from LimitOverrides, which API keys share)."""

    files_per_day = models.PositiveIntegerField(null=True, blank=True, help_text=OVERRIDE_HELP)
    file_bytes_per_day = models.PositiveBigIntegerField(null=True, blank=True, help_text=OVERRIDE_HELP)
    file_storage_bytes = models.PositiveBigIntegerField(null=True, blank=True, help_text=OVERRIDE_HELP)

    class Meta:
        abstract = True


class UserLimit(LimitOverrides, FileLimitOverrides):
    """A user's tier (free unless set; staff users count as staff) and any overrides of it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="limit")
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="user_limits")

    def __str__(self) -> str:
        return f"{self.user} ({self.tier.slug})"


class UsageDay(models.Model):
    """What one user (through the app, or one API key) used on one UTC day; written when a turn settles."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_days")
    # Null for the app; the partner API key's id otherwise (no foreign key: ratelimits does not depend on partners).
    api_key_id = models.UUIDField(null=True, blank=True, db_index=True)
    date = models.DateField()
    turns = models.PositiveIntegerField(default=0)
    reasoning_turns = models.PositiveIntegerField(default=0)
    search_turns = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    reasoning_tokens = models.PositiveBigIntegerField(default=0)
    # Of the prompt tokens, those the engine served from its prefix cache (its own count).
    cached_tokens = models.PositiveBigIntegerField(default=0)
    # Turns that failed on our side (engine error, worker lost, deadline): not counted in `turns`.
    errors = models.PositiveIntegerField(default=0)
    files = models.PositiveIntegerField(default=0)
    file_bytes = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "date", "api_key_id"], name="usage_day_unique_subject", nulls_distinct=False
            )
        ]
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.date} ({self.api_key_id or 'app'})"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
