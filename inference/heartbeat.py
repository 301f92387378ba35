"""A GPU worker's heartbeat in Redis: what it serves and how busy it is, so the backend knows who is alive."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError

from inference import protocol
from inference.engines.base import EngineInfo

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_SECONDS = 5.0
HEARTBEAT_TTL_SECONDS = 30
# A heartbeat older than this counts as stale for `--check`, even while its key still lives.
FRESH_SECONDS = 3 * HEARTBEAT_INTERVAL_SECONDS


def heartbeat_fields(
    *, worker_id: str, info: EngineInfo, in_flight: int, capacity: int, queues: list[str]
) -> dict[str, str]:
    return {
        "worker_id": worker_id,
        "host": socket.gethostname(),
        "model": info.model,
        "engine": info.engine,
        "is_demo_fallback": "true" if info.is_demo_fallback else "false",
        "max_model_len": str(info.max_model_len),
        "in_flight": str(in_flight),
        "capacity": str(capacity),
        "queues": ",".join(queues),
        "last_seen": datetime.now(UTC).isoformat(),
        "last_seen_epoch": f"{time.time():.3f}",
    }


async def beat(redis: Redis, prefix: str, fields: dict[str, str]) -> None:
    key = protocol.worker_heartbeat_key(prefix, fields["worker_id"])
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
        pipe.expire(key, HEARTBEAT_TTL_SECONDS)
        pipe.sadd(protocol.workers_index_key(prefix), fields["worker_id"])
        await pipe.execute()


async def beat_forever(
    redis: Redis, prefix: str, fields: Callable[[], dict[str, str]], interval: float = HEARTBEAT_INTERVAL_SECONDS
) -> None:
    while True:
        try:
            await beat(redis, prefix, fields())
        except RedisError:
            logger.warning("could not write the heartbeat", exc_info=True)
        await asyncio.sleep(interval)


async def forget(redis: Redis, prefix: str, worker_id: str) -> None:
    """Removes this worker's heartbeat at a clean shutdown, so it stops being offered at once."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.delete(protocol.worker_heartbeat_key(prefix, worker_id))
        pipe.srem(protocol.workers_index_key(prefix), worker_id)
        await pipe.execute()


def fresh_local_workers(redis: SyncRedis, prefix: str, host: str | None = None) -> list[dict[str, Any]]:
    """Heartbeats of this host's workers that reported in the last FRESH_SECONDS."""
    host = host or socket.gethostname()
    worker_ids = cast(set[str], redis.smembers(protocol.workers_index_key(prefix)))
    fresh = []
    for worker_id in sorted(worker_ids):
        beat_fields = cast(dict[str, str], redis.hgetall(protocol.worker_heartbeat_key(prefix, worker_id)))
        if not beat_fields or beat_fields.get("host") != host:
            continue
        if time.time() - float(beat_fields.get("last_seen_epoch") or 0) <= FRESH_SECONDS:
            fresh.append(beat_fields)
    return fresh
