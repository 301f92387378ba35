"""The one reaper, for app answers and partners' completions alike: settles turns whose worker is gone or
whose deadline passed, so their slots and reserved tokens come back."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from redis.exceptions import RedisError

from inference import protocol

from .. import streams
from ..stores import ActiveTurn, active_turns
from .settle import turn_settle

logger = logging.getLogger(__name__)

REAP_BATCH = 500


def _reap_one(
    turn: ActiveTurn, glance: streams.StreamGlance, *, now: datetime, deadline_cutoff: datetime, grace_cutoff: datetime
) -> bool:
    if glance.finished:
        return turn_settle(turn_id=turn.id)
    reason: tuple[str, str] | None = None
    started = turn.streaming or glance.started
    if turn.queued_at and turn.queued_at < deadline_cutoff:
        reason = ("deadline_exceeded", "The answer took too long and was stopped. Try again.")
    elif started and (turn.started_at or turn.queued_at or now) < grace_cutoff:
        if glance.lease is None:
            reason = ("worker_lost", "The server generating this answer stopped. Try again.")
    elif not glance.exists and turn.queued_at and turn.queued_at < grace_cutoff:
        # The stream vanished (Redis restarted without persistence): nothing will ever finish it.
        reason = ("stream_lost", "This answer was lost by the server. Try again.")
    if reason is None:
        return False
    streams.request_cancel(turn.id)
    if streams.write_terminal_if_unowned(turn.id, protocol.EVENT_ERROR, {"code": reason[0], "message": reason[1]}):
        return turn_settle(turn_id=turn.id)
    return False


def turns_reap(*, now: datetime | None = None) -> int:
    """Settles turns whose worker is gone or whose deadline passed; returns how many it ended.

    A running turn's worker renews its lease every few seconds, so a started turn without a
    lease has lost its worker (killed, crashed, out of memory). A queued turn past its deadline
    never found a worker in time. Each pass reads only the last event and the lease of each
    active turn (one round trip per batch), and a whole stream only for turns that ended.
    """
    now = now or timezone.now()
    deadline_cutoff = now - timedelta(seconds=settings.WHALE_TURN_DEADLINE_SECONDS)
    grace_cutoff = now - timedelta(seconds=protocol.LEASE_TTL_SECONDS)
    settled = 0
    active = active_turns()
    for start in range(0, len(active), REAP_BATCH):
        batch = active[start : start + REAP_BATCH]
        for turn, glance in zip(batch, streams.glance_many([turn.id for turn in batch]), strict=True):
            try:
                settled += int(
                    _reap_one(turn, glance, now=now, deadline_cutoff=deadline_cutoff, grace_cutoff=grace_cutoff)
                )
            except (DatabaseError, RedisError):  # the next pass tries again; the other turns go on
                logger.warning("could not reap turn %s", turn.id, exc_info=True)
    return settled
