"""The per-user event stream: what changed, pushed to every open tab and device of that user.

Events go to the Channels group `user.<id>` after the database commit; the WebSocket
consumer and the SSE view both forward the group's messages. Payloads are
`{type, ...}` as listed in docs/api.md ("User events").
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

CONVERSATION_CREATED = "conversation.created"
CONVERSATION_UPDATED = "conversation.updated"
CONVERSATION_DELETED = "conversation.deleted"
TURN_QUEUED = "turn.queued"
TURN_STARTED = "turn.started"
TURN_FINISHED = "turn.finished"
# Sent when staff suspend the account: open event sockets close after forwarding it.
ACCOUNT_SUSPENDED = "account.suspended"


def user_group(user_id: object) -> str:
    return f"user.{user_id}"


def user_event_publish(*, user_id: object, event_type: str, payload: dict[str, Any]) -> None:
    """Sends after commit; a lost realtime hint must never fail the write that caused it."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(
                user_group(user_id), {"type": "user.event", "event": {"type": event_type, **payload}}
            )
        except Exception:
            logger.warning("could not publish %s to user %s", event_type, user_id, exc_info=True)

    transaction.on_commit(send)
