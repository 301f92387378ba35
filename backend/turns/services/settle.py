"""Settling a turn from its stream exactly once: its row, the day's usage, the limits."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from chat.models import Conversation, Message
from common import events, metrics
from config.celery import app as celery_app
from inference import logs, protocol
from ratelimits import services as limits
from ratelimits.services import UsageSubject, turn_reservation, turn_usage_record
from ratelimits.store import Reservation

from .. import streams
from .shared import ACTIVE_STATUSES, Id

logger = logging.getLogger(__name__)


def turn_row_exists(*, turn_id: Id) -> bool:
    """Whether the app's answer or a partner's completion with this id is visible to this transaction."""
    from partners.models import Completion

    return Message.objects.filter(id=turn_id).exists() or Completion.objects.filter(id=turn_id).exists()


def _parse_time(value: Id) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def _message_fields(outcome: streams.TurnOutcome) -> dict[str, Any]:
    """The answer's row as its stream says it ended."""
    data = outcome.terminal
    fields: dict[str, Any] = {
        "content": outcome.content,
        "reasoning_content": outcome.reasoning,
        "finished_at": _parse_time(data.get("timings", {}).get("finished_at")) or timezone.now(),
    }
    if outcome.terminal_type == protocol.EVENT_ERROR:
        fields.update(
            status=Message.Status.FAILED,
            error_code=str(data.get("code", "turn_failed"))[:64],
            error=str(data.get("message", "The answer could not be generated.")),
            finish_reason="error",
        )
    else:
        timings = data.get("timings") or {}
        fields.update(
            status=Message.Status.CANCELLED if data.get("status") == "cancelled" else Message.Status.DONE,
            finish_reason=str(data.get("finish_reason") or "")[:32],
            **streams.usage_counts(data),
        )
        if timings.get("first_token_at"):
            fields["first_token_at"] = _parse_time(timings["first_token_at"])
    if outcome.started and outcome.started.get("started_at"):
        fields["started_at"] = _parse_time(outcome.started["started_at"])
    return fields


@dataclass(frozen=True)
class TurnUsage:
    """What a finished turn used, as every settlement records it (0 tokens for an error)."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    failed: bool

    @classmethod
    def of(cls, outcome: streams.TurnOutcome) -> TurnUsage:
        return cls(**streams.usage_counts(outcome.terminal), failed=outcome.terminal_type == protocol.EVENT_ERROR)

    @property
    def counts(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "failed": self.failed,
        }


def turn_settle(*, turn_id: Id) -> bool:
    """Saves a finished turn from its stream and settles its limits; True when this call saved it.

    In this order, each step safe to repeat, so a retry after a failure at any step (Postgres or
    Redis gone for a moment) reaches the same end state:
      1. read the stream and the turn's reservation (Redis, read only);
      2. in ONE transaction: the row's conditional update (only while the turn is unsettled) and,
         only when that update happened, the day's usage;
      3. release the reservation in Redis (the slot, and the reserved tokens replaced by the used).
    Raises DatabaseError or RedisError when a step fails; the finalize task retries.
    """
    outcome = streams.turn_outcome(turn_id)
    if outcome is None or not outcome.finished:
        return False
    usage = TurnUsage.of(outcome)
    reservation = turn_reservation(turn_id=turn_id)
    saved = _message_settle(turn_id, outcome, usage, reservation)
    if saved is None:
        from partners.services import completion_settle  # a partner's turn has no Message

        # Its own transaction: one settlement never holds locks on both tables.
        saved = completion_settle(turn_id=turn_id, outcome=outcome, reservation=reservation)
    if saved is None:
        # No row at all: its conversation or account was deleted while it ran.
        limits.turn_settle_unrecorded(turn_id=turn_id, **usage.counts)
        return False
    limits.turn_settle(turn_id=turn_id, used_tokens=usage.prompt_tokens + usage.completion_tokens, failed=usage.failed)
    return saved


def _message_settle(
    turn_id: Id, outcome: streams.TurnOutcome, usage: TurnUsage, reservation: Reservation | None
) -> bool | None:
    """Step 2 for an app turn: True when saved now, False when it was already, None when no such message."""
    with transaction.atomic():
        if not Message.objects.filter(id=turn_id, status__in=ACTIVE_STATUSES).update(**_message_fields(outcome)):
            return False if Message.objects.filter(id=turn_id).exists() else None
        turn = Message.objects.select_related("conversation", "parent").get(id=turn_id)
        turn_usage_record(subject=_usage_subject(turn, reservation), **usage.counts)
        _turn_settled(turn)
        return True


def _usage_subject(turn: Message, reservation: Reservation | None) -> UsageSubject:
    """The reservation says whose and which day; once it is gone (lapsed, or lost with Redis) the row does."""
    if reservation is not None:
        return UsageSubject.of(reservation)
    admitted_at = turn.queued_at or turn.created_at
    return UsageSubject(
        user_id=str(turn.conversation.user_id),
        api_key_id=None,
        date=admitted_at.astimezone(UTC).date(),
        reasoning=turn.deepthink,
    )


def _turn_settled(turn: Message) -> None:
    """After a turn's row is settled, inside that transaction: touch its conversation, record, announce."""
    Conversation.objects.filter(id=turn.conversation_id).update(updated_at=timezone.now())
    _turn_settled_record(turn)
    events.user_event_publish(
        user_id=turn.conversation.user_id,
        event_type=events.TURN_FINISHED,
        payload={"conversation_id": str(turn.conversation_id), "turn_id": str(turn.id), "status": turn.status},
    )
    if turn.status == Message.Status.DONE:
        transaction.on_commit(lambda: _maybe_queue_title(turn))


def _turn_settled_record(turn: Message) -> None:
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


def _maybe_queue_title(turn: Message) -> None:
    """After the first answer of a conversation, ask the model for a short title."""
    if not settings.WHALE_AUTO_TITLE:
        return
    conversation = turn.conversation
    assistant_count = Message.objects.filter(conversation=conversation, role=Message.Role.ASSISTANT).count()
    if assistant_count != 1 or turn.parent is None:
        return
    from ..registry import model_get

    spec = model_get(settings.WHALE_TITLE_MODEL)
    task = protocol.TitleTask(
        conversation_id=str(conversation.id),
        user_id=str(conversation.user_id),
        model=spec.name,
        messages=[
            {"role": "user", "content": turn.parent.content[:2000]},
            {"role": "assistant", "content": turn.content[:2000]},
        ],
        save_queue=settings.WHALE_BACKEND_QUEUE,
    )
    try:
        celery_app.send_task(protocol.TASK_GENERATE_TITLE, args=[task.to_payload()], queue=spec.queue, retry=False)
    except (RedisError, KombuError, OSError):
        logger.warning("could not queue a title for conversation %s", conversation.id, exc_info=True)
