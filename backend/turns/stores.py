"""Where a turn's row lives (chat's answers, partners' completions): each app registers its store here when it
starts, so the one settle, the one cancel and the one reaper in turns/services reach any turn and import neither.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from inference import protocol

from . import streams

Id = uuid.UUID | str


@dataclass(frozen=True)
class TurnUsage:
    """What a finished turn used, as every settlement records it (0 tokens for an error)."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    failed: bool
    cached_tokens: int = 0  # of the prompt, served from the engine's prefix cache (its own count)

    @classmethod
    def of(cls, outcome: streams.TurnOutcome) -> TurnUsage:
        failed = outcome.terminal_type == protocol.EVENT_ERROR
        cached = 0 if failed else int((outcome.terminal.get("usage") or {}).get("cached_tokens") or 0)
        return cls(**streams.usage_counts(outcome.terminal), failed=failed, cached_tokens=max(cached, 0))

    @property
    def counts(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "failed": self.failed,
            "cached_tokens": self.cached_tokens,
        }


@dataclass(frozen=True)
class ActiveTurn:
    """A turn not yet settled, as the reaper and the account hooks see it."""

    id: uuid.UUID
    queued_at: datetime | None
    started_at: datetime | None = None
    streaming: bool = False  # the row says a worker started it (the stream may say so first)


@dataclass(frozen=True)
class SettledTurn:
    """A turn its store has just saved as ended: what the day's usage, the metrics and the log line need."""

    id: uuid.UUID
    model: str
    status: str
    error_code: str
    queued_at: datetime | None
    first_token_at: datetime | None
    finished_at: datetime | None
    prompt_tokens: int
    completion_tokens: int
    # Whose and which day, for the usage once the turn's reservation is gone (lapsed, or lost with Redis).
    user_id: str
    api_key_id: str | None
    admitted_on: date
    reasoning: bool


class TurnStore(Protocol):
    """One table of turns. Each method touches only its own rows and says so when a turn is not one of them."""

    origin: str  # "app" or "partner"

    def exists(self, turn_id: Id) -> bool:
        """Whether the turn is one of this store's rows (visible to this transaction)."""
        ...

    def active(self, *, user_id: Id | None = None) -> list[ActiveTurn]:
        """Its turns not yet settled (of one user, when given)."""
        ...

    def mark_started(self, turn_id: Id, started_at: datetime) -> bool:
        """The worker took the turn: True when this call moved it from queued to streaming."""
        ...

    def settle(self, turn_id: Id, outcome: streams.TurnOutcome) -> SettledTurn | bool | None:
        """Saves the ended turn from its stream, inside the caller's transaction, only while it is unsettled:
        the saved turn, False when it already was, None when it is not one of this store's turns. Its
        own follow-ups (announcing, a title) go here too, after commit."""
        ...

    def sources_save(self, turn_id: Id, sources: list[dict[str, Any]], notices: list[dict[str, Any]]) -> bool | None:
        """Saves what the prepare step read (its sources) and told (its notices) on the turn's row: True when
        saved, False when the row is gone (deleted meanwhile), None when it is not one of this store's turns."""
        ...

    def saved(self, turn_id: Id) -> Any | None:
        """The ended turn as saved, for a reader whose stream has expired (streams.replay_from_saved reads
        its content, reasoning_content, status, error, usage and timings); None while it runs or if not its own."""
        ...


_stores: dict[str, TurnStore] = {}


def store_register(store: TurnStore) -> None:
    """Called from an AppConfig.ready(); registering the same origin again replaces it."""
    _stores[store.origin] = store


def turn_stores(*, first: str = "") -> list[TurnStore]:
    """Every registered store; the one of origin `first`, when given, ahead of the others."""
    stores = list(_stores.values())
    return sorted(stores, key=lambda store: store.origin != first) if first else stores


def turn_exists(*, turn_id: Id) -> bool:
    """Whether an app answer or a partner's completion with this id is visible to this transaction."""
    return any(store.exists(turn_id) for store in turn_stores())


def active_turns(*, user_id: Id | None = None) -> list[ActiveTurn]:
    return [turn for store in turn_stores() for turn in store.active(user_id=user_id)]


def turn_sources_save(turn_id: Id, *, sources: list[dict[str, Any]], notices: list[dict[str, Any]]) -> bool:
    """The prepare step's sources and notices, saved on the turn's row; False when no store has it any more."""
    for store in turn_stores():
        saved = store.sources_save(turn_id, sources, notices)
        if saved is not None:
            return saved
    return False


def turn_saved(turn_id: Id) -> Any | None:
    """The ended turn as its store saved it (None while it runs, or when no store has it)."""
    for store in turn_stores():
        saved = store.saved(turn_id)
        if saved is not None:
            return saved
    return None
