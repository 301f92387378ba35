"""Reads for turns: an app answer of the user's."""

from __future__ import annotations

from accounts.models import User
from chat.models import Message
from common.errors import NotFound

from .stores import Id


def turn_get(*, user: User, turn_id: Id) -> Message:
    """The user's app answer with this id (404 for a turn of anyone else's, or a partner's completion)."""
    turn = (
        Message.objects.select_related("conversation", "turn")
        .filter(id=turn_id, conversation__user=user, role=Message.Role.ASSISTANT)
        .first()
    )
    if turn is None:
        raise NotFound("Turn not found.")
    return turn
