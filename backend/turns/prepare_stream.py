"""The prepare step's hold on a turn's stream: its lease (renewed from a thread), its events, its hand-over."""

from __future__ import annotations

import contextlib
import threading
import uuid
from typing import Any, cast

from redis.exceptions import RedisError

from inference import protocol

from . import streams

EVENT_SEARCH = "search"
EVENT_NOTICE = "notice"
PREPARE_EVENTS = frozenset({EVENT_SEARCH, EVENT_NOTICE})
HANDED_OVER = "prepared"  # the `step` field of the hand-over's `queued` entry (clients read only type and data)

# The lease, renewed by a thread while the step runs; released (or the turn ended) only while still ours.
_RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# Hands the turn over to the GPU queue: a `queued` event first, so the stream never ends in a search
# event without a lease (which the reaper reads as a lost worker), then the lease goes.
_HANDOVER_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XADD', KEYS[2], '*', 'type', 'queued', 'data', ARGV[2], 'step', ARGV[3])
redis.call('DEL', KEYS[1])
return 1
"""
_END_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XADD', KEYS[2], '*', 'type', ARGV[2], 'data', ARGV[3])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
return 1
"""


class PrepareLease:
    """The turn's lease for the step's duration, renewed by a thread (research_run blocks this one)."""

    def __init__(self, turn_id: str) -> None:
        self.keys = streams.keys_for(turn_id)
        self.owner = f"prepare-{uuid.uuid4().hex[:12]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self) -> bool:
        return bool(streams.get_redis().set(self.keys.lease, self.owner, nx=True, ex=protocol.LEASE_TTL_SECONDS))

    def __enter__(self) -> PrepareLease:
        self._thread = threading.Thread(target=self._renew, name="prepare-lease", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _renew(self) -> None:
        script = streams.get_redis().register_script(_RENEW_LUA)
        while not self._stop.wait(protocol.LEASE_RENEW_SECONDS):
            with contextlib.suppress(RedisError):
                script(keys=[self.keys.lease], args=[self.owner, protocol.LEASE_TTL_SECONDS])

    def cancelled(self) -> bool:
        return bool(streams.get_redis().exists(self.keys.cancel))

    def write(self, event_type: str, data: dict[str, Any]) -> None:
        event = protocol.encode_event(cast(protocol.EventType, event_type), data)
        streams.get_redis().xadd(self.keys.events, event)  # type: ignore[arg-type]

    def hand_over(self, queued: dict[str, Any]) -> bool:
        data = protocol.encode_event("queued", queued)["data"]
        script = streams.get_redis().register_script(_HANDOVER_LUA)
        return bool(script(keys=[self.keys.lease, self.keys.events], args=[self.owner, data, HANDED_OVER]))

    def end(self, event_type: str, data: dict[str, Any]) -> bool:
        encoded = protocol.encode_event(cast(protocol.EventType, event_type), data)["data"]
        script = streams.get_redis().register_script(_END_LUA)
        args: list[str | int] = [self.owner, event_type, encoded, protocol.STREAM_TTL_SECONDS]
        return bool(script(keys=[self.keys.lease, self.keys.events], args=args))


def already_prepared(turn_id: str) -> bool:
    """A second delivery of the step: its events, its hand-over (a `queued` entry marked `step: prepared`,
    the one mark a file turn read whole leaves) or the turn's end are in the stream already."""
    entries = cast(list[tuple[str, dict[str, str]]], streams.get_redis().xrange(streams.keys_for(turn_id).events))
    kinds = {protocol.decode_event(fields)[0] for _, fields in entries}
    handed_over = any(fields.get("step") == HANDED_OVER for _, fields in entries)
    return handed_over or bool(kinds & (PREPARE_EVENTS | protocol.TERMINAL_EVENTS))
