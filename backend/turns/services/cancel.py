"""Cancelling turns: the user's stop button, a partner hanging up, the answers of a deleted conversation or account."""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone
from redis.exceptions import RedisError

from accounts.models import User
from chat.models import Message
from common.errors import ServiceUnavailable
from inference import protocol

from .. import streams
from .send import turn_get
from .settle import turn_settle
from .shared import ACTIVE_STATUSES, Id

logger = logging.getLogger(__name__)


def turn_cancel(*, user: User, turn_id: Id) -> Message:
    """Asks the worker to stop; a turn no worker has picked up yet is ended here and now."""
    turn = turn_get(user=user, turn_id=turn_id)
    if turn.is_terminal:
        return turn
    try:
        streams.request_cancel(turn.id)
        ended_here = streams.write_terminal_if_unowned(
            turn.id,
            protocol.EVENT_DONE,
            {
                "status": "cancelled",
                "finish_reason": "cancelled",
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "reasoning_tokens": 0},
                "timings": {"queued_at": streams.iso(turn.queued_at), "finished_at": timezone.now().isoformat()},
            },
        )
    except RedisError as exc:
        raise ServiceUnavailable("Could not reach the chat service to stop this answer.") from exc
    if ended_here:
        turn_settle(turn_id=turn.id)
    turn.refresh_from_db()
    return turn


def turns_cancel(*, turn_ids: list[Id]) -> None:
    """Asks the workers to stop answers nobody can see any more (their conversation or account is gone).

    A worker that has not started such a turn ends it at once; one generating it aborts at its next
    flush. Their finalize finds no message to save and only gives the slot and tokens back.
    """
    for turn_id in turn_ids:
        try:
            streams.request_cancel(turn_id)
        except RedisError:  # the turn runs to its end; nothing is saved for it
            logger.warning("could not stop abandoned turn %s", turn_id)


def active_turn_ids(**filters: Any) -> list[Id]:
    return list(
        Message.objects.filter(role=Message.Role.ASSISTANT, status__in=ACTIVE_STATUSES, **filters).values_list(
            "id", flat=True
        )
    )
