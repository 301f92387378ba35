"""turns.consumers: the close code a turn's WebSocket answers with before it streams, ping/pong, and sends
and subscriptions over the user's socket (chat.socket_sends, through turns.consumers.socket_sender_set)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.utils import timezone

from chat.models import Conversation, Message
from config.asgi import application
from turns import consumers

from .conftest import access_token, make_user
from .worker_double import run_turn

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


async def _user_socket(user: Any) -> WebsocketCommunicator:
    token = await sync_to_async(access_token)(user)
    socket = WebsocketCommunicator(application, f"/ws/events/?token={token}")
    connected, _ = await socket.connect()
    assert connected
    assert await socket.receive_json_from(5) == {"type": "ready"}
    return socket


async def _until(socket: WebsocketCommunicator, kind: str, turn_id: str | None = None) -> list[dict[str, Any]]:
    """Frames up to and including the first of type `kind` (for that turn), user events left out."""
    frames = []
    while True:
        frame = await socket.receive_json_from(10)
        if frame["type"] in ("sent", "refused", "turn.event", "turn.closed", "turn.interrupted"):
            frames.append(frame)
        if frame["type"] == kind and (turn_id is None or frame.get("turn_id") == turn_id):
            return frames


async def test_a_send_over_the_users_socket_streams_its_turn_on_that_socket() -> None:
    user = await sync_to_async(make_user)()
    conversation = await sync_to_async(Conversation.objects.create)(user=user)
    socket = await _user_socket(user)

    await socket.send_json_to(
        {
            "type": "send",
            "request_id": "r1",
            "conversation_id": str(conversation.id),
            "content": "Why?",
            "deepthink": True,
        }
    )
    sent = (await _until(socket, "sent"))[-1]
    assert sent["request_id"] == "r1" and sent["conversation_id"] == str(conversation.id)
    assert "RateLimit-Policy" in sent["rate_limit"]
    turn_id = sent["assistant_message"]["id"]
    await sync_to_async(run_turn)(turn_id, ["Hm."], ["Because ", "of ", "light."])
    frames = await _until(socket, "turn.closed", turn_id)

    events = [f for f in frames if f["type"] == "turn.event"]
    assert [e["event"] for e in events][:2] == ["queued", "started"] and events[-1]["event"] == "done"
    assert "".join(e["data"]["delta"] for e in events if e["event"] == "content") == "Because of light."
    assert {e["turn_id"] for e in events} == {turn_id}
    await socket.disconnect()


async def test_a_first_message_over_the_socket_creates_its_conversation() -> None:
    user = await sync_to_async(make_user)()
    socket = await _user_socket(user)
    await socket.send_json_to({"type": "send", "conversation_id": None, "content": "Hi", "deepthink": False})
    sent = (await _until(socket, "sent"))[-1]
    assert sent["conversation"]["id"] == sent["conversation_id"] and sent["conversation"]["is_generating"] is True
    await socket.disconnect()


async def test_a_refused_send_over_the_socket_says_why_as_the_http_send_would_and_writes_nothing() -> None:
    user = await sync_to_async(make_user)()
    conversation = await sync_to_async(Conversation.objects.create)(user=user)
    socket = await _user_socket(user)

    await socket.send_json_to(
        {"type": "send", "request_id": "big", "conversation_id": str(conversation.id), "content": "x" * 9000}
    )
    too_long = (await _until(socket, "refused"))[-1]
    await socket.send_json_to({"type": "send", "request_id": "bad", "conversation_id": "nope", "content": "Hi"})
    bad_id = (await _until(socket, "refused"))[-1]
    await socket.send_json_to({"type": "regenerate", "request_id": 7, "message_id": str(conversation.id)})
    bad_request_id = (await _until(socket, "refused"))[-1]

    assert too_long["request_id"] == "big" and too_long["status"] == 400
    assert too_long["error"]["code"] == "message_too_long"
    assert bad_id["status"] == 400 and "conversation_id" in bad_id["error"]["fields"]
    assert bad_request_id["status"] == 400 and "request_id" in bad_request_id["error"]["fields"]
    assert await sync_to_async(Message.objects.filter(conversation=conversation).count)() == 0
    await socket.disconnect()


async def test_a_socket_send_after_the_account_is_suspended_is_refused() -> None:
    user = await sync_to_async(make_user)()
    conversation = await sync_to_async(Conversation.objects.create)(user=user)
    socket = await _user_socket(user)
    await sync_to_async(type(user).objects.filter(pk=user.pk).update)(suspended_at=timezone.now())

    await socket.send_json_to({"type": "send", "conversation_id": str(conversation.id), "content": "Hi"})

    refused = (await _until(socket, "refused"))[-1]
    assert refused["status"] == 403 and refused["error"]["code"] == "account_suspended"
    await socket.disconnect()


async def test_subscribe_resumes_a_turn_on_the_users_socket_after_the_last_seen_id_exactly_once() -> None:
    user = await sync_to_async(make_user)()
    conversation = await sync_to_async(Conversation.objects.create)(user=user)
    socket = await _user_socket(user)
    await socket.send_json_to({"type": "send", "conversation_id": str(conversation.id), "content": "Why?"})
    turn_id = (await _until(socket, "sent"))[-1]["assistant_message"]["id"]
    await sync_to_async(run_turn)(turn_id, [], ["Because ", "of ", "light."])
    everything = [f for f in await _until(socket, "turn.closed", turn_id) if f["type"] == "turn.event"]
    await socket.disconnect()  # the phone went away after the third event

    again = await _user_socket(user)
    await again.send_json_to({"type": "subscribe", "turn_id": turn_id, "after": everything[2]["id"]})
    rest = [f for f in await _until(again, "turn.closed", turn_id) if f["type"] == "turn.event"]
    await again.send_json_to({"type": "subscribe", "turn_id": turn_id, "after": everything[-1]["id"]})
    at_the_end = await _until(again, "turn.closed", turn_id)
    stranger = await _user_socket(await sync_to_async(make_user)())
    await stranger.send_json_to({"type": "subscribe", "turn_id": turn_id})
    hidden = (await _until(stranger, "refused"))[-1]

    assert everything[:3] + rest == everything
    assert at_the_end == [{"type": "turn.closed", "turn_id": turn_id}]
    assert hidden["status"] == 404
    await again.disconnect()
    await stranger.disconnect()
