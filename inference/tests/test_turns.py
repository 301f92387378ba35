"""The turn runner against real Redis: event order, coalescing, cancel, duplicate delivery, deadline, errors, titles."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from inference import protocol
from inference.engines.base import EngineError, EngineInfo, GenerationChunk, GenerationRequest
from inference.engines.simulated import SimulatedEngine
from inference.turns import TurnRunner, clean_title

from .conftest import REDIS_URL, LongAnswers, RecordingSender, make_turn, read_events


def queue_turn(sync_redis: Any, task: protocol.TurnTask) -> None:
    """What the backend does before sending the task: the `queued` event."""
    sync_redis.xadd(task.keys.events, protocol.encode_event(protocol.EVENT_QUEUED, {"position": 0}))


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    await client.aclose()


def runner(engine: Any, redis_client: Redis, sender: RecordingSender, worker_id: str = "worker-a") -> TurnRunner:
    return TurnRunner(engine=engine, redis=redis_client, send_task=sender, worker_id=worker_id)


# --- with the real vLLM engine --------------------------------------------------------------


@pytest.fixture
def vllm_runner(vllm_engine: Any, loop_redis: Redis, sender: RecordingSender, loop_thread: Any) -> TurnRunner:
    async def build() -> TurnRunner:
        return runner(vllm_engine, loop_redis, sender)

    return loop_thread.run(build())


@pytest.mark.vllm
def test_a_turn_streams_started_reasoning_content_done_in_order(
    vllm_runner: TurnRunner, loop_thread: Any, sync_redis: Any, sender: RecordingSender
) -> None:
    task = make_turn()
    queue_turn(sync_redis, task)
    assert loop_thread.run(vllm_runner.run_turn(task), timeout=60) == "done"

    events = read_events(sync_redis, task)
    types = [event_type for event_type, _ in events]
    assert types[:2] == ["queued", "started"]
    assert types[-1] == "done"
    body = types[2:-1]
    assert body == sorted(body, key=lambda t: t != "reasoning"), "all reasoning comes before any content"
    assert "reasoning" in body and "content" in body
    reasoning = "".join(data["delta"] for t, data in events if t == "reasoning")
    content = "".join(data["delta"] for t, data in events if t == "content")
    assert "sky" in reasoning and "blue" in content
    assert "think>" not in reasoning + content

    done = events[-1][1]
    assert done["status"] == "done" and done["finish_reason"] == "stop"
    usage = done["usage"]
    assert 0 < usage["reasoning_tokens"] < usage["completion_tokens"]
    assert usage["prompt_tokens"] > 0
    assert len(body) < usage["completion_tokens"], "deltas are coalesced into fewer stream entries than tokens"
    assert set(done["timings"]) == {"queued_at", "started_at", "first_token_at", "finished_at"}
    assert done["timings"]["queued_at"] <= done["timings"]["started_at"] <= done["timings"]["first_token_at"]
    assert events[1][1]["model"] == "whale-r1" and events[1][1]["served_model"] == "whale-tiny-r1"

    assert sync_redis.get(task.keys.lease) is None
    assert 0 < sync_redis.ttl(task.keys.events) <= protocol.STREAM_TTL_SECONDS
    assert sender.sent == [
        (protocol.TASK_TURN_STARTED, [task.turn_id, done["timings"]["started_at"]], task.finalize_queue),
        (protocol.TASK_FINALIZE_TURN, [task.turn_id], task.finalize_queue),
    ]


@pytest.mark.vllm
def test_the_cancel_key_stops_a_turn_within_a_second_keeping_partial_text(
    vllm_engine: Any, loop_redis: Redis, loop_thread: Any, sync_redis: Any, sender: RecordingSender
) -> None:
    async def build() -> TurnRunner:
        return runner(LongAnswers(vllm_engine), loop_redis, sender)

    long_runner = loop_thread.run(build())
    task = make_turn(max_tokens=900)
    future = loop_thread.submit(long_runner.run_turn(task))
    deadline = time.monotonic() + 60
    while not any(t in {"reasoning", "content"} for t, _ in read_events(sync_redis, task)):
        assert time.monotonic() < deadline, "no tokens arrived"
        time.sleep(0.01)
    asked_ms = time.time() * 1000
    sync_redis.set(task.keys.cancel, "1", ex=60)
    assert future.result(timeout=10) == "cancelled"
    # When the worker wrote the end (the stream entry's own time), not when this test got round to
    # looking: a loaded machine may run the test's thread late.
    [(done_id, _fields)] = sync_redis.xrevrange(task.keys.events, count=1)
    stopped_after = (int(done_id.split("-")[0]) - asked_ms) / 1000

    events = read_events(sync_redis, task)
    done = events[-1][1]
    assert events[-1][0] == "done"
    assert done["status"] == "cancelled" and done["finish_reason"] == "cancelled"
    assert 0 < done["usage"]["completion_tokens"] < 900
    text = "".join(data.get("delta", "") for t, data in events if t in {"reasoning", "content"})
    assert text, "the partial answer stays in the stream"
    assert stopped_after < 1.0
    assert sender.names()[-1] == protocol.TASK_FINALIZE_TURN


@pytest.mark.vllm
def test_a_duplicate_delivery_writes_the_turn_once(
    vllm_runner: TurnRunner, loop_thread: Any, sync_redis: Any, sender: RecordingSender
) -> None:
    task = make_turn()
    first = loop_thread.submit(vllm_runner.run_turn(task))
    second = loop_thread.submit(vllm_runner.run_turn(task))
    assert sorted([first.result(timeout=60), second.result(timeout=60)]) == ["done", "skipped"]
    # Delivered again after it finished: the stream already ends, nothing is written.
    assert loop_thread.run(vllm_runner.run_turn(task), timeout=60) == "skipped"

    types = [t for t, _ in read_events(sync_redis, task)]
    assert types.count("started") == 1
    assert types.count("done") == 1
    assert sender.names() == [protocol.TASK_TURN_STARTED, protocol.TASK_FINALIZE_TURN]
    assert sync_redis.get(task.keys.lease) is None


@pytest.mark.vllm
def test_a_title_comes_from_the_chat_model(vllm_runner: TurnRunner, loop_thread: Any, sender: RecordingSender) -> None:
    task = protocol.TitleTask(
        conversation_id="conv-1",
        user_id="user-1",
        model="whale-chat",
        messages=[
            {"role": "user", "content": "Why does it rain?"},
            {"role": "assistant", "content": "Clouds."},
        ],
        save_queue="backend-test",
    )
    title = loop_thread.run(vllm_runner.run_title(task), timeout=60)
    assert 0 < len(title) <= 60
    assert "rain" in title.lower()
    assert sender.sent == [(protocol.TASK_SAVE_TITLE, ["conv-1", "user-1", title], "backend-test")]


# --- with stand-in engines (fast) -----------------------------------------------------------


async def test_a_turn_cancelled_before_it_starts_ends_at_once(
    redis_client: Redis, sync_redis: Any, sender: RecordingSender
) -> None:
    task = make_turn()
    sync_redis.set(task.keys.cancel, "1", ex=60)
    assert await runner(SimulatedEngine(), redis_client, sender).run_turn(task) == "cancelled"
    events = read_events(sync_redis, task)
    assert [t for t, _ in events] == ["done"]
    assert events[0][1]["status"] == "cancelled"
    assert sender.names() == [protocol.TASK_FINALIZE_TURN]


async def test_a_turn_the_backend_keeps_no_started_state_for_sends_only_its_settle(
    redis_client: Redis, sync_redis: Any, sender: RecordingSender
) -> None:
    task = dataclasses.replace(make_turn(), notify_started=False, origin="partner")  # a partner completion
    queue_turn(sync_redis, task)
    engine = SimulatedEngine(first_token_delay=0.0, inter_token_delay=0.0, tokens=5)
    assert await runner(engine, redis_client, sender).run_turn(task) == "done"
    assert [t for t, _ in read_events(sync_redis, task)][:2] == ["queued", "started"]  # the stream still says it
    # Its settle notice names the store of its row, so the backend asks that one first.
    assert sender.sent == [(protocol.TASK_FINALIZE_TURN, [task.turn_id, "partner"], task.finalize_queue)]


async def test_a_turn_past_its_deadline_fails_without_starting(
    redis_client: Redis, sync_redis: Any, sender: RecordingSender
) -> None:
    task = make_turn(deadline_in=-1)
    assert await runner(SimulatedEngine(), redis_client, sender).run_turn(task) == "deadline_exceeded"
    events = read_events(sync_redis, task)
    assert events == [("error", {"code": "deadline_exceeded", "message": events[0][1]["message"]})]
    assert sender.names() == [protocol.TASK_FINALIZE_TURN]
    assert sync_redis.get(task.keys.lease) is None


async def test_a_deadline_passing_mid_stream_ends_the_turn_with_an_error(
    redis_client: Redis, sync_redis: Any, sender: RecordingSender
) -> None:
    task = make_turn(deadline_in=0.3)
    engine = SimulatedEngine(first_token_delay=0.0, inter_token_delay=0.02, tokens=500)
    assert await runner(engine, redis_client, sender).run_turn(task) == "deadline_exceeded"
    types = [t for t, _ in read_events(sync_redis, task)]
    assert types[0] == "started" and types[-1] == "error"


async def test_a_turn_whose_lease_is_taken_is_skipped(
    redis_client: Redis, sync_redis: Any, sender: RecordingSender
) -> None:
    task = make_turn()
    sync_redis.set(task.keys.lease, "other-worker", ex=30)
    assert await runner(SimulatedEngine(), redis_client, sender).run_turn(task) == "skipped"
    assert read_events(sync_redis, task) == []
    assert sync_redis.get(task.keys.lease) == "other-worker"
    assert sender.sent == []


async def test_a_turn_already_ended_by_the_backend_is_left_alone(
    redis_client: Redis, sync_redis: Any, sender: RecordingSender
) -> None:
    task = make_turn()
    sync_redis.xadd(task.keys.events, protocol.encode_event(protocol.EVENT_DONE, {"status": "cancelled"}))
    assert await runner(SimulatedEngine(), redis_client, sender).run_turn(task) == "skipped"
    assert [t for t, _ in read_events(sync_redis, task)] == ["done"]
    assert sync_redis.get(task.keys.lease) is None
    assert sender.sent == []


async def test_deltas_are_coalesced_into_few_stream_entries(
    redis_client: Redis, sync_redis: Any, sender: RecordingSender
) -> None:
    task = make_turn(max_tokens=400)
    engine = SimulatedEngine(first_token_delay=0.0, inter_token_delay=0.001, tokens=400, reasoning_tokens=100)
    assert await runner(engine, redis_client, sender).run_turn(task) == "done"
    events = read_events(sync_redis, task)
    deltas = [t for t, _ in events if t in {"reasoning", "content"}]
    assert len(deltas) < 400 / 5
    done = events[-1][1]
    assert done["usage"] == {
        "prompt_tokens": done["usage"]["prompt_tokens"],
        "completion_tokens": 400,
        "reasoning_tokens": 100,
        "cached_tokens": 0,
    }
    content = "".join(d["delta"] for t, d in events if t == "content")
    assert content.startswith("This is a simulated answer")


async def test_the_first_delta_is_written_at_once_not_after_the_coalescing_interval(
    redis_client: Redis, sync_redis: Any, sender: RecordingSender
) -> None:
    task = make_turn(max_tokens=20)
    engine = SimulatedEngine(first_token_delay=0.0, inter_token_delay=0.05, tokens=20)
    slow_flush = TurnRunner(engine=engine, redis=redis_client, send_task=sender, worker_id="w", flush_interval=30)
    running = asyncio.create_task(slow_flush.run_turn(task))
    for _ in range(100):
        if any(t in {"reasoning", "content"} for t, _ in read_events(sync_redis, task)):
            break
        await asyncio.sleep(0.02)
    first_deltas = [d["delta"] for t, d in read_events(sync_redis, task) if t in {"reasoning", "content"}]
    assert len(first_deltas) == 1, "the first token is flushed on its own, the rest waits for the interval"
    assert not running.done()
    assert await running == "done"
    deltas = [t for t, _ in read_events(sync_redis, task) if t in {"reasoning", "content"}]
    assert len(deltas) <= 3, "after the first, the deltas still wait for the interval (here: the end)"


class GatedEngine(SimulatedEngine):
    """Produces nothing until its gate opens."""

    def __init__(self, gate: asyncio.Event, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate

    async def generate(self, req: Any) -> Any:
        await self.gate.wait()
        async for chunk in super().generate(req):
            yield chunk


async def test_a_first_token_that_arrives_during_an_empty_flush_is_written_at_once(
    redis_client: Redis, sync_redis: Any, sender: RecordingSender
) -> None:
    """The first wait ends with nothing to write; the first token comes while that flush is on its way.
    It must not then wait a whole coalescing interval (here: the rest of the turn)."""
    gate = asyncio.Event()

    class FirstTokenDuringTheFirstFlush(TurnRunner):
        async def _flush(self, keys: Any, progress: Any, *, renew: bool) -> Any:
            result = await super()._flush(keys, progress, renew=renew)
            if not gate.is_set():
                gate.set()
                for _ in range(5):  # the engine's first token arrives meanwhile
                    await asyncio.sleep(0)
                self.flush_interval = 30  # from now on, only the end of the turn would flush
            return result

    task = make_turn(max_tokens=20)
    engine = GatedEngine(gate, first_token_delay=0.0, inter_token_delay=0.05, tokens=20)
    turn_runner = FirstTokenDuringTheFirstFlush(
        engine=engine, redis=redis_client, send_task=sender, worker_id="w", flush_interval=0.05
    )
    running = asyncio.create_task(turn_runner.run_turn(task))
    for _ in range(100):
        if any(t in {"reasoning", "content"} for t, _ in read_events(sync_redis, task)):
            break
        await asyncio.sleep(0.02)
    assert not running.done(), "the first delta was written before the turn ended"
    assert await running == "done"


async def test_a_lost_lease_stops_the_turn_without_writing_more(
    redis_client: Redis, sync_redis: Any, sender: RecordingSender
) -> None:
    task = make_turn(max_tokens=1000)
    engine = SimulatedEngine(first_token_delay=0.0, inter_token_delay=0.005, tokens=1000)
    turn_runner = TurnRunner(
        engine=engine, redis=redis_client, send_task=sender, worker_id="w", lease_renew_interval=0.1
    )
    running = asyncio.create_task(turn_runner.run_turn(task))
    await asyncio.sleep(0.05)
    sync_redis.set(task.keys.lease, "backend", ex=30)  # the backend's reaper ended the turn and took it over
    assert await running == "lease_lost"
    assert "done" not in [t for t, _ in read_events(sync_redis, task)]
    assert sync_redis.get(task.keys.lease) == "backend"
    assert protocol.TASK_FINALIZE_TURN not in sender.names()


class BrokenEngine:
    info = EngineInfo(engine="broken", model="broken", is_demo_fallback=False, max_model_len=1024)

    async def start(self) -> None:
        return None

    async def generate(self, req: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        yield GenerationChunk(reasoning="partial thought", completion_tokens=1, reasoning_tokens=1)
        raise EngineError("GPU fell over", code="engine_error")

    async def abort(self, request_id: str) -> None:
        return None

    async def shutdown(self) -> None:
        return None


async def test_an_engine_failure_ends_the_turn_with_an_error_keeping_partial_text(
    redis_client: Redis, sync_redis: Any, sender: RecordingSender
) -> None:
    task = make_turn()
    assert await runner(BrokenEngine(), redis_client, sender).run_turn(task) == "error"
    events = read_events(sync_redis, task)
    assert [t for t, _ in events] == ["started", "reasoning", "error"]
    assert events[1][1] == {"delta": "partial thought"}
    assert events[-1][1]["code"] == "engine_error"
    assert "GPU" not in events[-1][1]["message"], "internal details stay in the logs"
    assert sender.names() == [protocol.TASK_TURN_STARTED, protocol.TASK_FINALIZE_TURN]


async def test_a_failed_title_falls_back_to_the_question(redis_client: Redis, sender: RecordingSender) -> None:
    task = protocol.TitleTask(
        conversation_id="c",
        user_id="u",
        model="m",
        messages=[{"role": "user", "content": "How do whales sleep at night?"}],
    )
    title = await runner(BrokenEngine(), redis_client, sender).run_title(task)
    assert title == "How do whales sleep at night"
    assert sender.sent == [(protocol.TASK_SAVE_TITLE, ["c", "u", title], protocol.BACKEND_QUEUE)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('"Why the Sky Is Blue"', "Why the Sky Is Blue"),
        ("Title: Rain Explained.", "Rain Explained"),
        ("**Coffee Basics**\nmore text", "Coffee Basics"),
        ("\u201cStarlight\u201d!", "Starlight"),
        ("", "Why is the sky blue"),
        ("   \n  ", "Why is the sky blue"),
    ],
)
def test_titles_are_cleaned(raw: str, expected: str) -> None:
    assert clean_title(raw, fallback="Why is the sky blue?") == expected


def test_long_titles_are_cut_at_a_word() -> None:
    title = clean_title("word " * 40, fallback="q")
    assert len(title) <= 60 and title.endswith("word")


class ToolCallingEngine(SimulatedEngine):
    """Answers every request with one tool call streamed in three deltas (what the vLLM engine yields)."""

    async def generate(self, req: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        assert req.tools and req.tool_choice == "required"
        parts = ['{"city": ', '"Paris"', "}"]
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            yield GenerationChunk(
                tool_calls=({"index": 0, "id": "call_1", "name": "get_weather", "arguments_delta": part},),
                completion_tokens=index + 1,
                prompt_tokens=7,
                cached_tokens=4 if last else 0,
                finish_reason="tool_calls" if last else None,
            )


async def test_a_tool_calling_turn_writes_tool_call_events_and_the_calls_in_done(
    redis_client: Redis, sync_redis: Any, sender: RecordingSender
) -> None:
    task = dataclasses.replace(
        make_turn(reasoning=False),
        tools=[{"type": "function", "function": {"name": "get_weather"}}],
        tool_choice="required",
    )
    queue_turn(sync_redis, task)

    assert await runner(ToolCallingEngine(), redis_client, sender).run_turn(task) == "done"

    events = read_events(sync_redis, task)
    calls = [data for kind, data in events if kind == protocol.EVENT_TOOL_CALL]
    assert calls and all(c["id"] == "call_1" and c["name"] == "get_weather" for c in calls)
    assert "".join(c["arguments_delta"] for c in calls) == '{"city": "Paris"}'
    kind, done = events[-1]
    assert kind == protocol.EVENT_DONE and done["finish_reason"] == "tool_calls"
    assert done["tool_calls"] == [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    ]
    assert done["usage"]["cached_tokens"] == 4


@pytest.mark.parametrize(
    ("in_flight", "seconds"), [(0, 0.05), (1, 0.05), (32, 0.05), (64, 0.1), (128, 0.2), (1000, 0.2)]
)
def test_the_coalescing_interval_grows_with_the_turns_in_flight_up_to_its_cap(
    in_flight: int, seconds: float, redis_client: Redis, sender: RecordingSender
) -> None:
    """Busy: fewer, fuller events per turn (each costs a write here and a read and a frame per reader)."""
    busy = TurnRunner(engine=SimulatedEngine(), redis=redis_client, send_task=sender, worker_id="w")
    busy.in_flight = in_flight
    assert busy.coalescing_interval() == pytest.approx(seconds)


def test_a_base_interval_longer_than_the_cap_is_kept_as_is(redis_client: Redis, sender: RecordingSender) -> None:
    slow = TurnRunner(engine=SimulatedEngine(), redis=redis_client, send_task=sender, worker_id="w", flush_interval=0.5)
    slow.in_flight = 500
    assert slow.coalescing_interval() == pytest.approx(0.5)
