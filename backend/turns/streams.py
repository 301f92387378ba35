"""The backend's side of a turn's Redis Stream: queueing, ending a turn it owns, replaying and tailing events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from redis.exceptions import RedisError

from common.redis import get_async_redis, get_redis
from inference import protocol
from inference.protocol import Cursor, TurnKeys

from . import fanout

BACKEND_LEASE_OWNER = "backend"
# How long a client waits before it reconnects (with its cursor) after a stream ended because Redis went away.
RECONNECT_AFTER_MS = 2000


class StreamUnavailable(Exception):
    """Redis stopped answering while a turn's events were being read; the reader reconnects with its cursor."""


def keys_for(turn_id: object) -> TurnKeys:
    return protocol.turn_keys(settings.WHALE_REDIS_PREFIX, str(turn_id))


@dataclass
class TurnOutcome:
    """What a turn's stream says happened, folded from all its events."""

    reasoning: str = ""
    content: str = ""
    terminal_type: str | None = None
    terminal: dict[str, Any] = field(default_factory=dict)
    started: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.terminal_type is not None


def usage_counts(data: dict[str, Any]) -> dict[str, int]:
    """A `done` event's token usage as the three counts every settlement saves (0 when missing)."""
    usage = data.get("usage") or {}
    return {name: int(usage.get(name) or 0) for name in ("prompt_tokens", "completion_tokens", "reasoning_tokens")}


def fold_events(entries: list[tuple[str, dict[str, str]]]) -> TurnOutcome:
    outcome = TurnOutcome()
    reasoning: list[str] = []
    content: list[str] = []
    for _entry_id, fields in entries:
        event_type, data = protocol.decode_event(fields)
        if event_type == protocol.EVENT_REASONING:
            reasoning.append(data.get("delta", ""))
        elif event_type == protocol.EVENT_CONTENT:
            content.append(data.get("delta", ""))
        elif event_type == protocol.EVENT_STARTED:
            outcome.started = data
        elif event_type in protocol.TERMINAL_EVENTS and outcome.terminal_type is None:
            outcome.terminal_type = event_type
            outcome.terminal = data
    outcome.reasoning = "".join(reasoning)
    outcome.content = "".join(content)
    return outcome


def turn_outcome(turn_id: object) -> TurnOutcome | None:
    """Everything the stream holds for a turn, or None when the stream is gone."""
    keys = keys_for(turn_id)
    entries = cast(list[tuple[str, dict[str, str]]], get_redis().xrange(keys.events))
    if not entries:
        return None
    return fold_events(entries)


@dataclass(frozen=True)
class StreamGlance:
    """What the reaper needs of a turn's stream without reading it all: its last event and its lease."""

    exists: bool
    last_type: str | None
    lease: str | None

    @property
    def finished(self) -> bool:
        return self.last_type in protocol.TERMINAL_EVENTS

    @property
    def started(self) -> bool:
        # A worker writes `started` before any text; waiting turns only ever get `queued` events.
        return self.last_type not in (None, protocol.EVENT_QUEUED)


def glance_many(turn_ids: list[Any]) -> list[StreamGlance]:
    """Each turn's last stream event and lease holder, in one round trip."""
    pipe = get_redis().pipeline(transaction=False)
    for turn_id in turn_ids:
        keys = keys_for(turn_id)
        pipe.xrevrange(keys.events, count=1)
        pipe.get(keys.lease)
    results = pipe.execute()
    glances = []
    for last, lease in zip(results[0::2], results[1::2], strict=True):
        last_type = protocol.decode_event(last[0][1])[0] if last else None
        glances.append(StreamGlance(exists=bool(last), last_type=last_type, lease=lease))
    return glances


def ended_turn_ids(turn_ids: list[str]) -> list[str]:
    """The turns among these whose stream already holds their last event (done or error), in one round trip."""
    if not turn_ids:
        return []
    glances = glance_many(turn_ids)
    return [
        turn_id
        for turn_id, glance in zip(turn_ids, glances, strict=True)
        if glance.last_type in protocol.TERMINAL_EVENTS
    ]


def write_terminal_if_unowned(turn_id: object, event_type: str, data: dict[str, Any]) -> bool:
    """Writes a terminal event for a turn no worker is running; False when a worker holds it.

    Taking the lease first means a worker that picks the task up later finds the turn
    already ended and leaves it alone, and a running worker is never talked over.
    """
    keys = keys_for(turn_id)
    client = get_redis()
    if not client.set(keys.lease, BACKEND_LEASE_OWNER, nx=True, ex=protocol.LEASE_TTL_SECONDS * 4):
        return False
    existing = cast(list[tuple[str, dict[str, str]]], client.xrange(keys.events))
    if existing and fold_events(existing).finished:
        return True
    pipe = client.pipeline()
    pipe.xadd(keys.events, protocol.encode_event(event_type, data))  # type: ignore[arg-type]
    pipe.expire(keys.events, protocol.STREAM_TTL_SECONDS)
    pipe.execute()
    return True


def cursor_past_end(turn_id: object, cursor: Cursor) -> bool:
    """True when the turn's stream has ended at or before `cursor`: the client has seen everything, so
    its stream should end at once rather than wait for events that never come. Raises ValueError for
    a cursor ahead of a stream still running (no server handed it out). An expired stream is False:
    the saved message answers the client (tail_events replays it)."""
    if cursor.stream_id == "0":
        return False
    last = cast(list[tuple[str, dict[str, str]]], get_redis().xrevrange(keys_for(turn_id).events, count=1))
    if not last:
        return False
    last_id, fields = last[0]
    end = protocol.stream_id_position(last_id)
    if cursor.stream_position < end:
        return False
    if protocol.decode_event(fields)[0] in protocol.TERMINAL_EVENTS:
        return True
    if cursor.stream_position > end:
        raise ValueError("cursor is ahead of this turn's stream")
    return False


def request_cancel(turn_id: object) -> None:
    get_redis().set(keys_for(turn_id).cancel, "1", ex=protocol.STREAM_TTL_SECONDS)


def queue_length(queue: str) -> int:
    """Tasks waiting in a queue, over all its priority lists (kombu's Redis transport keeps one per step)."""
    from ratelimits.admission import waiting_total

    return waiting_total(queue)


# A waiting turn's new place in its queue, from the beat task (ratelimits.admission.queue_positions_publish):
# not once a worker holds the lease (it writes `started` next), nor twice for one position.
QUEUE_POSITION_LUA = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('GET', KEYS[3]) == ARGV[1] then return 0 end
redis.call('XADD', KEYS[1], '*', 'type', 'queued', 'data', ARGV[2])
redis.call('SET', KEYS[3], ARGV[1], 'EX', tonumber(ARGV[3]))
return 1
"""


def queued_data(position: int, fallback: dict[str, str] | None = None) -> dict[str, Any]:
    """A `queued` event's data: the place in the queue and, when DeepThink fell back, to which model."""
    queued: dict[str, Any] = {"position": position}
    if fallback:
        queued["fallback"] = fallback
    return queued


def queued_write(turn_id: object, position: int, fallback: dict[str, str] | None, *, on_gpu_queue: bool) -> None:
    """A new turn's first event, `queued`, and its stream's expiry, in one round trip; on the GPU queue also
    the position the beat task compares with (queue_position_publish). Raises RedisError."""
    from ratelimits.admission import position_key

    keys = keys_for(turn_id)
    pipe = get_redis().pipeline(transaction=False)
    pipe.xadd(keys.events, protocol.encode_event(protocol.EVENT_QUEUED, queued_data(position, fallback)))  # type: ignore[arg-type]
    pipe.expire(keys.events, settings.WHALE_TURN_DEADLINE_SECONDS + protocol.STREAM_TTL_SECONDS)
    if on_gpu_queue:
        pipe.set(position_key(turn_id), position, ex=settings.WHALE_TURN_DEADLINE_SECONDS)
    pipe.execute()


def queue_position_publish(turn_id: str, position: int) -> bool:
    """Adds a `queued` event with the turn's position, if it changed; True when one was added."""
    from ratelimits.admission import position_key

    keys = keys_for(turn_id)
    data = protocol.encode_event("queued", {"position": position})["data"]
    script = get_redis().register_script(QUEUE_POSITION_LUA)
    args: list[str | int] = [position, str(data), int(settings.WHALE_TURN_DEADLINE_SECONDS)]
    return bool(script(keys=[keys.events, keys.lease, position_key(turn_id)], args=args))


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class TurnEvent:
    id: str
    type: str
    data: dict[str, Any]


async def tail_event_batches(
    *,
    turn_id: object,
    cursor: Cursor,
    load_final: Any,
    keepalive_seconds: float,
) -> AsyncGenerator[list[TurnEvent] | None, None]:
    """The turn's events after `cursor`, live, in the batches they were read in, until its terminal event;
    None is a keep-alive tick.

    While the stream exists it is the source of truth. Once it has expired, the rest of the
    answer comes from the database (`load_final()` returns the saved message or None while the
    turn is still unsaved), cut at the cursor's text offsets so nothing is sent twice. Raises
    StreamUnavailable when Redis stops answering: everything yielded so far stands, and a reader that
    comes back with the last event's id continues from there. A reader that writes a batch at once (SSE:
    one chunk) pays its write once per batch instead of once per event.
    """
    keys = keys_for(turn_id)
    async with fanout.subscribed(
        client_factory=lambda: get_async_redis(),
        prefix=settings.WHALE_REDIS_PREFIX,
        key=keys.events,
        last_id=cursor.stream_id,
    ) as subscription:
        while True:
            try:
                # asyncio.timeout, not wait_for: no task per event (wait_for starts one on Python 3.11).
                async with asyncio.timeout(max(0.1, keepalive_seconds)):
                    entries = await subscription.get()
            except TimeoutError:
                entries = []
            except RedisError as exc:
                raise StreamUnavailable(str(exc)) from exc
            if entries:
                batch: list[TurnEvent] = []
                for entry_id, fields in entries:
                    event_type, data = protocol.decode_event(fields)
                    cursor = cursor.advance(entry_id, event_type, data)
                    batch.append(TurnEvent(cursor.render(), event_type, data))
                    if event_type in protocol.TERMINAL_EVENTS:
                        yield batch
                        return
                yield batch
                continue
            try:
                exists = await subscription.client.exists(keys.events)
            except RedisError as exc:
                raise StreamUnavailable(str(exc)) from exc
            if exists:
                yield None
                continue
            message = await load_final()
            if message is None:
                # No stream and no saved result: the turn is waiting for the reaper to settle it.
                yield None
                await asyncio.sleep(min(keepalive_seconds, 1.0))
                continue
            replayed = replay_from_saved(message, cursor)
            if replayed:
                yield replayed
            return


async def tail_events(
    *,
    turn_id: object,
    cursor: Cursor,
    load_final: Any,
    keepalive_seconds: float,
) -> AsyncIterator[TurnEvent | None]:
    """tail_event_batches, one event at a time (for readers that write each event on its own)."""
    batches = tail_event_batches(
        turn_id=turn_id, cursor=cursor, load_final=load_final, keepalive_seconds=keepalive_seconds
    )
    async with contextlib.aclosing(batches):
        async for batch in batches:
            if batch is None:
                yield None
                continue
            for event in batch:
                yield event


def replay_from_saved(message: Any, cursor: Cursor) -> list[TurnEvent]:
    """The events a client at `cursor` has not seen, rebuilt from a finished message."""
    events: list[TurnEvent] = []
    reasoning_rest = message.reasoning_content[cursor.reasoning_chars :]
    content_rest = message.content[cursor.content_chars :]
    seq = 1
    position = cursor
    for event_type, delta in ((protocol.EVENT_REASONING, reasoning_rest), (protocol.EVENT_CONTENT, content_rest)):
        if delta:
            position = position.advance(f"0-{seq}", event_type, {"delta": delta})
            events.append(TurnEvent(position.render(), event_type, {"delta": delta}))
            seq += 1
    position = Cursor(f"0-{seq}", position.reasoning_chars, position.content_chars)
    if message.status == "failed":
        events.append(TurnEvent(position.render(), protocol.EVENT_ERROR, error_data(message)))
    else:
        events.append(TurnEvent(position.render(), protocol.EVENT_DONE, done_data(message)))
    return events


def error_data(message: Any) -> dict[str, Any]:
    return {
        "code": message.error_code or "turn_failed",
        "message": message.error or "The answer could not be generated.",
    }


def done_data(message: Any) -> dict[str, Any]:
    return {
        "status": message.status,
        "finish_reason": message.finish_reason,
        "usage": {
            "prompt_tokens": message.prompt_tokens,
            "completion_tokens": message.completion_tokens,
            "reasoning_tokens": message.reasoning_tokens,
        },
        "timings": {
            "queued_at": iso(message.queued_at),
            "started_at": iso(message.started_at),
            "first_token_at": iso(message.first_token_at),
            "finished_at": iso(message.finished_at),
        },
    }
