"""Settling a turn from its stream exactly once, for an app answer and a partner's completion alike:
its row (through its store, turns/stores.py), the day's usage, the metrics, the limits.

A worker's two notices about a turn end here: it started (`turn_mark_started`), it ended (`turn_settle`).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from common import metrics
from inference import logs
from ratelimits import services as limits
from ratelimits.services import UsageSubject

from .. import streams
from ..stores import Id, SettledTurn, TurnUsage, turn_stores

logger = logging.getLogger(__name__)


def turn_mark_started(*, turn_id: Id, started_at: str | None) -> bool:
    """The worker took the turn: True when its row moved from queued to streaming now."""
    started = (parse_datetime(started_at) if started_at else None) or timezone.now()
    return any(store.mark_started(turn_id, started) for store in turn_stores())


def turn_settle(*, turn_id: Id, origin: str = "") -> bool:
    """Saves a finished turn from its stream and settles its limits; True when this call saved it. `origin`
    names the store that holds the turn's row when the caller knows it (the worker's notice): it is asked first.

    In this order, each step safe to repeat, so a retry after a failure at any step (Postgres or
    Redis gone for a moment) reaches the same end state:
      1. read the stream and the turn's reservation (Redis, read only);
      2. in ONE transaction: the row's conditional update by its store (only while the turn is
         unsettled) and, only when that update happened, the day's usage;
      3. release the reservation in Redis (the slot, and the reserved tokens replaced by the used).
    Raises DatabaseError or RedisError when a step fails; the settle task retries.
    """
    outcome = streams.turn_outcome(turn_id)
    if outcome is None or not outcome.finished:
        return False
    usage = TurnUsage.of(outcome)
    reservation = limits.turn_reservation(turn_id=turn_id)
    with transaction.atomic():
        saved: SettledTurn | bool | None = None
        for store in turn_stores(first=origin):
            saved = store.settle(turn_id, outcome)
            if saved is not None:
                break
        if isinstance(saved, SettledTurn):
            subject = UsageSubject.of(reservation) if reservation is not None else _usage_subject(saved)
            limits.turn_usage_record(subject=subject, **usage.counts)
    if saved is None:
        # No row at all: its conversation or account was deleted while it ran.
        limits.turn_settle_unrecorded(turn_id=turn_id, **usage.counts)
        return False
    if isinstance(saved, SettledTurn):
        _turn_settled_record(saved)
    limits.turn_settle(turn_id=turn_id, used_tokens=usage.prompt_tokens + usage.completion_tokens, failed=usage.failed)
    return isinstance(saved, SettledTurn)


def _usage_subject(turn: SettledTurn) -> UsageSubject:
    """Once the reservation is gone (lapsed, or lost with Redis), the row says whose and which day."""
    return UsageSubject(
        user_id=turn.user_id, api_key_id=turn.api_key_id, date=turn.admitted_on, reasoning=turn.reasoning
    )


def _turn_settled_record(turn: SettledTurn) -> None:
    """The settled turn in the metrics and the logs."""
    metrics.turn_settled(
        model=turn.model,
        status=turn.status,
        queued_at=turn.queued_at,
        first_token_at=turn.first_token_at,
        finished_at=turn.finished_at,
        completion_tokens=turn.completion_tokens,
    )
    with logs.log_context(turn_id=str(turn.id)):
        logger.info(
            "turn settled",
            extra={
                "model": turn.model,
                "status": turn.status,
                "error_code": turn.error_code,
                "prompt_tokens": turn.prompt_tokens,
                "completion_tokens": turn.completion_tokens,
            },
        )
