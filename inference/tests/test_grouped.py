"""Group commit of the turns' flushes, against real Redis: shared pipelines, each caller its own results."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

from inference.grouped import GroupedPipeline

from .conftest import REDIS_URL


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    await client.aclose()


def writes(key: str, value: str) -> Any:
    def build(pipe: Any) -> int:
        pipe.set(key, value, ex=60)
        pipe.get(key)
        return 2

    return build


async def test_flushes_that_arrive_together_share_one_pipeline_and_each_gets_its_own_results(
    redis_client: Redis,
) -> None:
    grouped = GroupedPipeline(redis_client)
    keys = [f"test:grouped:{uuid.uuid4().hex}" for _ in range(50)]

    results = await asyncio.gather(*(grouped.execute(writes(key, f"v{i}")) for i, key in enumerate(keys)))

    assert [result[1] for result in results] == [f"v{i}" for i in range(50)]
    assert grouped.pipelines <= 2  # the first alone, perhaps; then everyone queued meanwhile in one
    assert await redis_client.get(keys[7]) == "v7"


async def test_a_failed_command_fails_its_caller_only(redis_client: Redis) -> None:
    grouped = GroupedPipeline(redis_client)
    listed = f"test:grouped:{uuid.uuid4().hex}"
    await redis_client.rpush(listed, "x")
    await redis_client.expire(listed, 60)

    def wrong_type(pipe: Any) -> int:
        pipe.get(listed)  # a list: WRONGTYPE
        return 1

    fine, failed = await asyncio.gather(
        grouped.execute(writes(f"test:grouped:{uuid.uuid4().hex}", "ok")),
        grouped.execute(wrong_type),
        return_exceptions=True,
    )

    assert fine == [True, "ok"]
    assert isinstance(failed, ResponseError)


async def test_a_redis_that_is_gone_fails_every_flush_of_the_pipeline_with_a_redis_error() -> None:
    gone = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    grouped = GroupedPipeline(gone)
    try:
        outcomes = await asyncio.gather(
            *(grouped.execute(writes(f"k{i}", "v")) for i in range(3)), return_exceptions=True
        )
    finally:
        await gone.aclose()

    assert all(isinstance(outcome, RedisConnectionError) for outcome in outcomes), outcomes
    assert all(isinstance(outcome, RedisError) for outcome in outcomes)


async def test_a_caller_cancelled_while_it_waits_leaves_the_others_theirs(redis_client: Redis) -> None:
    grouped = GroupedPipeline(redis_client)
    first = asyncio.create_task(grouped.execute(writes(f"test:grouped:{uuid.uuid4().hex}", "a")))
    await asyncio.sleep(0)  # the first pipeline is on its way
    waiting = asyncio.create_task(grouped.execute(writes(f"test:grouped:{uuid.uuid4().hex}", "b")))
    other = asyncio.create_task(grouped.execute(writes(f"test:grouped:{uuid.uuid4().hex}", "c")))
    await asyncio.sleep(0)
    waiting.cancel()

    assert (await first)[1] == "a"
    assert (await other)[1] == "c"
    with pytest.raises(asyncio.CancelledError):
        await waiting
