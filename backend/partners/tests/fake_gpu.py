"""A stand-in for the GPU only: takes the next TurnTask off this run's GPU queue (real Redis, the real
payload) and writes scripted events to its stream through the shared protocol, as a worker does."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from turns.streams import keys_for
from turns.tests.worker_double import emit, now_iso, take_lease

from common.redis import get_redis
from ratelimits.admission import PRIORITY_STEPS, priority_queue_name

Script = list[tuple[str, dict[str, Any]]]


def done(finish_reason: str = "stop", *, cached: int = 0, **extra: Any) -> tuple[str, dict[str, Any]]:
    usage = {"prompt_tokens": 40, "completion_tokens": 11, "reasoning_tokens": 5, "cached_tokens": cached}
    return ("done", {"status": "done", "finish_reason": finish_reason, "usage": usage, **extra})


def _take(queue: str) -> dict[str, Any] | None:
    for step in PRIORITY_STEPS:
        raw = get_redis().lpop(priority_queue_name(queue, step))
        if raw:
            return json.loads(base64.b64decode(json.loads(raw)["body"]))[0][0]  # type: ignore[no-any-return]
    return None


@contextlib.contextmanager
def answering(queue: str, script: Script | Callable[[dict[str, Any]], Script]) -> Iterator[list[dict[str, Any]]]:
    """Answers the next turn queued while the block runs; yields the payloads it took."""
    taken: list[dict[str, Any]] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            payload = _take(queue)
            if payload is None:
                time.sleep(0.02)
                continue
            taken.append(payload)
            turn_id = payload["turn_id"]
            take_lease(turn_id)
            emit(turn_id, "started", {"model": payload["model"], "started_at": now_iso()})
            for event_type, data in script(payload) if callable(script) else script:
                emit(turn_id, event_type, data)  # type: ignore[arg-type]
            get_redis().delete(keys_for(turn_id).lease)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield taken
    finally:
        stop.set()
        thread.join(timeout=10)
