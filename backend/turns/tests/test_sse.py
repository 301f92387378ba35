"""turns.sse: the SSE frame format and TurnEventsView's answers before any stream opens (auth, owner, cursor)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from chat.models import Conversation, Message
from turns import sse, streams

from .conftest import make_user

pytestmark = pytest.mark.django_db


def _turn(user: Any) -> Message:
    conversation = Conversation.objects.create(user=user)
    return Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, status=Message.Status.QUEUED, model="whale-r1"
    )


def test_a_frame_carries_its_cursor_type_and_json_data() -> None:
    frame = sse.sse_frame("1-0.0.2", "content", {"delta": "héllo\n"})
    lines = frame.split("\n")
    assert lines[:2] == ["id: 1-0.0.2", "event: content"]
    assert json.loads(lines[2].removeprefix("data: ")) == {"delta": "héllo\n"}
    assert frame.endswith("\n\n")  # one blank line ends the frame, so a newline in the text cannot split it


def test_a_frame_without_an_id_has_no_id_line() -> None:
    assert sse.sse_frame(None, "queued", {}).startswith("event: queued\n")


def test_the_reconnect_hint_is_a_comment_and_a_retry_delay() -> None:
    hint = sse.reconnect_hint()
    assert hint.startswith(": ") and f"retry: {streams.RECONNECT_AFTER_MS}\n" in hint


def test_a_stream_needs_a_signed_in_user() -> None:
    turn = _turn(make_user())
    assert APIClient().get(f"/api/v1/turns/{turn.id}/events").status_code == 401


def test_another_users_turn_is_not_found(api: APIClient) -> None:
    turn = _turn(make_user())
    response = api.get(f"/api/v1/turns/{turn.id}/events")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_malformed_cursor_is_refused_before_the_stream_opens(api: APIClient, user: Any) -> None:
    turn = _turn(user)
    response = api.get(f"/api/v1/turns/{turn.id}/events", HTTP_LAST_EVENT_ID="not-a-cursor")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_an_error_for_a_client_that_accepts_only_an_event_stream_is_the_json_error_shape(
    api: APIClient, user: Any
) -> None:
    turn = _turn(user)
    response = api.get(
        f"/api/v1/turns/{turn.id}/events", HTTP_LAST_EVENT_ID="not-a-cursor", HTTP_ACCEPT="text/event-stream"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "invalid_cursor"  # not replaced by a generic bad_request


def test_the_events_read_together_go_out_as_one_chunk(user: Any) -> None:
    from inference.protocol import Cursor

    from .test_streaming import finished_turn, parse_sse

    turn_id = finished_turn(user)  # its whole stream is written before anyone reads it

    async def read() -> list[str]:
        return [chunk async for chunk in sse.turn_event_frames(turn_id, Cursor.parse(None))]  # type: ignore[arg-type]

    chunks = asyncio.run(read())

    assert chunks[0].startswith("retry: ")
    assert len(chunks) == 2, chunks  # one write for the whole batch, not one per event
    frames = parse_sse(chunks[1])
    assert [frame["type"] for frame in frames][:2] == ["queued", "started"]
    assert frames[-1]["type"] == "done"
    assert "".join(f["data"]["delta"] for f in frames if f["type"] == "content") == "Because of light."
