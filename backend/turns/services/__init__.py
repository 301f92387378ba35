"""Writes for turns, one module per stage of a turn's life (after Zulip's zerver/actions/):

- send: queueing any turn's generation (the app's sends are chat's: chat/sends.py);
- cancel: stopping a turn (the stop button, a partner hanging up, a suspension, a deleted conversation);
- settle: a worker's notices, started and ended, saved to the turn's row (chat's or partners' store);
- reap: settling turns whose worker is gone or whose deadline passed.

Settle, cancel and reap serve app answers and partners' completions alike, through turns/stores.py.
"""

from __future__ import annotations

from ..models import Turn
from ..selectors import turn_get
from ..stores import Id, TurnUsage, turn_exists
from .cancel import turn_cancel, turn_cancel_request, turns_cancel, user_turns_cancel
from .reap import REAP_BATCH, turns_reap
from .send import turn_create, turn_enqueue, turn_new
from .settle import turn_mark_started, turn_settle

ACTIVE_STATUSES = Turn.ACTIVE_STATUSES

__all__ = [
    "ACTIVE_STATUSES",
    "REAP_BATCH",
    "Id",
    "TurnUsage",
    "turn_cancel",
    "turn_cancel_request",
    "turn_create",
    "turn_enqueue",
    "turn_exists",
    "turn_get",
    "turn_mark_started",
    "turn_new",
    "turn_settle",
    "turns_cancel",
    "turns_reap",
    "user_turns_cancel",
]
