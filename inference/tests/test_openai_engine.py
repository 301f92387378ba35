"""The OpenAI-compatible adapter against a fake upstream on 127.0.0.1 that streams canned SSE."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from inference.engines.base import EngineError, GenerationRequest
from inference.engines.openai import OpenAIEngine
from inference.protocol import SamplingSettings


def sse(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {data}\n\n".encode()


def delta(**fields: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": fields, "finish_reason": None}]}


class FakeUpstream:
    """Records requests; streams the scripted events, optionally forever (to test abort)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.events: list[dict[str, Any] | str] = []
        self.endless = False
        self.status = 200
        self.disconnected = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        if self.status != 200:
            return web.json_response({"error": {"message": "overloaded"}}, status=self.status)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            for event in self.events:
                await response.write(sse(event))
            while self.endless:
                await response.write(sse(delta(content="more ")))
                await asyncio.sleep(0.01)
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnected.set()
            raise
        return response


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[FakeUpstream, str]]:
    fake = FakeUpstream()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake, f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


@pytest.fixture
async def engine(upstream: tuple[FakeUpstream, str]) -> AsyncIterator[OpenAIEngine]:
    _, base_url = upstream
    eng = OpenAIEngine(base_url=base_url, api_key="sk-test", model="deepseek-reasoner", chat_model="deepseek-chat")
    await eng.start()
    yield eng
    await eng.shutdown()


def request(*, reasoning: bool = True, request_id: str = "r1") -> GenerationRequest:
    return GenerationRequest(
        request_id=request_id,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Why is the sky blue?"},
            {"role": "assistant", "content": "<think>\nold\n</think>\n\nScattering."},
            {"role": "user", "content": "And the sea?"},
        ],
        reasoning=reasoning,
        sampling=SamplingSettings(temperature=0.6, top_p=0.95, max_tokens=64),
    )


USAGE = {
    "choices": [],
    "usage": {
        "prompt_tokens": 21,
        "completion_tokens": 9,
        "total_tokens": 30,
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
}


async def test_vllm_style_reasoning_and_usage_are_mapped(
    engine: OpenAIEngine, upstream: tuple[FakeUpstream, str]
) -> None:
    fake, _ = upstream
    fake.events = [
        delta(role="assistant", content=""),
        delta(reasoning="The user asks "),
        delta(reasoning="about the sea."),
        delta(content="Rivers carry "),
        delta(content="salt."),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        USAGE,
        "[DONE]",
    ]
    chunks = [chunk async for chunk in engine.generate(request())]
    assert "".join(c.reasoning for c in chunks) == "The user asks about the sea."
    assert "".join(c.content for c in chunks) == "Rivers carry salt."
    last = chunks[-1]
    assert last.finish_reason == "stop"
    assert (last.prompt_tokens, last.completion_tokens, last.reasoning_tokens) == (21, 9, 2)

    sent = fake.requests[0]
    assert sent["model"] == "deepseek-reasoner"
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["max_tokens"] == 64
    assert sent["messages"] == [
        {"role": "user", "content": "Be brief.\n\nWhy is the sky blue?"},
        {"role": "assistant", "content": "Scattering."},
        {"role": "user", "content": "And the sea?"},
    ]
    assert fake.headers[0]["Authorization"] == "Bearer sk-test"


async def test_deepseek_style_reasoning_content_is_mapped(
    engine: OpenAIEngine, upstream: tuple[FakeUpstream, str]
) -> None:
    fake, _ = upstream
    fake.events = [
        delta(reasoning_content="Salt from rocks."),
        delta(content="Minerals."),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]},
        {
            "choices": [],
            "usage": {
                "prompt_tokens": 5,
                "completion_tokens": 64,
                "completion_tokens_details": {"reasoning_tokens": 40},
            },
        },
        "[DONE]",
    ]
    chunks = [chunk async for chunk in engine.generate(request())]
    assert "".join(c.reasoning for c in chunks) == "Salt from rocks."
    assert "".join(c.content for c in chunks) == "Minerals."
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].reasoning_tokens == 40


async def test_chat_mode_uses_the_chat_model_and_shows_no_reasoning(
    engine: OpenAIEngine, upstream: tuple[FakeUpstream, str]
) -> None:
    fake, _ = upstream
    fake.events = [delta(reasoning_content="hidden"), delta(content="Answer."), "[DONE]"]
    chunks = [chunk async for chunk in engine.generate(request(reasoning=False))]
    assert fake.requests[0]["model"] == "deepseek-chat"
    assert "".join(c.reasoning for c in chunks) == ""
    assert "".join(c.content for c in chunks) == "Answer."


async def test_abort_closes_the_stream(engine: OpenAIEngine, upstream: tuple[FakeUpstream, str]) -> None:
    fake, _ = upstream
    fake.events = [delta(reasoning="thinking")]
    fake.endless = True
    chunks = []
    async for chunk in engine.generate(request(request_id="long")):
        chunks.append(chunk)
        if len(chunks) == 5:
            await engine.abort("long")
    assert chunks[-1].finish_reason == "abort"
    assert len(chunks) < 50
    await asyncio.wait_for(fake.disconnected.wait(), timeout=5)


async def test_an_upstream_error_raises_an_engine_error(
    engine: OpenAIEngine, upstream: tuple[FakeUpstream, str]
) -> None:
    fake, _ = upstream
    fake.status = 503
    with pytest.raises(EngineError) as caught:
        [chunk async for chunk in engine.generate(request())]
    assert caught.value.code == "upstream_error"


def test_the_engine_is_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHALE_OPENAI_BASE_URL", "http://fleet.internal:8000/v1/")
    monkeypatch.setenv("WHALE_OPENAI_API_KEY", "k")
    monkeypatch.setenv("WHALE_OPENAI_MODEL", "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B")
    eng = OpenAIEngine.from_env()
    assert eng.base_url == "http://fleet.internal:8000/v1"
    assert eng.info.model == "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
    assert eng.chat_model == eng.model
    monkeypatch.delenv("WHALE_OPENAI_BASE_URL")
    with pytest.raises(ValueError):
        OpenAIEngine.from_env()
