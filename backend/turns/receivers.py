"""What turns does when an account ends (accounts.signals, connected in turns.apps): it stops its answers."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from accounts.models import User
from common.errors import ServiceUnavailable

from .services import active_turn_ids, turn_cancel, turns_cancel

logger = logging.getLogger(__name__)


def account_deleting(*, user: User, **_: Any) -> None:
    """The account and its conversations go in this transaction: after commit, the workers drop its answers."""
    running = active_turn_ids(conversation__user=user)
    if running:
        transaction.on_commit(lambda: turns_cancel(turn_ids=running), robust=True)


def account_suspended(*, user: User, **_: Any) -> None:
    """After the suspension commits, the answers still being generated for the user are cancelled."""
    transaction.on_commit(lambda: turns_stop(user=user), robust=True)


def turns_stop(*, user: User) -> None:
    for turn_id in active_turn_ids(conversation__user=user):
        try:
            turn_cancel(user=user, turn_id=turn_id)
        except ServiceUnavailable:  # Redis is down: the reaper ends it at its deadline
            logger.warning("could not stop turn %s of a suspended user", turn_id)
