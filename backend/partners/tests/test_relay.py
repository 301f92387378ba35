"""partners/relay.py: what both partner dialects share, here the streamed body written once per batch."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from turns.tests.worker_double import emit, run_turn

from partners import relay

pytestmark = pytest.mark.django_db


def _frames(event: Any) -> list[str]:
    if event is None:
        return [": keep-alive\n\n"]
    if event.type == "started":
        return []  # an event may write nothing
    return [f"data: {event.type}\n\n", f"data: {event.data.get('delta', '')}\n\n"]


def _read(turn_id: uuid.UUID) -> list[str]:
    async def read() -> list[str]:
        return [chunk async for chunk in relay.written_in_batches(turn_id, _frames)]

    return asyncio.run(read())


def test_the_events_read_together_go_out_as_one_chunk_and_the_body_ends_at_the_terminal_event() -> None:
    turn_id = uuid.uuid4()
    run_turn(turn_id, ["Let me ", "think."], ["Because ", "of ", "light."])  # written before anyone reads
    emit(turn_id, "content", {"delta": "after the end"})  # never read: the body ends at `done`

    chunks = _read(turn_id)

    assert len(chunks) == 1, chunks  # one write for the whole batch, not one per event
    (body,) = chunks
    assert body.startswith("data: reasoning\n\ndata: Let me \n\n")
    assert "data: started" not in body
    assert body.endswith("data: done\n\ndata: \n\n")
    assert "after the end" not in body


def test_an_event_written_later_is_a_chunk_of_its_own(settings: Any) -> None:
    settings.WHALE_SSE_KEEPALIVE_SECONDS = 5
    turn_id = uuid.uuid4()
    emit(turn_id, "content", {"delta": "first"})

    async def read() -> list[str]:
        chunks: list[str] = []
        async for chunk in relay.written_in_batches(turn_id, _frames):
            chunks.append(chunk)
            if len(chunks) == 1:
                await asyncio.to_thread(emit, turn_id, "done", {"status": "done"})
        return chunks

    chunks = asyncio.run(read())

    assert chunks == ["data: content\n\ndata: first\n\n", "data: done\n\ndata: \n\n"]
