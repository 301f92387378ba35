"""Resume cursors from clients: malformed ones are a 400 (WebSocket: 4400); one at or past the end of a
finished turn ends the stream at once instead of sending keep-alives forever."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.test import AsyncClient

from chat import sends
from chat.models import Conversation
from config.asgi import application
from inference.protocol import Cursor

from .test_streaming import atoken, finished_turn, read_sse

pytestmark = pytest.mark.django_db(transaction=True)

MALFORMED = [
    "99999999999999999999999-0.0.0",  # beyond a Redis stream id's 64 bits
    "18446744073709551616-0.0.0",
    "1-18446744073709551616.0.0",
    "1700000000000-0.99999999999999999999.0",
    "1700000000000-0.0.99999999999999999999",
    "\u0663-0.0.0",  # an Arabic-Indic digit: str.isdigit() says yes, Redis says no
    "1-0.0",
    "1-0.0.0.0",
    "-1-0.0.0",
    "1--0.0.0",
    "garbage",
    "1-0.x.0",
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_the_cursor_parser_refuses_what_redis_or_the_offsets_cannot_take(raw: str) -> None:
    with pytest.raises(ValueError):
        Cursor.parse(raw)


@pytest.mark.parametrize(
    "raw", ["0", "", "0-1.0.0", "1700000000000-0.12.34", "18446744073709551615-18446744073709551615.0.0"]
)
def test_the_cursor_parser_takes_every_well_formed_cursor(raw: str) -> None:
    assert Cursor.parse(raw).render() == (Cursor().render() if raw in ("0", "") else raw)


@pytest.mark.parametrize("raw", MALFORMED)
@pytest.mark.parametrize("where", ["query", "header"])
async def test_a_malformed_cursor_is_a_400_in_the_error_shape(user, raw: str, where: str) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    headers = {"Authorization": f"Bearer {await atoken(user)}"}
    url = f"/api/v1/turns/{turn_id}/events"
    if where == "header":
        if not raw.isascii():
            pytest.skip("an HTTP header carries bytes, not this character")
        headers["Last-Event-ID"] = raw
        response = await AsyncClient().get(url, headers=headers)
    else:
        response = await AsyncClient().get(url, {"after": raw}, headers=headers)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_cursor"
    assert "after" in error["fields"]


@pytest.mark.parametrize("raw", MALFORMED[:3])
async def test_a_malformed_cursor_closes_the_websocket_with_4400(user, raw: str) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    socket = WebsocketCommunicator(application, f"/ws/turns/{turn_id}/?token={await atoken(user)}&after={raw}")
    await socket.connect()
    assert (await socket.receive_output(5))["code"] == 4400


async def _last_id(user, turn_id: str) -> str:
    status, frames = await read_sse(
        AsyncClient(), f"/api/v1/turns/{turn_id}/events", headers={"Authorization": f"Bearer {await atoken(user)}"}
    )
    assert status == 200 and frames[-1]["type"] == "done"
    return str(frames[-1]["id"])


@pytest.mark.parametrize("where", ["query", "header"])
@pytest.mark.parametrize("past", [False, True])
async def test_a_cursor_at_or_past_the_end_of_a_finished_turn_ends_the_stream_at_once(
    user, where: str, past: bool
) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    cursor = await _last_id(user, turn_id)
    if past:
        cursor = "18446744073709551615-18446744073709551615.0.0"
    headers = {"Authorization": f"Bearer {await atoken(user)}"}
    url = f"/api/v1/turns/{turn_id}/events"
    if where == "header":
        request = AsyncClient().get(url, headers={**headers, "Last-Event-ID": cursor})
    else:
        request = AsyncClient().get(url, {"after": cursor}, headers=headers)

    response = await asyncio.wait_for(request, 5)

    # 204: a browser's EventSource stops reconnecting (a 200 that closes would make it come back forever).
    assert response.status_code == 204


async def test_a_websocket_at_the_end_of_a_finished_turn_closes_at_once(user) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    cursor = await _last_id(user, turn_id)
    socket = WebsocketCommunicator(application, f"/ws/turns/{turn_id}/?token={await atoken(user)}&after={cursor}")
    await socket.connect()

    output = await socket.receive_output(5)

    assert output["type"] == "websocket.close" and output.get("code", 1000) == 1000


async def test_a_cursor_ahead_of_a_running_turns_stream_is_a_400(user) -> None:
    conversation = await sync_to_async(Conversation.objects.create)(user=user)
    created = await sync_to_async(sends.turn_send)(
        user=user, conversation_id=conversation.id, content="q", deepthink=True
    )
    response = await asyncio.wait_for(
        AsyncClient().get(
            f"/api/v1/turns/{created.assistant_message.id}/events",
            {"after": "18446744073709551615-0.0.0"},
            headers={"Authorization": f"Bearer {await atoken(user)}"},
        ),
        5,
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


async def test_a_resume_from_the_middle_still_gets_the_rest(user) -> None:
    turn_id = await sync_to_async(finished_turn)(user)
    headers = {"Authorization": f"Bearer {await atoken(user)}"}
    _, everything = await read_sse(AsyncClient(), f"/api/v1/turns/{turn_id}/events", headers=headers)

    _, rest = await read_sse(
        AsyncClient(), f"/api/v1/turns/{turn_id}/events", headers={**headers, "Last-Event-ID": everything[2]["id"]}
    )

    assert everything[:3] + rest == everything
    assert json.dumps(rest)  # plain frames
