"""API keys for the partner API (stored hashed, found by a visible prefix) and one record per completion."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from turns.models import Turn, TurnColumn, TurnColumnsManager, TurnColumnsQuerySet, turn_columns_pop

from ratelimits.models import LimitOverrides, Tier


class ApiKey(LimitOverrides):
    """A partner's secret. Only its SHA-256 is stored; `prefix` is what lists and logs show."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    tier = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_keys",
        help_text="Blank means the owner's tier. Only staff may set it.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Limits for each of the partner's own end users (`user` / `metadata.user_id`); blank: none.
    end_user_requests_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests per minute for each end user. Blank means no limit."
    )
    end_user_tokens_per_day = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Prompt plus completion tokens per UTC day for each end user. Blank means no limit.",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)  # type: ignore[operator]


class CompletionQuerySet(TurnColumnsQuerySet["Completion"]):
    def create(self, **fields: Any) -> Completion:
        """A completion with its Turn (same id), from the turn's columns among `fields`."""
        columns = turn_columns_pop(fields)
        if fields.get("turn") or fields.get("turn_id"):
            return super().create(**fields)
        fields.setdefault("id", uuid.uuid4())
        fields.setdefault("created_at", timezone.now())
        api_key = fields.get("api_key")
        fields["turn"] = Turn.objects.create(
            id=fields["id"],
            source=Turn.Source.PARTNER,
            user_id=fields["user"].id if "user" in fields else fields["user_id"],
            api_key_id=api_key.id if api_key is not None else fields.get("api_key_id"),
            queued_at=fields["created_at"],
            **columns,
        )
        return super().create(**fields)


class CompletionManager(TurnColumnsManager["Completion"]):
    _queryset_class = CompletionQuerySet


class Completion(models.Model):
    """One partner API completion (/v1/chat/completions, /v1/completions, /anthropic/v1/messages): its id
    is the turn id on the GPU queue and in the Redis Stream."""

    Status = Turn.Status  # a completion stays queued until it is settled: it never reads streaming

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Its generation (the turn's id is the completion's id).
    turn = models.OneToOneField(Turn, on_delete=models.CASCADE, related_name="completion")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="completions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="completions")
    stream = models.BooleanField(default=False)
    # The partner's own end user (`user` on /v1/, `metadata.user_id` on /anthropic/v1/), as the partner names it.
    end_user = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # The completion's generation as the partner API shows it, read from its Turn.
    model = TurnColumn("")
    status = TurnColumn(Turn.Status.QUEUED.value)
    finish_reason = TurnColumn("")
    error_code = TurnColumn("")
    prompt_tokens = TurnColumn(0)
    completion_tokens = TurnColumn(0)
    reasoning_tokens = TurnColumn(0)
    cached_tokens = TurnColumn(0)
    finished_at = TurnColumn(None)

    objects = CompletionManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["api_key", "created_at"]),
            models.Index(fields=["api_key", "end_user", "created_at"], name="partners_co_end_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"
