"""Writes for turns, one module per stage of a turn's life (after Zulip's zerver/actions/):

- send: the app's send, first message and regenerate, and queueing any turn's generation;
- cancel: stopping a turn (the stop button, a partner hanging up, a deleted conversation or account);
- settle: saving a turn that ended, from its stream, exactly once;
- reap: settling turns whose worker is gone or whose deadline passed.
"""

from __future__ import annotations

from .cancel import active_turn_ids, turn_cancel, turns_cancel
from .reap import REAP_BATCH, turns_reap
from .send import TurnCreated, turn_enqueue, turn_get, turn_mark_started, turn_regenerate, turn_send, turn_send_first
from .settle import TurnUsage, turn_row_exists, turn_settle
from .shared import ACTIVE_STATUSES, Id

__all__ = [
    "ACTIVE_STATUSES",
    "REAP_BATCH",
    "Id",
    "TurnCreated",
    "TurnUsage",
    "active_turn_ids",
    "turn_cancel",
    "turn_enqueue",
    "turn_get",
    "turn_mark_started",
    "turn_regenerate",
    "turn_row_exists",
    "turn_send",
    "turn_send_first",
    "turn_settle",
    "turns_cancel",
    "turns_reap",
]
