"""Reads for turns: an app turn of the user's."""

from __future__ import annotations

from accounts.models import User
from common.errors import NotFound

from .models import Turn
from .stores import Id


def turn_get(*, user: User, turn_id: Id) -> Turn:
    """The user's app turn with this id, while its answer exists (404 for anyone else's, or a partner's)."""
    turn = Turn.objects.filter(id=turn_id, user=user, source=Turn.Source.APP, message__isnull=False).first()
    if turn is None:
        raise NotFound("Turn not found.")
    return turn
