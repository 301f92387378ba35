"""serving.workers: the live GPU workers (from their heartbeats), and the models clients may pick, with whether a
worker serves each."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from django.conf import settings
from redis.asyncio import Redis

from common.redis import get_redis
from inference import heartbeat, protocol
from inference.engines.base import EngineInfo
from serving.workers import model_infos, workers_alive

pytestmark = pytest.mark.django_db


def beat(worker_id: str, *, queues: list[str], model: str = "whale-tiny-r1", demo: bool = False) -> None:
    """One heartbeat, written by the GPU worker's own code."""
    info = EngineInfo(engine="vllm", model=model, is_demo_fallback=demo, max_model_len=2048)
    fields = heartbeat.heartbeat_fields(worker_id=worker_id, info=info, in_flight=1, capacity=8, queues=queues)

    async def write() -> None:
        client = Redis.from_url(settings.REDIS_URL, decode_responses=True)
        try:
            await heartbeat.beat(client, settings.WHALE_REDIS_PREFIX, fields)
        finally:
            await client.aclose()

    asyncio.run(write())


def indexed_workers() -> set[str]:
    return get_redis().smembers(protocol.workers_index_key(settings.WHALE_REDIS_PREFIX))  # type: ignore[return-value]


def test_no_heartbeat_means_no_live_workers() -> None:
    assert workers_alive() == []


def test_live_workers_are_read_from_their_heartbeats(gpu_queue: str) -> None:
    beat("gpu-2", queues=[gpu_queue])
    beat("gpu-1", queues=[gpu_queue, "elsewhere"])

    alive = workers_alive()

    assert [worker["worker_id"] for worker in alive] == ["gpu-1", "gpu-2"]
    assert alive[0]["queues"] == f"{gpu_queue},elsewhere" and alive[0]["capacity"] == "8"


def test_a_worker_whose_heartbeat_expired_is_gone_and_leaves_the_index(gpu_queue: str) -> None:
    beat("gpu-1", queues=[gpu_queue])
    beat("gpu-2", queues=[gpu_queue])
    get_redis().pexpire(protocol.worker_heartbeat_key(settings.WHALE_REDIS_PREFIX, "gpu-2"), 50)
    time.sleep(0.2)

    assert [worker["worker_id"] for worker in workers_alive()] == ["gpu-1"]
    assert indexed_workers() == {"gpu-1"}


def _models() -> dict[str, dict[str, Any]]:
    return {info["id"]: info for info in model_infos()}


def test_without_a_worker_every_model_is_listed_unavailable() -> None:
    models = _models()
    assert set(models) == {"whale-r1", "whale-chat"}
    assert {(m["available"], m["demo"], m["served_model"]) for m in models.values()} == {(False, False, "")}
    assert models["whale-r1"]["reasoning"] is True and models["whale-chat"]["reasoning"] is False


def test_a_model_is_available_once_a_worker_on_its_queue_reports(gpu_queue: str) -> None:
    beat("gpu-1", queues=[gpu_queue], model="deepseek-r1-distill", demo=False)

    r1 = _models()["whale-r1"]

    assert (r1["available"], r1["demo"], r1["served_model"]) == (True, False, "deepseek-r1-distill")


def test_a_worker_on_another_queue_makes_no_model_available() -> None:
    beat("gpu-1", queues=[f"{settings.WHALE_REDIS_PREFIX}:other-gpu"])
    assert not any(info["available"] for info in model_infos())


def test_the_demo_model_standing_in_is_flagged(gpu_queue: str) -> None:
    beat("gpu-1", queues=[gpu_queue], demo=True)
    assert _models()["whale-chat"]["demo"] is True


def test_a_disabled_model_is_not_offered(settings: Any) -> None:
    settings.WHALE_MODELS = {
        **settings.WHALE_MODELS,
        "whale-chat": {**settings.WHALE_MODELS["whale-chat"], "enabled": False},
    }
    assert set(_models()) == {"whale-r1"}
