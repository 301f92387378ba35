"""Writes: admitting a turn (limits, busy queue, DeepThink fallback), settling it exactly once, and usage per day."""

from __future__ import annotations

import functools
import logging
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from redis.exceptions import RedisError

from common.db import quoted_column
from common.errors import RateLimited, ServiceUnavailable, ValidationFailed
from serving.registry import ModelSpec, model_get

from . import admission, store
from .headers import rate_limit_headers
from .models import UsageDay
from .selectors import Limits

logger = logging.getLogger(__name__)

# The fewest completion tokens worth starting a turn for when the day's token allowance runs low.
MIN_COMPLETION_TOKENS = 16
CONCURRENT_RETRY_SECONDS = 5

LIMIT_MESSAGES = {
    "requests_per_minute": "Too many requests this minute.",
    "turns_per_day": "You have sent today's allowance of messages.",
    "reasoning_turns_per_day": "You have used today's DeepThink allowance.",
    "tokens_per_day": "You have used today's token allowance.",
    "concurrent_turns": "Too many answers are being generated at once; wait for one to finish.",
    "search_turns_per_day": "You have used today's Search allowance.",
}


class LimitExceeded(RateLimited):
    """429 with the code `<limit>_exceeded`, the limit's name in `error.limit`, and the rate-limit headers."""

    def __init__(self, *, limit: str, limits: Limits, counters: store.Counters, openai: bool = False) -> None:
        if limit == "requests_per_minute":
            retry_after = counters.seconds_to_next_minute
        elif limit == "concurrent_turns":
            retry_after = CONCURRENT_RETRY_SECONDS
        else:
            retry_after = counters.seconds_to_next_day
        super().__init__(
            LIMIT_MESSAGES.get(limit, "A usage limit was reached."),
            retry_after=retry_after,
            code=f"{limit}_exceeded",
            headers=rate_limit_headers(limits, counters, openai=openai),
            extra={"limit": limit, "limit_value": getattr(limits, limit, None)},
        )
        self.limit = limit
        self.limits = limits
        self.counters = counters


@dataclass
class Admitted:
    """A turn that passed every limit: the model it runs on and what it may spend."""

    limits: Limits
    spec: ModelSpec
    max_tokens: int
    prompt_tokens_estimate: int
    position: int
    counters: store.Counters
    fallback: dict[str, str] | None = None

    @property
    def priority(self) -> int:
        return self.limits.priority

    def headers(self, *, openai: bool = False) -> dict[str, str]:
        return rate_limit_headers(self.limits, self.counters, openai=openai)


def prompt_tokens_estimate(messages: Sequence[Mapping[str, object]]) -> int:
    """A deliberately high guess of the prompt's tokens (about 3 characters a token, plus framing);
    the worker's count replaces it when the turn settles."""
    chars = sum(len(str(message.get("content") or "")) for message in messages)
    return math.ceil(chars / 3) + 4 * len(messages) + 8


def _redis_down(exc: Exception) -> ServiceUnavailable:
    logger.warning("rate limit store unavailable: %s", exc)
    return ServiceUnavailable(
        "The chat service cannot take new messages right now. Try again shortly.", code="queue_unavailable"
    )


def message_too_long(*, max_chars: int) -> ValidationFailed:
    """400 message_too_long: `error.limit` names the limit and `error.limit_value` is N, so a client can say
    "shorten it to N characters"."""
    text = f"A message can have at most {max_chars} characters."
    return ValidationFailed(
        text,
        code="message_too_long",
        fields={"content": [text]},
        extra={"limit": "max_message_chars", "limit_value": max_chars},
    )


def _check_sizes(*, limits: Limits, messages: Sequence[Mapping[str, object]], prompt_tokens: int) -> None:
    if limits.max_message_chars is not None and messages:
        length = len(str(messages[-1].get("content") or ""))
        if length > limits.max_message_chars:
            raise message_too_long(max_chars=limits.max_message_chars)
    if limits.max_context_tokens is not None and prompt_tokens > limits.max_context_tokens:
        raise ValidationFailed(
            f"The conversation is longer than your plan's context of {limits.max_context_tokens} tokens; "
            "start a new conversation or shorten the messages.",
            code="context_length_exceeded",
            fields={"messages": [f"About {prompt_tokens} tokens; at most {limits.max_context_tokens}."]},
            extra={"limit": "max_context_tokens", "limit_value": limits.max_context_tokens},
        )


# Which of these turn ids have ended (their stream holds their last event)? Set by turns (turns.apps), which
# this layer does not import. A turn's slot is otherwise given back when its end is settled, a moment after
# the client has seen `done`: a send in that moment would be refused for a turn that is over.
_ended_turns: Callable[[list[str]], list[str]] | None = None


def ended_turns_reader_set(reader: Callable[[list[str]], list[str]] | None) -> None:
    global _ended_turns
    _ended_turns = reader


def _free_slots_of_ended_turns(subject: str) -> bool:
    """On a concurrency refusal: frees the slots of the subject's turns that have in fact ended. True if any."""
    if _ended_turns is None:
        return False
    ended = _ended_turns(store.inflight_turn_ids(subject))
    store.slots_free(subject, ended)
    return bool(ended)


def turn_admit(
    *,
    limits: Limits,
    turn_id: object,
    spec: ModelSpec,
    messages: Sequence[Mapping[str, object]],
    max_tokens: int | None = None,
    allow_fallback: bool = False,
    openai: bool = False,
) -> Admitted:
    """Admits one turn or raises: 400 (message or context too long), 503 server_busy (queue full),
    429 `<limit>_exceeded`. With `allow_fallback` and WHALE_DEEPTHINK_FALLBACK on, a spent DeepThink
    allowance moves the turn to the chat model instead of refusing it."""
    prompt_tokens = prompt_tokens_estimate(messages)
    _check_sizes(limits=limits, messages=messages, prompt_tokens=prompt_tokens)
    wanted = max_tokens or settings.WHALE_MAX_TOKENS
    fallback: dict[str, str] | None = None
    freed = False
    try:
        while True:
            position = admission.admission_check(model=spec.name, queue=spec.queue, priority=limits.priority)
            taken = store.take(
                subject=limits.subject,
                limits=limits.as_dict(),
                turn_id=turn_id,
                reasoning=spec.reasoning,
                prompt_tokens=prompt_tokens,
                max_completion_tokens=wanted,
                min_completion_tokens=min(MIN_COMPLETION_TOKENS, wanted),
                hold_seconds=settings.WHALE_TURN_DEADLINE_SECONDS,
                user_id=limits.user_id,
                api_key_id=limits.api_key_id,
            )
            if taken.refused == "concurrent_turns" and not freed:
                freed = True
                if _free_slots_of_ended_turns(limits.subject):
                    continue
            can_fall_back = allow_fallback and settings.WHALE_DEEPTHINK_FALLBACK and fallback is None
            if taken.refused == "reasoning_turns_per_day" and can_fall_back:
                chat = model_get(settings.WHALE_CHAT_MODEL)
                fallback = {"from": spec.name, "to": chat.name, "reason": "reasoning_turns_per_day_exceeded"}
                spec = chat
                continue
            break
    except RedisError as exc:
        raise _redis_down(exc) from exc
    if taken.refused:
        raise LimitExceeded(limit=taken.refused, limits=limits, counters=taken.counters, openai=openai)
    return Admitted(
        limits=limits,
        spec=spec,
        max_tokens=taken.granted_tokens,
        prompt_tokens_estimate=prompt_tokens,
        position=position,
        counters=taken.counters,
        fallback=fallback,
    )


def request_admit(*, limits: Limits, openai: bool = False) -> store.Counters:
    """Counts one request that starts no turn (e.g. GET /v1/models) against requests per minute."""
    try:
        taken = store.take(subject=limits.subject, limits=limits.as_dict())
    except RedisError as exc:
        raise _redis_down(exc) from exc
    if taken.refused:
        raise LimitExceeded(limit=taken.refused, limits=limits, counters=taken.counters, openai=openai)
    return taken.counters


def turn_release(*, turn_id: object) -> None:
    """Gives everything back for a turn that was admitted but never queued (the send failed)."""
    try:
        store.settle(turn_id=turn_id, used_tokens=0, give_back_turn=True)
    except RedisError:
        logger.warning("could not release the reservation of turn %s", turn_id, exc_info=True)


@dataclass(frozen=True)
class UsageSubject:
    """Whose usage a settled turn adds to, and on which UTC day (the day it was admitted)."""

    user_id: str
    api_key_id: str | None
    date: Any
    reasoning: bool

    @classmethod
    def of(cls, reservation: store.Reservation) -> UsageSubject:
        return cls(reservation.user_id, reservation.api_key_id, reservation.date, reservation.reasoning)


def turn_reservation(*, turn_id: object) -> store.Reservation | None:
    """What admission reserved for a turn, read without settling it (raises RedisError)."""
    return store.reservation(turn_id)


def turn_usage_record(
    *,
    subject: UsageSubject,
    prompt_tokens: int,
    completion_tokens: int,
    reasoning_tokens: int,
    failed: bool,
    cached_tokens: int = 0,
) -> None:
    """Adds one settled turn to its subject's usage of the day. Call it in the transaction that marks the
    turn's row settled: that row's conditional update is what makes it happen once. A turn that failed on
    our side does not count against the day's turns; it counts as an error."""
    usage_record(
        user_id=subject.user_id,
        api_key_id=subject.api_key_id,
        date=subject.date,
        turns=0 if failed else 1,
        reasoning_turns=1 if subject.reasoning and not failed else 0,
        errors=1 if failed else 0,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        reasoning_tokens=reasoning_tokens,
        cached_tokens=max(0, min(cached_tokens, prompt_tokens)),
    )


def turn_settle(*, turn_id: object, used_tokens: int, failed: bool) -> store.Reservation | None:
    """Frees a turn's slot and replaces its reserved tokens by what it used, in Redis.

    Safe to repeat: the one call that finds the reservation changes the counters and gets it back,
    every later call gets None. Runs after the database has recorded the turn (so a failure here
    is retried without losing anything); raises RedisError for the caller's retry."""
    return store.settle(turn_id=turn_id, used_tokens=used_tokens, give_back_turn=failed)


def turn_settle_unrecorded(
    *,
    turn_id: object,
    prompt_tokens: int,
    completion_tokens: int,
    reasoning_tokens: int,
    failed: bool,
    cached_tokens: int = 0,
) -> bool:
    """Settles a turn whose row is gone (its conversation or account was deleted while it ran): the
    reservation is the only record left, so its settlement decides once whether the usage is added.
    A database failure after it loses that usage; there is no row to make a retry idempotent."""
    reservation = turn_settle(turn_id=turn_id, used_tokens=prompt_tokens + completion_tokens, failed=failed)
    if reservation is None:
        return False
    turn_usage_record(
        subject=UsageSubject.of(reservation),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        reasoning_tokens=reasoning_tokens,
        failed=failed,
        cached_tokens=cached_tokens,
    )
    return True


def usage_record(*, user_id: str, api_key_id: str | None, date: Any, **counts: int) -> None:
    """Adds to one subject's usage row for a day, creating it on first use (safe under races): one upsert.

    Written as SQL: the ORM's update with an F() per counter, and its create-or-update dance under races, were
    about a third of a settle's CPU in the backend worker at 128 turns in flight. No savepoint of its own
    (inside a settle's transaction that was two round trips of three): a deleted user's row fails at the
    outermost commit (the foreign key is checked there), or here when there is no transaction around it."""
    names = tuple(sorted(counts))
    unknown = set(names) - set(_USAGE_COUNTERS)
    if unknown:
        raise TypeError(f"not usage counters: {sorted(unknown)}")
    if not connection.features.supports_nulls_distinct_unique_constraints:
        _usage_record_in_steps(user_id=user_id, api_key_id=api_key_id, date=date, counts=counts)
        return
    values = [uuid.uuid4(), user_id, api_key_id, date, *(counts.get(name, 0) for name in _USAGE_COUNTERS)]
    try:
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.execute(_usage_upsert_sql(names), values)
    except IntegrityError:
        logger.warning("usage of a deleted user %s not recorded", user_id)


def _usage_record_in_steps(*, user_id: str, api_key_id: str | None, date: Any, counts: dict[str, int]) -> None:
    """The same on SQLite (the embedded database of `make run`), which has no unique constraint for the upsert
    to meet (it cannot treat a null key as one subject): update, else create. Its writers take turns (the
    write lock is taken when a transaction begins), so two settles do not race here."""
    subject = {"user_id": user_id, "api_key_id": api_key_id, "date": date}
    with transaction.atomic():
        if not UsageDay.objects.filter(**subject).update(**{name: F(name) + value for name, value in counts.items()}):
            try:
                with transaction.atomic():
                    UsageDay.objects.create(**subject, **counts)
            except IntegrityError:
                logger.warning("usage of a deleted user %s not recorded", user_id)


_USAGE_KEYS = ("id", "user", "api_key_id", "date")
_USAGE_COUNTERS = tuple(field.name for field in UsageDay._meta.concrete_fields if field.name not in _USAGE_KEYS)


@functools.cache
def _usage_upsert_sql(names: tuple[str, ...]) -> str:
    """INSERT ... ON CONFLICT DO UPDATE adding `names` (the subject's unique constraint treats a null key as one
    subject, NULLS NOT DISTINCT)."""
    meta = UsageDay._meta
    table = connection.ops.quote_name(meta.db_table)
    column = functools.partial(quoted_column, UsageDay)

    inserted = [column(name) for name in (*_USAGE_KEYS, *_USAGE_COUNTERS)]
    added = ", ".join(f"{column(name)} = {table}.{column(name)} + EXCLUDED.{column(name)}" for name in names)
    # Only the model's own table and column names go into the text; every value is a parameter.
    return (
        f"INSERT INTO {table} ({', '.join(inserted)}) VALUES ({', '.join(['%s'] * len(inserted))}) "  # noqa: S608
        f"ON CONFLICT ({column('user')}, {column('date')}, {column('api_key_id')}) "
        + (f"DO UPDATE SET {added}" if names else "DO NOTHING")
    )
