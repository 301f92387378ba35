"""User events leave through the publisher's own thread and loop, in order, and never fail the caller."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import uuid
from typing import Any

import pytest
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from django.core.handlers.asgi import ASGIHandler
from django.db import transaction

from common import events


class Listener:
    """A member of a user's group on a thread and loop of its own, collecting what arrives."""

    def __init__(self, user_id: object) -> None:
        self.group = events.user_group(user_id)
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._listen()), daemon=True)

    async def _listen(self) -> None:
        layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        channel = await layer.new_channel()
        await layer.group_add(self.group, channel)
        self._ready.set()
        try:
            while not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    self.received.put(await asyncio.wait_for(layer.receive(channel), 0.2))
        finally:
            await layer.group_discard(self.group, channel)

    def __enter__(self) -> Listener:
        self._thread.start()
        assert self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def take(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        return [self.received.get(timeout=timeout) for _ in range(count)]


def test_events_published_from_many_threads_reach_the_group_each_threads_in_order() -> None:
    user_id = uuid.uuid4()

    def publish(thread: int) -> None:
        for n in range(10):
            events.publisher.publish(
                events.user_group(user_id), {"type": "user.event", "event": {"type": "t", "thread": thread, "n": n}}
            )

    with Listener(user_id) as listener:
        threads = [threading.Thread(target=publish, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        received = listener.take(40)

    for t in range(4):
        assert [m["event"]["n"] for m in received if m["event"]["thread"] == t] == list(range(10))


def test_publishing_waits_for_the_commit_and_flush_waits_for_delivery(transactional_db: Any) -> None:
    user_id = uuid.uuid4()
    with Listener(user_id) as listener:
        with transaction.atomic():
            events.user_event_publish(user_id=user_id, event_type="conversation.created", payload={"id": "a"})
            assert events.publisher.flush()
            with pytest.raises(queue.Empty):  # nothing goes out before the commit
                listener.take(1, timeout=0.5)
        assert events.publisher.flush()
        [message] = listener.take(1)
    assert message["event"] == {"type": "conversation.created", "id": "a"}


def test_a_message_the_layer_refuses_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="common.events"):
        events.publisher.publish("bad group name!", {"type": "user.event", "event": {"type": "t"}})
        assert events.publisher.flush()
    assert "could not publish t to bad group name!" in caplog.text


def test_every_middleware_runs_on_the_event_loop(caplog: pytest.LogCaptureFixture, settings: Any) -> None:
    """A synchronous-only middleware would send every request to a thread and back (twice) before its view."""
    settings.DEBUG = True  # Django logs each adaptation only then
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        ASGIHandler().load_middleware(is_async=True)
    assert [r.getMessage() for r in caplog.records if "adapted" in r.getMessage()] == []
