"""The one record of a generation: who asked, which model, how it ended, what it used and when.

Its id is the task id on the GPU queue and the key of its Redis Stream. The app's answer (`chat.Message`)
and the partner's completion (`partners.Completion`) each point to their Turn and keep only what is theirs.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce

MODEL_NAME_MAX_LENGTH = 100
_Row = TypeVar("_Row", bound=models.Model)


class Turn(models.Model):
    class Source(models.TextChoices):
        APP = "app", "App"
        PARTNER = "partner", "Partner API"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        STREAMING = "streaming", "Streaming"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    TERMINAL_STATUSES = (Status.DONE, Status.CANCELLED, Status.FAILED)
    ACTIVE_STATUSES = (Status.QUEUED, Status.STREAMING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=16, choices=Source.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="turns")
    # The partner's key (partners.ApiKey) when a partner asked; an id, not a key, so turns depends on no partner.
    api_key_id = models.UUIDField(null=True, blank=True)
    model = models.CharField(max_length=MODEL_NAME_MAX_LENGTH, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    reasoning_tokens = models.PositiveIntegerField(default=0)
    # Of prompt_tokens, those the engine served from its prefix cache (its own count), for the hit rate.
    cached_tokens = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    first_token_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status"]), models.Index(fields=["api_key_id", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.source} turn {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL_STATUSES


# The Turn's columns a Message or a Completion reads as its own (serializers, formats, admin).
TURN_FIELDS = (
    "model",
    "status",
    "error",
    "error_code",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "cached_tokens",
    "queued_at",
    "started_at",
    "first_token_at",
    "finished_at",
)


class TurnColumn:
    """A Turn column read through the row that points to it (`message.status` is `message.turn.status`), so
    what the app and the partner API show keeps its shape. Read-only: the turn is written through turns'
    services. A row without a turn (a user's question) reads `default`. List such rows with
    select_related("turn")."""

    def __init__(self, default: Any) -> None:
        self.default = default
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        if instance.turn_id is None:
            return self.default
        # The loaded turn straight from the row's cache (select_related, or set on create): the related
        # descriptor's own checks cost more than the read, and serializers read a dozen columns per row.
        turn = instance._state.fields_cache.get("turn") or instance.turn
        return getattr(turn, self.name)


def turn_columns_pop(fields: dict[str, Any]) -> dict[str, Any]:
    """Takes the Turn's columns out of a row's create() arguments, for the managers of the rows that point
    to a Turn: `Message.objects.create(role="assistant", status="done", ...)` writes both."""
    return {name: fields.pop(name) for name in TURN_FIELDS if name in fields}


def _via_turn(lookups: dict[str, Any]) -> dict[str, Any]:
    return {f"turn__{key}" if key.split("__", 1)[0] in TURN_FIELDS else key: value for key, value in lookups.items()}


def _ordering_via_turn(name: str) -> str:
    sign, bare = ("-", name[1:]) if name.startswith("-") else ("", name)
    return f"{sign}turn__{bare}" if bare.split("__", 1)[0] in TURN_FIELDS else name


class TurnColumnsQuerySet(models.QuerySet[_Row]):
    """The rows that point to a Turn, queried as if its columns were theirs: `filter(status="done")` is
    `filter(turn__status="done")` (values, values_list and order_by too), `update(status=...)` writes the
    turns; create() (in each row's own subclass) writes the turn too."""

    def _filter_or_exclude(self, negate: bool, args: Any, kwargs: Any) -> Any:
        return super()._filter_or_exclude(negate, args, _via_turn(kwargs))  # type: ignore[misc]

    def values(self, *fields: Any, **expressions: Any) -> Any:
        moved = {name: models.F(f"turn__{name}") for name in fields if name in TURN_FIELDS}
        kept = [name for name in fields if name not in moved]
        return super().values(*kept, **moved, **expressions)

    def values_list(self, *fields: Any, flat: bool = False, named: bool = False) -> Any:
        moved = [models.F(f"turn__{name}") if name in TURN_FIELDS else name for name in fields]
        return super().values_list(*moved, flat=flat, named=named)

    def order_by(self, *fields: Any) -> Any:
        moved = [_ordering_via_turn(name) if isinstance(name, str) else name for name in fields]
        return super().order_by(*moved)

    def update(self, **fields: Any) -> int:
        columns = turn_columns_pop(fields)
        updated = 0
        if columns:
            updated = Turn.objects.filter(id__in=self.values("turn_id")).update(**columns)
        if fields or not columns:
            updated = super().update(**fields)
        return updated


class TurnColumnsManager(models.Manager[_Row]):
    """Loads each row with its Turn (one join), so reading a turn column costs no query of its own, in a
    list or in async code. Set `_queryset_class` to the row's TurnColumnsQuerySet."""

    def get_queryset(self) -> models.QuerySet[_Row]:
        return super().get_queryset().select_related("turn")


def turn_column_value(name: str, default: Any = None, *, via: str = "turn") -> models.Expression | models.F:
    """A Turn column in a query over the rows that point to it (`values(status=turn_column_value(...))`):
    `default` for a row without a turn, as TurnColumn reads it."""
    column = models.F(f"{via}__{name}")
    if default is None:
        return column
    return Coalesce(column, models.Value(default), output_field=cast(models.Field, Turn._meta.get_field(name)))
