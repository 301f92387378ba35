"""What turns does when an account ends (accounts.signals, connected in turns.apps): it cancels its turns,
in the app and on the partner API."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User

from .services import turns_cancel, user_turns_cancel
from .stores import active_turns


def account_deleting(*, user: User, **_: Any) -> None:
    """The account and its rows go in this transaction: after commit, the workers drop its turns."""
    running = [turn.id for turn in active_turns(user_id=user.pk)]
    if running:
        transaction.on_commit(lambda: turns_cancel(turn_ids=running), robust=True)


def account_suspended(*, user: User, **_: Any) -> None:
    """After the suspension commits, the turns still being generated for the user are cancelled."""
    user_id = user.pk
    transaction.on_commit(lambda: user_turns_cancel(user_id=user_id), robust=True)
