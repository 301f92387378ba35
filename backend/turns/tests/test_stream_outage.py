"""A turn's stream while Redis goes away: SSE ends cleanly with a `retry:` hint, WebSocket closes with
4503, and the client that comes back with its cursor gets the rest exactly once.

The outage is a real one for the stream's reader: after the first read its Redis client is swapped
for one whose server refuses connections (redis-py raises ConnectionError, as during a restart).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis.asyncio as aredis
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.test import AsyncClient

from chat import sends
from chat.models import Conversation
from common.redis import get_async_redis
from config.asgi import application
from turns import consumers, streams

from .conftest import access_token
from .test_streaming import parse_sse, text_of
from .worker_double import emit, now_iso, take_lease

pytestmark = pytest.mark.django_db(transaction=True)


class RedisThatGoesAway:
    """The real client for the first `reads` stream reads, then a client of a server that is not there."""

    def __init__(self, reads: int = 1) -> None:
        self.real = get_async_redis()
        self.gone = aredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
        self.reads = reads

    async def xread(self, *args: Any, **kwargs: Any) -> Any:
        self.reads -= 1
        client = self.real if self.reads >= 0 else self.gone
        return await client.xread(*args, **kwargs)

    async def exists(self, *args: Any) -> Any:
        return await (self.real if self.reads >= 0 else self.gone).exists(*args)


def running_turn(user: Any) -> str:
    conversation = Conversation.objects.create(user=user)
    created = sends.turn_send(user=user, conversation_id=conversation.id, content="Why?", deepthink=True)
    turn_id = str(created.assistant_message.id)
    take_lease(turn_id)
    emit(turn_id, "started", {"model": "whale-r1", "started_at": now_iso()})
    emit(turn_id, "reasoning", {"delta": "Let me think."})
    emit(turn_id, "content", {"delta": "Because "})
    return turn_id


def finish(turn_id: str) -> None:
    emit(turn_id, "content", {"delta": "of light."})
    emit(turn_id, "done", {"status": "done", "finish_reason": "stop", "usage": {}, "timings": {}})


async def test_sse_ends_cleanly_with_a_retry_hint_and_the_resume_gets_the_rest_once(user, monkeypatch) -> None:
    turn_id = await sync_to_async(running_turn)(user)
    auth = {"Authorization": f"Bearer {await sync_to_async(access_token)(user)}"}
    monkeypatch.setattr(streams, "get_async_redis", lambda: RedisThatGoesAway())

    response = await AsyncClient().get(f"/api/v1/turns/{turn_id}/events", headers=auth)
    body = "".join([c.decode() if isinstance(c, bytes) else c async for c in response.streaming_content])

    assert response.status_code == 200
    before = parse_sse(body)
    assert [f["type"] for f in before] == ["queued", "started", "reasoning", "content"]
    assert body.endswith("retry: 2000\n\n")  # the last thing sent: when to come back

    monkeypatch.undo()  # Redis is back
    await sync_to_async(finish)(turn_id)
    response = await AsyncClient().get(
        f"/api/v1/turns/{turn_id}/events", headers={**auth, "Last-Event-ID": before[-1]["id"]}
    )
    after = parse_sse("".join([c.decode() if isinstance(c, bytes) else c async for c in response.streaming_content]))

    assert [f["type"] for f in after] == ["content", "done"]
    assert text_of(before + after, "content") == "Because of light."


async def test_websocket_closes_with_4503_and_resumes_from_its_cursor(user, monkeypatch) -> None:
    turn_id = await sync_to_async(running_turn)(user)
    token = await sync_to_async(access_token)(user)
    monkeypatch.setattr(streams, "get_async_redis", lambda: RedisThatGoesAway())

    socket = WebsocketCommunicator(application, f"/ws/turns/{turn_id}/?token={token}")
    connected, _ = await socket.connect()
    assert connected
    frames = []
    while True:
        output = await socket.receive_output(10)
        if output["type"] == "websocket.close":
            break
        frames.append(json.loads(output["text"]))
    await socket.wait()

    assert output["code"] == consumers.CLOSE_UNAVAILABLE == 4503
    assert [f["type"] for f in frames] == ["queued", "started", "reasoning", "content"]

    monkeypatch.undo()
    await sync_to_async(finish)(turn_id)
    again = WebsocketCommunicator(application, f"/ws/turns/{turn_id}/?token={token}&after={frames[-1]['id']}")
    await again.connect()
    rest = []
    while True:
        output = await again.receive_output(10)
        if output["type"] == "websocket.close":
            break
        rest.append(json.loads(output["text"]))
    assert output["code"] == 1000
    assert [f["type"] for f in rest] == ["content", "done"]
