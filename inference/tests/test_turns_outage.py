"""The turn runner while its Redis restarts: writes are retried with backoff while the lease lives.

A private redis-server with AOF is stopped and started again mid-turn (nothing it acknowledged is
lost): the turn still ends `done` with every word once. Down for longer than the lease, the turn is
left to the backend's reaper: nothing more is written and the backend is not told it finished.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.asyncio import Redis

from bench.servers import RedisServer, redis_server
from inference import protocol
from inference.engines.simulated import SimulatedEngine
from inference.turns import TurnRunner

from .conftest import RecordingSender, make_turn, read_events


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with redis_server(Path(tempfile.mkdtemp(prefix="whale-turn-outage-")), appendonly=True) as private:
        yield private


@pytest.fixture
async def client(server: RedisServer) -> AsyncIterator[Redis]:
    connection = Redis.from_url(server.url, decode_responses=True, socket_connect_timeout=1, socket_timeout=5)
    yield connection
    await connection.aclose()


@pytest.fixture
def sync_client(server: RedisServer) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(server.url, decode_responses=True)
    yield connection
    connection.close()


def _runner(client: Redis, sender: RecordingSender, tokens: int) -> TurnRunner:
    engine = SimulatedEngine(first_token_delay=0.0, inter_token_delay=0.01, tokens=tokens, reasoning_tokens=10)
    return TurnRunner(engine=engine, redis=client, send_task=sender, worker_id="w", lease_renew_interval=0.5)


async def _wait_for_text(sync_client: redis.Redis, task: protocol.TurnTask) -> None:
    deadline = time.monotonic() + 10
    while "content" not in [t for t, _ in read_events(sync_client, task)]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


async def test_a_redis_restart_mid_turn_is_ridden_out_and_the_answer_is_whole(
    server: RedisServer, client: Redis, sync_client: Any, sender: RecordingSender
) -> None:
    task = make_turn(max_tokens=300)
    running = asyncio.create_task(_runner(client, sender, tokens=300).run_turn(task))
    await _wait_for_text(sync_client, task)

    await asyncio.to_thread(server.restart, down_seconds=1.5)

    assert await asyncio.wait_for(running, 30) == "done"
    events = read_events(sync_client, task)
    types = [t for t, _ in events]
    assert types[0] == "started" and types[-1] == "done" and types.count("done") == 1
    # Every simulated token ("word") once: nothing lost, nothing written twice.
    reasoning = "".join(d["delta"] for t, d in events if t == "reasoning").split()
    content = "".join(d["delta"] for t, d in events if t == "content").split()
    assert (len(reasoning), len(content)) == (10, 290)
    assert events[-1][1]["usage"]["completion_tokens"] == 300
    assert sync_client.get(task.keys.lease) is None
    assert sender.names()[-1] == protocol.TASK_FINALIZE_TURN


async def test_an_outage_longer_than_the_lease_leaves_the_turn_to_the_reaper(
    server: RedisServer, client: Redis, sync_client: Any, sender: RecordingSender, monkeypatch: Any
) -> None:
    monkeypatch.setattr(protocol, "LEASE_TTL_SECONDS", 2)
    task = make_turn(max_tokens=2000)
    running = asyncio.create_task(_runner(client, sender, tokens=2000).run_turn(task))
    await _wait_for_text(sync_client, task)

    await asyncio.to_thread(server.stop)
    outcome = await asyncio.wait_for(running, 30)
    await asyncio.to_thread(server.start)

    assert outcome == "lease_lost"
    types = [t for t, _ in read_events(sync_client, task)]
    assert "done" not in types and "error" not in types  # the reaper writes the end (worker_lost)
    assert protocol.TASK_FINALIZE_TURN not in sender.names()
