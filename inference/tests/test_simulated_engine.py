"""The simulated engine for load tests: fixed timings, R1-shaped output, abort."""

from __future__ import annotations

import time

import pytest

from inference.engines import create_engine
from inference.engines.base import GenerationRequest
from inference.engines.simulated import SimulatedEngine
from inference.protocol import SamplingSettings


def request(*, reasoning: bool = True, max_tokens: int = 512, request_id: str = "s1") -> GenerationRequest:
    return GenerationRequest(
        request_id=request_id,
        messages=[{"role": "user", "content": "hello there"}],
        reasoning=reasoning,
        sampling=SamplingSettings(max_tokens=max_tokens),
    )


async def test_it_reasons_then_answers_with_fixed_timings() -> None:
    engine = SimulatedEngine(first_token_delay=0.05, inter_token_delay=0.005, tokens=30, reasoning_tokens=10)
    started = time.monotonic()
    chunks = [chunk async for chunk in engine.generate(request())]
    elapsed = time.monotonic() - started
    assert len(chunks) == 30
    assert all(c.reasoning for c in chunks[:10]) and all(c.content for c in chunks[10:])
    assert chunks[-1].finish_reason == "stop"
    assert (chunks[-1].completion_tokens, chunks[-1].reasoning_tokens) == (30, 10)
    assert 0.05 + 29 * 0.005 <= elapsed < 2


async def test_chat_mode_and_max_tokens() -> None:
    engine = SimulatedEngine(first_token_delay=0, inter_token_delay=0, tokens=30, reasoning_tokens=10)
    chunks = [chunk async for chunk in engine.generate(request(reasoning=False, max_tokens=5))]
    assert not any(c.reasoning for c in chunks)
    assert chunks[-1].finish_reason == "length" and chunks[-1].completion_tokens == 5


async def test_abort_ends_the_stream() -> None:
    engine = SimulatedEngine(first_token_delay=0, inter_token_delay=0.001, tokens=10_000)
    chunks = []
    async for chunk in engine.generate(request(request_id="x")):
        chunks.append(chunk)
        if len(chunks) == 3:
            await engine.abort("x")
    assert chunks[-1].finish_reason == "abort"
    assert len(chunks) == 4


def test_it_is_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHALE_SIM_TOKENS", "7")
    monkeypatch.setenv("WHALE_SIM_INTER_TOKEN_SECONDS", "0.002")
    engine = create_engine("simulated")
    assert isinstance(engine, SimulatedEngine)
    assert (engine.tokens, engine.inter_token_delay) == (7, 0.002)
    with pytest.raises(ValueError):
        create_engine("nope")
