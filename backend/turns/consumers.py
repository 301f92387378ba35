"""WebSocket twins of the SSE endpoints: /ws/turns/{id}/ and /ws/events/."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any
from urllib.parse import parse_qs

import orjson
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.models import User
from common import events, metrics
from common.errors import NotFound
from inference.protocol import Cursor

from . import streams
from .auth import user_from_access_token
from .selectors import turn_get
from .sse import load_final_message, seen_the_end

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_CURSOR = 4400
# Redis went away mid-stream: reconnect after a moment with `?after=<last id>` (docs/api.md).
CLOSE_UNAVAILABLE = 4503


def _query(scope: dict[str, Any]) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return {key: values[-1] for key, values in parse_qs(raw).items()}


async def _scope_user(scope: dict[str, Any], query: dict[str, str]) -> User | None:
    token = query.get("token")
    if not token:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, rest = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer":
                    token = rest.strip()
    return await database_sync_to_async(user_from_access_token)(token)


class OrjsonWebsocketConsumer(AsyncJsonWebsocketConsumer):
    """Frames encoded with orjson (compact UTF-8): every event of every open turn is encoded here."""

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return orjson.dumps(content).decode()


class TurnConsumer(OrjsonWebsocketConsumer):
    """Streams one turn's events as `{"id", "type", "data"}` frames, then closes with 1000."""

    pump: asyncio.Task[None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tracker = metrics.StreamTracker("websocket")

    async def connect(self) -> None:
        await self.accept()
        query = _query(self.scope)
        user = await _scope_user(self.scope, query)
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            turn = await database_sync_to_async(turn_get)(
                user=user, turn_id=self.scope["url_route"]["kwargs"]["turn_id"]
            )
            cursor = Cursor.parse(query.get("after"))
            at_the_end = await sync_to_async(seen_the_end, thread_sensitive=False)(turn.id, cursor)
        except NotFound:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        except ValueError:
            await self.close(code=CLOSE_BAD_CURSOR)
            return
        if at_the_end:  # nothing comes after a finished turn's end
            await self.close(code=1000)
            return
        self.tracker.open()
        self.pump = asyncio.create_task(self._pump(turn.id, cursor))

    async def _pump(self, turn_id: uuid.UUID, cursor: Cursor) -> None:
        try:
            async for event in streams.tail_events(
                turn_id=turn_id,
                cursor=cursor,
                load_final=lambda: load_final_message(turn_id),
                keepalive_seconds=settings.WHALE_SSE_KEEPALIVE_SECONDS,
            ):
                if event is None:
                    await self.send_json({"type": "keep-alive"})
                else:
                    await self.send_json({"id": event.id, "type": event.type, "data": event.data})
        except streams.StreamUnavailable as exc:
            logger.warning("turn %s: stream ended, Redis unavailable: %s", turn_id, exc)
            await self.close(code=CLOSE_UNAVAILABLE)
            return
        await self.close(code=1000)

    async def disconnect(self, code: int) -> None:
        self.tracker.close()
        if self.pump is not None:
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.pump

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})


class UserEventsConsumer(OrjsonWebsocketConsumer):
    """Forwards the user's events (group `user.<id>`) to every open tab and device."""

    group: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tracker = metrics.StreamTracker("websocket")

    async def connect(self) -> None:
        await self.accept()
        user = await _scope_user(self.scope, _query(self.scope))
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = events.user_group(user.id)
        self.tracker.open()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "ready"})

    async def disconnect(self, code: int) -> None:
        self.tracker.close()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def user_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
        if message["event"].get("type") == events.ACCOUNT_SUSPENDED:
            await self.close(code=CLOSE_FORBIDDEN)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
