"""The GPU workers' heartbeats: which workers are alive, and the models clients may pick with whether one serves each."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from redis.exceptions import RedisError

from common.redis import get_redis
from inference import protocol

from .registry import model_list


def workers_alive() -> list[dict[str, Any]]:
    """Heartbeats of GPU workers that reported recently (their keys expire when they stop)."""
    client = get_redis()
    prefix = settings.WHALE_REDIS_PREFIX
    try:
        worker_ids = sorted(cast(set[str], client.smembers(protocol.workers_index_key(prefix))))
        if not worker_ids:
            return []
        pipe = client.pipeline()
        for worker_id in worker_ids:
            pipe.hgetall(protocol.worker_heartbeat_key(prefix, worker_id))
        beats = pipe.execute()
    except RedisError:
        return []
    alive = [beat for beat in beats if beat]
    stale = [worker_id for worker_id, beat in zip(worker_ids, beats, strict=True) if not beat]
    if stale:
        client.srem(protocol.workers_index_key(prefix), *stale)
    return alive


def model_infos() -> list[dict[str, Any]]:
    workers = workers_alive()
    infos = []
    for spec in model_list():
        if not spec.enabled:
            continue
        serving = [w for w in workers if spec.queue in str(w.get("queues", "")).split(",")]
        infos.append(
            {
                "id": spec.name,
                "display_name": spec.display_name,
                "description": spec.description,
                "reasoning": spec.reasoning,
                "available": bool(serving),
                "demo": any(str(w.get("is_demo_fallback", "")).lower() in {"1", "true"} for w in serving),
                "served_model": str(serving[0].get("model", "")) if serving else "",
            }
        )
    return infos
