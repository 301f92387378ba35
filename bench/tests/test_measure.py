"""The benchmark's own arithmetic and parsing: percentiles, the load shape, summaries and the SSE reader."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bench.clients import first_token_phases, sse_frames
from bench.measure import (
    Stopwatch,
    TurnSample,
    arrival_spread,
    percentile,
    run_level,
    summarize,
    turns_per_client,
)


def test_percentile_interpolates_between_the_closest_ranks() -> None:
    assert percentile([10.0, 20.0, 30.0, 40.0], 50) == pytest.approx(25.0)
    assert percentile([1.0, 2.0, 3.0, 4.0, 100.0], 99) == pytest.approx(96.16)
    assert percentile([], 50) is None


def test_every_level_runs_at_least_the_minimum_number_of_turns() -> None:
    assert turns_per_client(1, rounds=5, min_turns=20) == 20
    assert turns_per_client(32, rounds=5, min_turns=20) == 5
    assert turns_per_client(3, rounds=1, min_turns=20) == 7


def test_a_summary_counts_only_finished_turns_toward_tokens_and_latency() -> None:
    samples = [
        TurnSample(ok=True, first_token=0.010, total=1.0, completion_tokens=100, phases={"post": 5.0}),
        TurnSample(ok=True, first_token=0.030, total=1.0, completion_tokens=50, phases={"post": 7.0}, retries=2),
        TurnSample(ok=False, error="TurnFailed: boom"),
    ]
    result = summarize(32, samples, wall_seconds=2.0)
    assert (result.turns, result.failed, result.completion_tokens) == (3, 1, 150)
    assert result.tokens_per_second == 75.0
    assert result.mean_completion_tokens == 75.0
    assert result.first_token_p50_ms == 20.0
    assert result.phases_p50_ms == {"post": 6.0}
    assert result.retries == 2
    assert result.errors == ["TurnFailed: boom"]


async def test_a_level_runs_its_clients_at_once_and_records_failures() -> None:
    running = 0
    peak = 0

    async def turn(index: int, sequence: int) -> TurnSample:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        if index == 0 and sequence == 1:
            raise RuntimeError("lost")
        watch = Stopwatch()
        watch.token()
        return watch.sample(10)

    result = await run_level(turn, level=4, turns_each=2)
    assert peak == 4
    assert (result.turns, result.failed, result.completion_tokens) == (8, 1, 70)
    assert result.errors == ["RuntimeError: lost"]


async def test_staggered_clients_start_one_after_another_over_the_spread() -> None:
    starts: dict[int, float] = {}
    loop = asyncio.get_running_loop()
    began = loop.time()

    async def turn(index: int, sequence: int) -> TurnSample:
        starts.setdefault(index, loop.time() - began)
        watch = Stopwatch()
        watch.token()
        return watch.sample(1)

    await run_level(turn, level=4, turns_each=1, spread_seconds=0.4)
    order = sorted(starts, key=starts.__getitem__)
    assert order == [0, 1, 2, 3]
    assert starts[3] - starts[0] >= 0.3 - 0.01  # client i waits i * 0.4 / 4


def test_the_spread_is_one_typical_turn_unless_a_burst_is_asked_for() -> None:
    warm = summarize(4, [TurnSample(ok=True, first_token=0.1, total=1.5, completion_tokens=1)] * 4, 1.5)
    assert arrival_spread(warm, "staggered") == pytest.approx(1.5)
    assert arrival_spread(warm, "burst") == 0.0
    assert arrival_spread(None, "staggered") == 0.0


class _FakeContent:
    def __init__(self, lines: list[bytes]) -> None:
        self._lines = lines

    def __aiter__(self) -> Any:
        return self._iterate()

    async def _iterate(self) -> Any:
        for line in self._lines:
            yield line


class _FakeResponse:
    def __init__(self, body: bytes) -> None:
        self.content = _FakeContent(body.splitlines(keepends=True))


async def test_the_sse_reader_yields_typed_events_and_skips_comments() -> None:
    body = b'retry: 2000\n\n: keep-alive\n\nid: 1-0.0.0\nevent: queued\ndata: {"position":0}\n\ndata: [DONE]\n\n'
    frames = [frame async for frame in sse_frames(_FakeResponse(body))]  # type: ignore[arg-type]
    assert frames == [("queued", '{"position":0}'), ("message", "[DONE]")]


def test_first_token_phases_line_up_the_client_clock_with_the_server_timestamps() -> None:
    watch = Stopwatch()
    watch.started_wall = 1_000.000
    watch.first_token_wall = 1_000.100
    watch.marks = {"post": 0.040, "open": 0.050}
    timings = {
        "queued_at": "1970-01-01T00:16:40.010000+00:00",
        "started_at": "1970-01-01T00:16:40.030000+00:00",
        "first_token_at": "1970-01-01T00:16:40.090000+00:00",
    }
    phases = first_token_phases(watch, timings)
    assert phases == pytest.approx({"post": 40, "open": 10, "queued": 10, "dispatch": 20, "engine": 60, "delivery": 10})
