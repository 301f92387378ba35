"""WebSocket twins of the SSE endpoints: /ws/turns/{id}/ and /ws/events/."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import orjson
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.models import User
from accounts.selectors import user_get
from common import events, metrics
from common.errors import NotFound
from inference.protocol import Cursor

from . import streams
from .auth import access_token_expiry, user_from_access_token
from .selectors import turn_get
from .sse import load_final_message, seen_the_end

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_CURSOR = 4400
# Redis went away mid-stream: reconnect after a moment with `?after=<last id>` (docs/api.md).
CLOSE_UNAVAILABLE = 4503
# Turns one user socket streams at once (sends and subscriptions); more is `refused` 429 too_many_streams.
MAX_TURNS_PER_SOCKET = 16
TOO_MANY_STREAMS = f"This connection already streams {MAX_TURNS_PER_SOCKET} answers; wait for one to end."

# Sends over the user's socket are the app's (chat/socket_sends.py), handed over when chat starts
# (chat/apps.py), so turns imports nothing of chat: (user_id, frame, secure=, host=, token_expires_at=) ->
# the `sent` or `refused` reply.
SocketSender = Callable[..., dict[str, Any]]
_socket_frame_types: tuple[str, ...] = ()
_socket_sender: SocketSender | None = None


def socket_sender_set(frame_types: tuple[str, ...], sender: SocketSender | None) -> None:
    global _socket_frame_types, _socket_sender
    _socket_frame_types, _socket_sender = (frame_types, sender) if sender is not None else ((), None)


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _query(scope: dict[str, Any]) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return {key: values[-1] for key, values in parse_qs(raw).items()}


def _raw_token(scope: dict[str, Any], query: dict[str, str]) -> str | None:
    token = query.get("token")
    if token:
        return token
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, rest = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return rest.strip()
    return None


async def _scope_user(scope: dict[str, Any], query: dict[str, str]) -> User | None:
    return await database_sync_to_async(user_from_access_token)(_raw_token(scope, query))


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


def _host(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return value.decode("latin-1")
    server = scope.get("server") or ("localhost", None)
    return f"{server[0]}:{server[1]}" if server[1] else str(server[0])


class UserEventsConsumer(OrjsonWebsocketConsumer):
    """Forwards the user's events (group `user.<id>`) to every open tab and device, and takes sends:
    a `send` or `regenerate` frame starts a turn whose events then stream on this same socket as
    `turn.event` frames, so a turn costs no HTTP request (docs/api.md, "Sending over the user's socket").
    `subscribe` (with `after`) resumes a turn's events here after a reconnect."""

    group: str | None = None
    user_id: Any = None
    token_expires_at: float | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tracker = metrics.StreamTracker("websocket")
        self.pumps: dict[uuid.UUID, asyncio.Task[None]] = {}

    async def connect(self) -> None:
        await self.accept()
        query = _query(self.scope)
        user = await _scope_user(self.scope, query)
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.id
        self.token_expires_at = access_token_expiry(_raw_token(self.scope, query))
        self.group = events.user_group(user.id)
        self.tracker.open()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "ready"})

    async def disconnect(self, code: int) -> None:
        self.tracker.close()
        for pump in list(self.pumps.values()):
            pump.cancel()
        for pump in list(self.pumps.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def user_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
        if message["event"].get("type") == events.ACCOUNT_SUSPENDED:
            await self.close(code=CLOSE_FORBIDDEN)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind in _socket_frame_types and self.user_id is not None:
            await self._send_turn(content)
        elif kind == "subscribe" and self.user_id is not None:
            await self._subscribe(content)
        elif kind == "unsubscribe":
            turn_id = _as_uuid(content.get("turn_id"))
            pump = self.pumps.pop(turn_id, None) if turn_id else None
            if pump is not None:
                pump.cancel()

    async def _refuse(self, request_id: Any, status: int, code: str, message: str) -> None:
        await self.send_json(
            {"type": "refused", "request_id": request_id, "status": status, "error": {"code": code, "message": message}}
        )

    async def _send_turn(self, frame: dict[str, Any]) -> None:
        if len(self.pumps) >= MAX_TURNS_PER_SOCKET:
            await self._refuse(frame.get("request_id"), 429, "too_many_streams", TOO_MANY_STREAMS)
            return
        sender = _socket_sender
        assert sender is not None  # set with the frame types that led here
        reply = await database_sync_to_async(sender)(
            self.user_id,
            frame,
            secure=self.scope.get("scheme") == "wss",
            host=_host(self.scope),
            token_expires_at=self.token_expires_at,
        )
        await self.send_json(reply)
        if reply["type"] == "sent":
            self._start_pump(uuid.UUID(str(reply["assistant_message"]["id"])), Cursor.parse(None))

    async def _subscribe(self, frame: dict[str, Any]) -> None:
        turn_id = _as_uuid(frame.get("turn_id"))
        if turn_id is None:
            await self._refuse(frame.get("request_id"), 400, "invalid", "`turn_id` must be a turn's id.")
            return
        if turn_id in self.pumps:
            return  # already streaming here
        if len(self.pumps) >= MAX_TURNS_PER_SOCKET:
            await self._refuse(frame.get("request_id"), 429, "too_many_streams", TOO_MANY_STREAMS)
            return
        after = frame.get("after")
        try:
            user = await database_sync_to_async(user_get)(user_id=self.user_id)
            if user is None:
                raise NotFound()
            turn = await database_sync_to_async(turn_get)(user=user, turn_id=turn_id)
            cursor = Cursor.parse(after if isinstance(after, str) else None)
            at_the_end = await sync_to_async(seen_the_end, thread_sensitive=False)(turn.id, cursor)
        except NotFound:
            await self._refuse(frame.get("request_id"), 404, "not_found", "Not found.")
            return
        except ValueError as exc:
            await self._refuse(frame.get("request_id"), 400, "invalid_cursor", str(exc))
            return
        if at_the_end:
            await self.send_json({"type": "turn.closed", "turn_id": str(turn.id)})
            return
        self._start_pump(turn.id, cursor)

    def _start_pump(self, turn_id: uuid.UUID, cursor: Cursor) -> None:
        self.pumps[turn_id] = asyncio.create_task(self._pump(turn_id, cursor))

    async def _pump(self, turn_id: uuid.UUID, cursor: Cursor) -> None:
        key = str(turn_id)
        try:
            async for event in streams.tail_events(
                turn_id=turn_id,
                cursor=cursor,
                load_final=lambda: load_final_message(turn_id),
                keepalive_seconds=settings.WHALE_SSE_KEEPALIVE_SECONDS,
            ):
                if event is not None:
                    await self.send_json(
                        {"type": "turn.event", "turn_id": key, "id": event.id, "event": event.type, "data": event.data}
                    )
            await self.send_json({"type": "turn.closed", "turn_id": key})
        except streams.StreamUnavailable as exc:
            logger.warning("turn %s: socket stream interrupted, Redis unavailable: %s", turn_id, exc)
            # Subscribe again with the last id after this long; nothing is lost or sent twice.
            await self.send_json(
                {"type": "turn.interrupted", "turn_id": key, "retry_after_ms": streams.RECONNECT_AFTER_MS}
            )
        finally:
            if self.pumps.get(turn_id) is asyncio.current_task():
                del self.pumps[turn_id]
