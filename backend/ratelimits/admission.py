"""Admission control on the GPU queues: capacity per model, `server_busy` when the queue is full, and priority.

Priority is Celery's message priority on the Redis transport: kombu keeps one list per priority
step (0, 3, 6, 9; the bare queue name is step 0) and a worker's BRPOP asks the lists in that
order, so a waiting pro turn (3) is always taken before a waiting free one (6). The GPU worker
reserves only as many tasks as it runs (prefetch 1 per thread), so what sits in these lists is
exactly the work waiting for a slot.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings

from common.errors import ServiceUnavailable
from common.redis import get_redis
from serving.workers import workers_alive

# kombu's Redis transport defaults (kombu.transport.redis.PRIORITY_STEPS and Channel.sep).
PRIORITY_STEPS = (0, 3, 6, 9)
PRIORITY_SEPARATOR = "\x06\x16"


def priority_step(priority: int) -> int:
    return PRIORITY_STEPS[bisect.bisect(PRIORITY_STEPS, max(0, min(9, priority))) - 1]


def priority_queue_name(queue: str, priority: int) -> str:
    step = priority_step(priority)
    return f"{queue}{PRIORITY_SEPARATOR}{step}" if step else queue


def waiting_ahead(queue: str, priority: int) -> int:
    """Tasks waiting in `queue` that a worker takes before a new task of `priority` (same step included)."""
    step = priority_step(priority)
    pipe = get_redis().pipeline(transaction=False)
    for candidate in PRIORITY_STEPS:
        if candidate <= step:
            pipe.llen(priority_queue_name(queue, candidate))
    return sum(int(n) for n in pipe.execute())


def waiting_total(queue: str) -> int:
    return waiting_ahead(queue, 9)


# Every send checks the queue against capacity; heartbeats change every few seconds. A process
# keeps what it learned from them this long.
LEARNED_CAPACITY_TTL_SECONDS = 1.0
_learned_capacity: dict[str, tuple[float, int]] = {}


def forget_learned_capacity() -> None:
    _learned_capacity.clear()


def _capacity_from_heartbeats(queue: str) -> int:
    cached = _learned_capacity.get(queue)
    if cached is not None and time.monotonic() - cached[0] < LEARNED_CAPACITY_TTL_SECONDS:
        return cached[1]
    learned = 0
    for beat in workers_alive():
        if queue in str(beat.get("queues", "")).split(","):
            try:
                learned += int(beat.get("capacity") or 0)
            except ValueError:
                continue
    _learned_capacity[queue] = (time.monotonic(), learned)
    return learned


def model_capacity(model: str, queue: str) -> int:
    """Turns the model runs at once: the sum of its live workers' heartbeat capacities, else the setting."""
    learned = _capacity_from_heartbeats(queue)
    if learned > 0:
        return learned
    configured = cast(dict[str, Any], settings.WHALE_MODELS.get(model, {})).get("capacity")
    return max(1, int(configured or settings.WHALE_MODEL_CAPACITY))


def max_waiting(model: str, queue: str) -> int:
    configured = cast(dict[str, Any], settings.WHALE_MODELS.get(model, {})).get("max_waiting")
    if configured is not None:
        return int(configured)
    return model_capacity(model, queue) * settings.WHALE_QUEUE_WAITING_FACTOR


def retry_after_estimate(*, ahead: int, capacity: int) -> int:
    """Seconds until a slot is likely free: the waves of work ahead times a typical turn's length."""
    waves = math.ceil((ahead + 1) / max(1, capacity))
    return max(1, min(300, int(waves * settings.WHALE_TURN_SECONDS_ESTIMATE)))


def admission_check(*, model: str, queue: str, priority: int) -> int:
    """Returns how many turns wait ahead; raises 503 server_busy when that many fill the queue."""
    ahead = waiting_ahead(queue, priority)
    limit = max_waiting(model, queue)
    if ahead >= limit:
        retry_after = retry_after_estimate(ahead=ahead, capacity=model_capacity(model, queue))
        raise ServiceUnavailable(
            "The server is busy right now. Your message was not sent; try again shortly.",
            code="server_busy",
            headers={"Retry-After": str(retry_after)},
            extra={"retry_after": retry_after, "model": model},
        )
    return ahead


# --- queue positions ------------------------------------------------------------------------------
# The app tells a waiting client "3 ahead of you": every few seconds the backend's beat task adds a
# new `queued` event to each waiting turn's stream whose position changed. Turn tasks carry the turn
# id as their Celery task id, so a waiting task is found in the lists by its headers alone.

# The event itself is written by the turns app (turns.streams.queue_position_publish, set here by
# turns.apps): admission knows the queues, not the turns' streams.
PositionPublisher = Callable[[str, int], bool]
_position_publisher: PositionPublisher | None = None


def position_publisher_set(publisher: PositionPublisher | None) -> None:
    global _position_publisher
    _position_publisher = publisher


def position_key(turn_id: object) -> str:
    from common.redis import key

    return key("turn", turn_id, "position")


def queue_positions(queue: str) -> dict[str, int]:
    """Turn id → how many tasks a worker takes before it, for every turn waiting in `queue`.

    A worker takes the lists in priority order and each list from its right end (kombu LPUSHes
    and BRPOPs), so a task's position is everything in the lists before its own plus what lies to
    its right in its own list."""
    import json

    pipe = get_redis().pipeline(transaction=False)
    for step in PRIORITY_STEPS:
        pipe.lrange(priority_queue_name(queue, step), 0, -1)
    positions: dict[str, int] = {}
    ahead = 0
    for raw_list in pipe.execute():
        for index, raw in enumerate(reversed(raw_list)):
            try:
                task_id = json.loads(raw)["headers"]["id"]
            except (ValueError, KeyError, TypeError):
                continue
            positions[str(task_id)] = ahead + index
        ahead += len(raw_list)
    return positions


def queue_positions_publish() -> int:
    """Hands every waiting turn's position to the publisher, which adds a `queued` event where it changed;
    returns how many it added."""
    publisher = _position_publisher
    if publisher is None:
        return 0
    published = 0
    queues = {str(spec["queue"]) for spec in cast(dict[str, dict[str, Any]], settings.WHALE_MODELS).values()}
    for queue in sorted(queues):
        for turn_id, position in queue_positions(queue).items():
            published += int(publisher(turn_id, position))
    return published
