"""turns.consumers: the close code a turn's WebSocket answers with before it streams, and ping/pong."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from chat.models import Conversation, Message
from config.asgi import application
from turns import consumers

from .conftest import access_token, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def _queued_turn(user: Any) -> Message:
    conversation = Conversation.objects.create(user=user)
    return Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, status=Message.Status.QUEUED, model="whale-r1"
    )


async def _close_code(path: str) -> int:
    socket = WebsocketCommunicator(application, path)
    connected, _ = await socket.connect()
    assert connected  # accepted first, so the close code reaches the client
    output = await socket.receive_output(5)
    assert output["type"] == "websocket.close"
    await socket.disconnect()
    return int(output.get("code", 1000))


async def test_without_a_token_the_socket_closes_4401() -> None:
    turn = await _queued_turn(await sync_to_async(make_user)())
    assert await _close_code(f"/ws/turns/{turn.id}/") == consumers.CLOSE_UNAUTHENTICATED


async def test_another_users_turn_closes_4404() -> None:
    turn = await _queued_turn(await sync_to_async(make_user)())
    stranger = await sync_to_async(make_user)()
    token = await sync_to_async(access_token)(stranger)
    assert await _close_code(f"/ws/turns/{turn.id}/?token={token}") == consumers.CLOSE_NOT_FOUND


async def test_a_waiting_turn_streams_and_answers_a_ping() -> None:
    user = await sync_to_async(make_user)()
    turn = await _queued_turn(user)
    token = await sync_to_async(access_token)(user)
    socket = WebsocketCommunicator(application, f"/ws/turns/{turn.id}/?token={token}")
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(5) == {"type": "pong"}
    await socket.disconnect()
