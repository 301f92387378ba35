"""The per-user event stream: what changed, pushed to every open tab and device of that user.

Events go to the Channels group `user.<id>` after the database commit; the WebSocket
consumer and the SSE view both forward the group's messages. Payloads are
`{type, ...}` as listed in docs/api.md ("User events").
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import os
import threading
from typing import Any

from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from django.db import transaction

logger = logging.getLogger(__name__)

CONVERSATION_CREATED = "conversation.created"
CONVERSATION_UPDATED = "conversation.updated"
CONVERSATION_DELETED = "conversation.deleted"
TURN_QUEUED = "turn.queued"
TURN_STARTED = "turn.started"
TURN_FINISHED = "turn.finished"
# An attachment's status changed (uploading, reading, ready, failed), or it was deleted (files app).
FILE_UPDATED = "file.updated"
FILE_DELETED = "file.deleted"
# Sent when staff suspend the account: open event sockets close after forwarding it.
ACCOUNT_SUSPENDED = "account.suspended"


def user_group(user_id: object) -> str:
    return f"user.{user_id}"


def user_event_publish(*, user_id: object, event_type: str, payload: dict[str, Any]) -> None:
    """Sends after commit, without waiting; a lost realtime hint must never fail the write that caused it."""
    group = user_group(user_id)
    message = {"type": "user.event", "event": {"type": event_type, **payload}}
    transaction.on_commit(lambda: publisher.publish(group, message))


class Publisher:
    """Sends channel-layer group messages from a thread and event loop of its own.

    A request thread that waited for the ASGI server's loop (`async_to_sync`) would stand in line
    behind every stream that loop is serving; a Celery thread would build and tear down a loop per
    message. Here the caller only hands the message over. One loop, one queue: a process's events
    go out in the order they were published.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]] | concurrent.futures.Future[None]] | None = None
        self._pid: int | None = None

    def publish(self, group: str, message: dict[str, Any]) -> None:
        try:
            loop, queue = self._started()
            loop.call_soon_threadsafe(queue.put_nowait, (group, message))
        except Exception:
            logger.warning("could not publish %s to %s", message.get("event", {}).get("type"), group, exc_info=True)

    def flush(self, timeout: float = 5.0) -> bool:
        """Waits until everything published so far has been sent (tests, and the process's exit)."""
        if self._loop is None or self._queue is None or self._pid != os.getpid():
            return True
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, done)
            done.result(timeout)
        except (RuntimeError, concurrent.futures.TimeoutError):
            return False
        return True

    def _started(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]:
        with self._lock:
            if self._loop is None or self._queue is None or self._pid != os.getpid():
                ready = threading.Event()
                threading.Thread(target=self._run, args=(ready,), name="user-events", daemon=True).start()
                ready.wait(5)
                self._pid = os.getpid()
            assert self._loop is not None and self._queue is not None
            return self._loop, self._queue

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop, self._queue = loop, asyncio.Queue()
        ready.set()
        loop.run_until_complete(self._send_forever(self._queue))

    @staticmethod
    async def _send_forever(queue: asyncio.Queue[Any]) -> None:
        layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)  # this loop's own connections
        while True:
            item = await queue.get()
            if isinstance(item, concurrent.futures.Future):
                item.set_result(None)
                continue
            group, message = item
            try:
                await layer.group_send(group, message)
            except Exception:
                logger.warning("could not publish %s to %s", message["event"].get("type"), group, exc_info=True)


publisher = Publisher()
atexit.register(publisher.flush, 2.0)
