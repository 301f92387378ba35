"""Cancelling turns, app answers and partners' completions alike: the stop button, a partner hanging up,
a suspended account, and the answers of a deleted conversation or account."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone
from redis.exceptions import RedisError

from accounts.models import User
from common.errors import ServiceUnavailable
from inference import protocol

from .. import streams
from ..models import Turn
from ..selectors import turn_get
from ..stores import Id, active_turns
from .settle import turn_settle

logger = logging.getLogger(__name__)


def turn_cancel_request(*, turn_id: Id, queued_at: datetime | None = None) -> bool:
    """The one cancel: asks the worker to stop (it ends the turn `cancelled` with the partial text at its
    next flush); a turn no worker holds yet is ended `cancelled` here and settled. True when ended here.
    Raises RedisError when Redis cannot be reached."""
    streams.request_cancel(turn_id)
    ended_here = streams.write_terminal_if_unowned(
        turn_id,
        protocol.EVENT_DONE,
        {
            "status": "cancelled",
            "finish_reason": "cancelled",
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "reasoning_tokens": 0},
            "timings": {"queued_at": streams.iso(queued_at), "finished_at": timezone.now().isoformat()},
        },
    )
    if ended_here:
        turn_settle(turn_id=turn_id)
    return ended_here


def turn_cancel(*, user: User, turn_id: Id) -> Turn:
    """The app's stop button: cancels the user's turn (404 for anyone else's) and returns it as it is now."""
    turn = turn_get(user=user, turn_id=turn_id)
    if turn.is_terminal:
        return turn
    try:
        turn_cancel_request(turn_id=turn.id, queued_at=turn.queued_at)
    except RedisError as exc:
        raise ServiceUnavailable("Could not reach the chat service to stop this answer.") from exc
    turn.refresh_from_db()
    return turn


def turns_cancel(*, turn_ids: Sequence[Id]) -> None:
    """Asks the workers to stop turns nobody can see any more (their conversation or account is gone).

    A worker that has not started such a turn ends it at once; one generating it stops at its next
    flush. Their settle finds no row to save and only gives the slot and tokens back.
    """
    for turn_id in turn_ids:
        try:
            streams.request_cancel(turn_id)
        except RedisError:  # the turn runs to its end; nothing is saved for it
            logger.warning("could not cancel turn %s", turn_id)


def user_turns_cancel(*, user_id: Id) -> None:
    """Cancels every turn of a user still running, in the app and on the partner API (a suspension)."""
    for turn in active_turns(user_id=user_id):
        try:
            turn_cancel_request(turn_id=turn.id, queued_at=turn.queued_at)
        except RedisError:  # the reaper ends it at its deadline
            logger.warning("could not cancel turn %s of user %s", turn.id, user_id)
