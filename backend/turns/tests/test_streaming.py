from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.test import AsyncClient

from chat import sends
from chat.models import Conversation, Message
from common.redis import get_redis
from config.asgi import application
from turns import services, streams

from .conftest import access_token, make_user
from .worker_double import emit, run_turn, take_lease

pytestmark = pytest.mark.django_db(transaction=True)

atoken = sync_to_async(access_token)


def parse_sse(body: str) -> list[dict[str, Any]]:
    import json

    frames = []
    for block in body.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            fields[name] = value.lstrip(" ")
        if "event" in fields:
            frames.append({"id": fields.get("id"), "type": fields["event"], "data": json.loads(fields["data"])})
    return frames


async def read_sse(client: AsyncClient, url: str, **headers: str) -> tuple[int, list[dict[str, Any]]]:
    response = await client.get(url, **headers)
    if response.status_code != 200:
        return response.status_code, []
    chunks = [chunk.decode() if isinstance(chunk, bytes) else chunk async for chunk in response.streaming_content]
    return 200, parse_sse("".join(chunks))


def finished_turn(user: Any) -> str:
    conversation = Conversation.objects.create(user=user)
    created = sends.turn_send(user=user, conversation_id=conversation.id, content="Why?", deepthink=True)
    turn_id = str(created.assistant_message.id)
    run_turn(turn_id, ["Let me ", "think."], ["Because ", "of ", "light."])
    return turn_id


def text_of(frames: list[dict[str, Any]], kind: str) -> str:
    return "".join(f["data"]["delta"] for f in frames if f["type"] == kind)


async def test_sse_streams_every_event_of_a_turn_in_order(user) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    client = AsyncClient()

    status, frames = await read_sse(
        client, f"/api/v1/turns/{turn_id}/events", headers={"Authorization": f"Bearer {await atoken(user)}"}
    )

    assert status == 200
    types = [f["type"] for f in frames]
    assert types[0] == "queued" and types[1] == "started" and types[-1] == "done"
    assert text_of(frames, "reasoning") == "Let me think."
    assert text_of(frames, "content") == "Because of light."
    assert len({f["id"] for f in frames}) == len(frames)


async def test_sse_resumes_after_the_last_event_id_with_nothing_missing_or_doubled(user) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    auth = {"Authorization": f"Bearer {await atoken(user)}"}
    _, everything = await read_sse(AsyncClient(), f"/api/v1/turns/{turn_id}/events", headers=auth)
    cut = 4  # the client saw queued, started and two reasoning deltas, then dropped

    _, rest = await read_sse(
        AsyncClient(), f"/api/v1/turns/{turn_id}/events", headers={**auth, "Last-Event-ID": everything[cut - 1]["id"]}
    )

    assert everything[:cut] + rest == everything


async def test_a_replay_after_the_stream_expired_comes_from_the_database(user) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    auth = {"Authorization": f"Bearer {await atoken(user)}"}
    _, everything = await read_sse(AsyncClient(), f"/api/v1/turns/{turn_id}/events", headers=auth)
    await sync_to_async(services.turn_settle)(turn_id=turn_id)
    get_redis().delete(streams.keys_for(turn_id).events)
    seen = everything[:4]  # "Let me " and "think." of the reasoning were seen

    _, rest = await read_sse(AsyncClient(), f"/api/v1/turns/{turn_id}/events?after={seen[-1]['id']}", headers=auth)

    assert text_of(seen + rest, "reasoning") == "Let me think."
    assert text_of(seen + rest, "content") == "Because of light."
    assert rest[-1]["type"] == "done"
    assert rest[-1]["data"]["usage"]["completion_tokens"] == 11


async def test_sse_needs_a_token_and_hides_other_users_turns(user) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    intruder = await sync_to_async(make_user)("eve@example.com")

    status, _ = await read_sse(AsyncClient(), f"/api/v1/turns/{turn_id}/events")
    assert status == 401
    status, _ = await read_sse(AsyncClient(), f"/api/v1/turns/{turn_id}/events?token={await atoken(intruder)}")
    assert status == 404


async def test_a_malformed_cursor_is_a_400(user) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    response = await AsyncClient().get(
        f"/api/v1/turns/{turn_id}/events?after=nonsense", headers={"Authorization": f"Bearer {await atoken(user)}"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


async def _frames_of(chunks: Any) -> list[dict[str, Any]]:
    """Reads a streaming response until one more whole SSE frame has arrived."""
    text = ""
    while "\n\n" not in text.split("retry:", 1)[-1] or not parse_sse(text):
        chunk = await chunks.__anext__()
        text += chunk.decode() if isinstance(chunk, bytes) else chunk
    return parse_sse(text)


async def test_a_send_that_accepts_an_event_stream_gets_the_whole_turn_in_the_same_response(user) -> None:
    conversation = await sync_to_async(Conversation.objects.create)(user=user)
    response = await AsyncClient().post(
        f"/api/v1/conversations/{conversation.id}/messages",
        {"content": "Why?", "deepthink": True},
        content_type="application/json",
        headers={"Authorization": f"Bearer {await atoken(user)}", "Accept": "text/event-stream"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["RateLimit-Policy"]  # the limit headers, as on the 202
    chunks = aiter(response.streaming_content)
    first = (await _frames_of(chunks))[0]
    assert first["type"] == "turn" and first["id"] is None  # the 202 body, not a resume point
    turn_id = first["data"]["assistant_message"]["id"]
    assert first["data"]["stream"]["events_url"] == f"/api/v1/turns/{turn_id}/events"

    await sync_to_async(run_turn)(turn_id, ["Let me ", "think."], ["Because ", "of ", "light."])
    rest = parse_sse("".join([c.decode() if isinstance(c, bytes) else c async for c in chunks]))

    assert [f["type"] for f in rest][:2] == ["queued", "started"] and rest[-1]["type"] == "done"
    assert text_of(rest, "content") == "Because of light."
    _, separate = await read_sse(
        AsyncClient(), f"/api/v1/turns/{turn_id}/events", headers={"Authorization": f"Bearer {await atoken(user)}"}
    )
    assert separate == rest  # the same events, ids and order as the two-step flow


async def test_a_one_request_turn_cut_mid_answer_resumes_on_the_events_url_exactly_once(user) -> None:
    conversation = await sync_to_async(Conversation.objects.create)(user=user)
    auth = {"Authorization": f"Bearer {await atoken(user)}"}
    response = await AsyncClient().post(
        f"/api/v1/conversations/{conversation.id}/messages",
        {"content": "Why?", "deepthink": True},
        content_type="application/json",
        headers={**auth, "Accept": "text/event-stream"},
    )
    chunks = aiter(response.streaming_content)
    turn_id = (await _frames_of(chunks))[0]["data"]["assistant_message"]["id"]
    await sync_to_async(run_turn)(turn_id, ["Let me ", "think."], ["Because ", "of ", "light."])
    seen = [f for f in await _frames_of(chunks) if f["type"] != "turn"]
    await chunks.aclose()  # the client dropped after its first events

    _, rest = await read_sse(
        AsyncClient(), f"/api/v1/turns/{turn_id}/events", headers={**auth, "Last-Event-ID": seen[-1]["id"]}
    )
    _, everything = await read_sse(AsyncClient(), f"/api/v1/turns/{turn_id}/events", headers=auth)

    assert seen and seen + rest == everything


async def test_a_refused_send_that_accepts_an_event_stream_gets_the_json_error_and_no_turn(user) -> None:
    conversation = await sync_to_async(Conversation.objects.create)(user=user)
    response = await AsyncClient().post(
        f"/api/v1/conversations/{conversation.id}/messages",
        {"content": "x" * 9_000, "deepthink": False},
        content_type="application/json",
        headers={"Authorization": f"Bearer {await atoken(user)}", "Accept": "text/event-stream"},
    )
    assert response.status_code == 400
    assert json.loads(response.content)["error"]["code"] == "message_too_long", response.content
    assert await sync_to_async(Message.objects.filter(conversation=conversation).count)() == 0


async def test_the_first_message_and_regenerate_also_stream_in_one_request(user) -> None:
    auth = {"Authorization": f"Bearer {await atoken(user)}", "Accept": "text/event-stream"}
    response = await AsyncClient().post(
        "/api/v1/messages", {"content": "Hi", "deepthink": False}, content_type="application/json", headers=auth
    )
    chunks = aiter(response.streaming_content)
    first = (await _frames_of(chunks))[0]
    assert response.status_code == 200 and first["data"]["conversation"]["id"]
    turn_id = first["data"]["assistant_message"]["id"]
    await sync_to_async(run_turn)(turn_id, [], ["Hello."])
    assert parse_sse("".join([c.decode() if isinstance(c, bytes) else c async for c in chunks]))[-1]["type"] == "done"
    await sync_to_async(services.turn_settle)(turn_id=turn_id)

    response = await AsyncClient().post(
        f"/api/v1/messages/{turn_id}/regenerate", {}, content_type="application/json", headers=auth
    )
    chunks = aiter(response.streaming_content)
    again = (await _frames_of(chunks))[0]["data"]["assistant_message"]["id"]
    assert response.status_code == 200 and again != turn_id
    await sync_to_async(run_turn)(again, [], ["Hello again."])
    assert (
        text_of(parse_sse("".join([c.decode() if isinstance(c, bytes) else c async for c in chunks])), "content")
        == "Hello again."
    )


async def receive_until_closed(communicator: WebsocketCommunicator, timeout: float = 5) -> list[dict[str, Any]]:
    frames = []
    while True:
        output = await communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            return frames
        import json

        frame = json.loads(output["text"])
        if frame["type"] != "keep-alive":
            frames.append(frame)


async def test_websocket_streams_a_live_turn_and_closes_when_it_ends(user) -> None:
    conversation = await sync_to_async(Conversation.objects.create)(user=user)
    created = await sync_to_async(sends.turn_send)(
        user=user, conversation_id=conversation.id, content="q", deepthink=True
    )
    turn_id = str(created.assistant_message.id)
    communicator = WebsocketCommunicator(application, f"/ws/turns/{turn_id}/?token={await atoken(user)}")
    connected, _ = await communicator.connect()
    assert connected
    queued = await communicator.receive_json_from(timeout=5)
    assert queued["type"] == "queued"

    take_lease(turn_id)
    emit(turn_id, "started", {"model": "whale-r1", "started_at": "2026-01-01T00:00:00+00:00"})
    emit(turn_id, "content", {"delta": "live "})
    emit(turn_id, "content", {"delta": "text"})
    emit(turn_id, "done", {"status": "done", "finish_reason": "stop", "usage": {}, "timings": {}})

    frames = await receive_until_closed(communicator)
    assert [f["type"] for f in frames] == ["started", "content", "content", "done"]
    assert text_of(frames, "content") == "live text"


async def test_websocket_resumes_from_a_cursor(user) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    token = await atoken(user)
    first = WebsocketCommunicator(application, f"/ws/turns/{turn_id}/?token={token}")
    await first.connect()
    everything = await receive_until_closed(first)

    second = WebsocketCommunicator(application, f"/ws/turns/{turn_id}/?token={token}&after={everything[2]['id']}")
    await second.connect()
    rest = await receive_until_closed(second)

    assert everything[:3] + rest == everything


async def test_websocket_refuses_missing_tokens_and_other_users_turns(user) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    intruder = await sync_to_async(make_user)("eve@example.com")

    anonymous = WebsocketCommunicator(application, f"/ws/turns/{turn_id}/")
    await anonymous.connect()
    assert (await anonymous.receive_output(5))["code"] == 4401

    other = WebsocketCommunicator(application, f"/ws/turns/{turn_id}/?token={await atoken(intruder)}")
    await other.connect()
    assert (await other.receive_output(5))["code"] == 4404


async def test_user_events_reach_every_open_socket_of_that_user(user) -> None:
    token = await atoken(user)
    phone = WebsocketCommunicator(application, f"/ws/events/?token={token}")
    laptop = WebsocketCommunicator(application, f"/ws/events/?token={token}")
    for socket in (phone, laptop):
        await socket.connect()
        assert (await socket.receive_json_from(5))["type"] == "ready"

    conversation = await sync_to_async(Conversation.objects.create)(user=user)
    await sync_to_async(sends.turn_send)(user=user, conversation_id=conversation.id, content="q", deepthink=False)

    for socket in (phone, laptop):
        seen = [await socket.receive_json_from(5) for _ in range(2)]
        types = {event["type"] for event in seen}
        assert {"turn.queued", "conversation.updated"} == types
        assert all(event["conversation_id"] == str(conversation.id) for event in seen)
        await socket.disconnect()


async def test_message_status_is_unchanged_by_reading(user) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    await read_sse(
        AsyncClient(), f"/api/v1/turns/{turn_id}/events", headers={"Authorization": f"Bearer {await atoken(user)}"}
    )
    message = await sync_to_async(Message.objects.get)(id=turn_id)
    assert message.status == "queued"  # reading never settles a turn; finalize does
    await asyncio.sleep(0)
