"""Writes a turn's events exactly as a GPU worker does, through the shared protocol, for tests that
exercise the backend's side without an engine. The real worker is exercised in test_pipeline.py."""

from __future__ import annotations

from datetime import UTC, datetime

from common.redis import get_redis
from inference import protocol
from turns.streams import keys_for


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def take_lease(turn_id: object, owner: str = "worker-test") -> bool:
    return bool(get_redis().set(keys_for(turn_id).lease, owner, nx=True, ex=protocol.LEASE_TTL_SECONDS))


def emit(turn_id: object, event_type: protocol.EventType, data: dict) -> str:
    return str(get_redis().xadd(keys_for(turn_id).events, protocol.encode_event(event_type, data)))  # type: ignore[arg-type]


def run_turn(turn_id: object, reasoning: list[str], content: list[str], *, status: str = "done") -> None:
    take_lease(turn_id)
    emit(turn_id, "started", {"model": "whale-r1", "started_at": now_iso()})
    first = now_iso()
    for delta in reasoning:
        emit(turn_id, "reasoning", {"delta": delta})
    for delta in content:
        emit(turn_id, "content", {"delta": delta})
    emit(
        turn_id,
        "done",
        {
            "status": status,
            "finish_reason": "stop" if status == "done" else "cancelled",
            "usage": {"prompt_tokens": 7, "completion_tokens": 11, "reasoning_tokens": 5},
            "timings": {"started_at": first, "first_token_at": first, "finished_at": now_iso()},
        },
    )
    get_redis().delete(keys_for(turn_id).lease)
