"""Fixtures for the worker's tests: one vLLM engine per session on one long-lived loop thread, and real Redis."""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis
from redis.asyncio import Redis

from inference import protocol
from inference.engines.base import EngineInfo, GenerationChunk, GenerationRequest
from inference.models import demo_model
from inference.protocol import SamplingSettings, TurnTask
from inference.worker import LoopThread

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")


def redis_prefix() -> str:
    return os.environ.get("WHALE_REDIS_PREFIX", "whale-test-inf")


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    """The one event loop engines live on, as in the worker: tests hand it coroutines from their own thread."""
    thread = LoopThread(name="test-engine-loop")
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def vllm_engine(loop_thread: LoopThread) -> Iterator[Any]:
    """The real vLLM engine with the committed demo model, started once (about 30 s); its whole 2,048-token
    context, which a search prompt (R1's official template and the pages) needs."""
    from inference.engines.vllm import VllmEngine

    engine = VllmEngine(demo_model(), max_model_len=2048, dtype="float32", enforce_eager=True)
    loop_thread.run(engine.start(), timeout=300)
    yield engine
    loop_thread.run(engine.shutdown(), timeout=60)


@pytest.fixture(scope="session")
def loop_redis(loop_thread: LoopThread) -> Iterator[Redis]:
    """An asyncio Redis client bound to the engine loop."""

    async def connect() -> Redis:
        return Redis.from_url(REDIS_URL, decode_responses=True)

    client = loop_thread.run(connect())
    yield client
    loop_thread.run(client.aclose())


@pytest.fixture
def sync_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    client.close()


class RecordingSender:
    """Stands in for Celery's send_task: records (task name, args, queue)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[Any], str]] = []

    def __call__(self, name: str, args: list[Any], queue: str) -> None:
        self.sent.append((name, args, queue))

    def names(self) -> list[str]:
        return [name for name, _, _ in self.sent]


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


class LongAnswers:
    """Wraps an engine so every answer runs to max_tokens (ignore_eos): long enough to cancel mid-stream."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    @property
    def info(self) -> EngineInfo:
        return self.engine.info

    async def start(self) -> None:
        return None

    async def generate(self, req: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        async for chunk in self.engine.generate(dataclasses.replace(req, ignore_eos=True)):
            yield chunk

    async def abort(self, request_id: str) -> None:
        await self.engine.abort(request_id)

    async def shutdown(self) -> None:
        return None


def make_turn(
    *,
    question: str = "Why is the sky blue?",
    reasoning: bool = True,
    deadline_in: float = 120.0,
    max_tokens: int = 200,
    messages: list[protocol.ChatMessage] | None = None,
) -> TurnTask:
    turn_id = uuid.uuid4().hex
    prefix = redis_prefix()
    return TurnTask(
        turn_id=turn_id,
        conversation_id=uuid.uuid4().hex,
        user_id="user-1",
        model="whale-r1" if reasoning else "whale-chat",
        reasoning=reasoning,
        messages=messages or [{"role": "user", "content": question}],
        keys=protocol.turn_keys(prefix, turn_id),
        deadline=time.time() + deadline_in,
        sampling=SamplingSettings(temperature=0.6, top_p=0.95, max_tokens=max_tokens),
        finalize_queue=f"{prefix}:backend",
    )


def read_events(client: redis.Redis, task: TurnTask) -> list[tuple[str, dict[str, Any]]]:
    entries: Any = client.xrange(task.keys.events)
    return [protocol.decode_event(fields) for _, fields in entries]
