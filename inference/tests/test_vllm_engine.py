"""The vLLM adapter with the committed demo model: reasoning and answer apart, stopping, abort, continuous batching."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import re
import time
import uuid
from typing import Any

import pytest
from research.prompts import WebpageBlock, search_prompt

from inference.engines.base import GenerationChunk, GenerationRequest
from inference.protocol import SamplingSettings

pytestmark = pytest.mark.vllm


def request(question: str = "Why is the sky blue?", *, reasoning: bool = True, **kwargs: Any) -> GenerationRequest:
    sampling = SamplingSettings(
        temperature=kwargs.pop("temperature", 0.6), top_p=0.95, max_tokens=kwargs.pop("max_tokens", 200)
    )
    return GenerationRequest(
        request_id=f"test-{uuid.uuid4().hex[:8]}",
        messages=[{"role": "user", "content": question}],
        reasoning=reasoning,
        sampling=sampling,
        **kwargs,
    )


async def collect(engine: Any, req: GenerationRequest) -> list[GenerationChunk]:
    return [chunk async for chunk in engine.generate(req)]


def test_the_demo_model_reasons_then_answers_and_stops(vllm_engine: Any, loop_thread: Any) -> None:
    chunks = loop_thread.run(collect(vllm_engine, request()), timeout=60)
    reasoning = "".join(c.reasoning for c in chunks)
    content = "".join(c.content for c in chunks)
    last = chunks[-1]
    assert "sky" in reasoning and "Key ideas" in reasoning
    assert "blue" in content
    assert "<think>" not in reasoning + content and "</think>" not in reasoning + content
    assert not content.startswith("\n")
    assert last.finish_reason == "stop"
    assert 0 < last.reasoning_tokens < last.completion_tokens < 200
    assert last.prompt_tokens > 0
    assert all(c.finish_reason is None for c in chunks[:-1])
    # Reasoning deltas all come before the first content delta.
    first_content = next(i for i, c in enumerate(chunks) if c.content)
    assert not any(c.reasoning for c in chunks[first_content:])


def test_the_chat_model_answers_without_reasoning(vllm_engine: Any, loop_thread: Any) -> None:
    chunks = loop_thread.run(collect(vllm_engine, request("Why does it rain?", reasoning=False)), timeout=60)
    assert "".join(c.reasoning for c in chunks) == ""
    assert "rain" in "".join(c.content for c in chunks).lower()
    assert chunks[-1].reasoning_tokens == 0
    assert chunks[-1].finish_reason == "stop"


@pytest.mark.parametrize("reasoning", [True, False])
def test_the_demo_model_cites_the_webpages_of_a_search_prompt(
    vllm_engine: Any, loop_thread: Any, reasoning: bool
) -> None:
    """Search's prompt (R1's official template) is answered with [citation:N] markers naming its webpages."""
    blocks = [
        WebpageBlock(
            n=1,
            title="Why is the sky blue? | Science Weekly",
            url="https://science.example/sky",
            text="Air molecules scatter short blue wavelengths of sunlight far more strongly than red ones.",
        ),
        WebpageBlock(
            n=2,
            title="Why the ocean looks blue - Sea Facts",
            url="https://sea.example/ocean",
            text="Water absorbs red light a little more strongly than blue light.",
        ),
    ]
    question = search_prompt(question="Why is the sky blue?", blocks=blocks, today=dt.date(2026, 12, 3))
    answers = []
    for seed in range(4):
        req = request(question, reasoning=reasoning, max_tokens=256)
        req = dataclasses.replace(req, sampling=dataclasses.replace(req.sampling, seed=seed))
        chunks = loop_thread.run(collect(vllm_engine, req), timeout=120)
        answers.append("".join(c.content for c in chunks))

    cited = [{int(n) for n in re.findall(r"\[citation:(\d+)\]", answer)} for answer in answers]
    assert all(numbers and numbers <= {1, 2} for numbers in cited), answers
    assert all("blue" in answer for answer in answers), answers


def test_abort_stops_a_request_mid_stream(vllm_engine: Any, loop_thread: Any) -> None:
    req = request(max_tokens=900, ignore_eos=True)

    async def abort_after_some_tokens() -> list[GenerationChunk]:
        chunks = []
        async for chunk in vllm_engine.generate(req):
            chunks.append(chunk)
            if chunk.completion_tokens >= 20 and len(chunks) == 20:
                await vllm_engine.abort(req.request_id)
        return chunks

    started = time.monotonic()
    chunks = loop_thread.run(abort_after_some_tokens(), timeout=60)
    assert chunks[-1].finish_reason == "abort"
    assert 20 <= chunks[-1].completion_tokens < 900
    assert time.monotonic() - started < 30


def test_concurrent_requests_are_batched(vllm_engine: Any, loop_thread: Any) -> None:
    """32 requests at once finish much faster than one after another: vLLM batches them."""
    count, tokens = 32, 64

    def batch() -> list[GenerationRequest]:
        return [request(f"Tell me about the sea {i}", max_tokens=tokens, ignore_eos=True) for i in range(count)]

    async def sequential() -> list[list[GenerationChunk]]:
        return [await collect(vllm_engine, req) for req in batch()]

    async def concurrent() -> list[list[GenerationChunk]]:
        return list(await asyncio.gather(*(collect(vllm_engine, req) for req in batch())))

    loop_thread.run(collect(vllm_engine, request(max_tokens=8)), timeout=60)  # warm up
    started = time.monotonic()
    one_by_one = loop_thread.run(sequential(), timeout=600)
    sequential_seconds = time.monotonic() - started
    started = time.monotonic()
    together = loop_thread.run(concurrent(), timeout=600)
    concurrent_seconds = time.monotonic() - started

    for results in (one_by_one, together):
        assert all(chunks[-1].completion_tokens == tokens for chunks in results)
    print(f"\n32 x {tokens} tokens: sequential {sequential_seconds:.2f}s, concurrent {concurrent_seconds:.2f}s")
    assert concurrent_seconds < 0.5 * sequential_seconds


def thread_nices(process: Any) -> list[int]:
    return [os.getpriority(os.PRIO_PROCESS, thread.id) for thread in process.threads()]


def test_on_a_cpu_build_the_engine_yields_to_the_backend_on_every_thread(vllm_engine: Any) -> None:
    """vLLM's CPU engine keeps every core busy while it works; niced, sends and streams come first. The
    model runs in its worker process on OpenMP threads, and Linux nices each thread on its own."""
    import psutil

    engine = [child for child in psutil.Process().children(recursive=True) if child.name().startswith("VLLM::")]
    assert {child.name() for child in engine} >= {"VLLM::EngineCore", "VLLM::Worker"}
    ours = psutil.Process().nice()
    for child in engine:
        assert all(nice >= ours + 10 for nice in thread_nices(child)), (child.name(), thread_nices(child))


def test_a_repeated_long_prompt_is_served_from_the_prefix_cache(vllm_engine: Any, loop_thread: Any) -> None:
    question = "Tell me about the sky and the sea. " * 30 + uuid.uuid4().hex
    first = loop_thread.run(collect(vllm_engine, request(question, max_tokens=8)), timeout=120)[-1]
    second = loop_thread.run(collect(vllm_engine, request(question, max_tokens=8)), timeout=120)[-1]

    assert first.prompt_tokens == second.prompt_tokens > 256
    assert second.cached_tokens > 0
    assert second.cached_tokens <= second.prompt_tokens


def test_a_json_schema_answer_validates_whatever_the_demo_model_says(vllm_engine: Any, loop_thread: Any) -> None:
    import json

    import jsonschema

    schema = {
        "type": "object",
        "properties": {
            "color": {"type": "string", "enum": ["blue", "red"]},
            "n": {"type": "integer", "minimum": 0, "maximum": 9},
            "ok": {"type": "boolean"},
        },
        "required": ["color", "n", "ok"],
        "additionalProperties": False,
    }
    req = request("Why is the sky blue?", reasoning=False)
    req = dataclasses.replace(req, sampling=dataclasses.replace(req.sampling, guided={"json_schema": schema}))
    chunks = loop_thread.run(collect(vllm_engine, req), timeout=120)

    jsonschema.validate(json.loads("".join(c.content for c in chunks)), schema)
    assert chunks[-1].finish_reason == "stop"


def test_a_bad_regex_is_refused_as_an_invalid_request(vllm_engine: Any, loop_thread: Any) -> None:
    from inference.engines.base import EngineError

    req = request(reasoning=False)
    req = dataclasses.replace(req, sampling=dataclasses.replace(req.sampling, guided={"regex": "(unclosed"}))
    with pytest.raises(EngineError) as refused:
        loop_thread.run(collect(vllm_engine, req), timeout=120)
    assert refused.value.code == "invalid_request"


def test_a_required_tool_call_is_guided_into_a_valid_call(vllm_engine: Any, loop_thread: Any) -> None:
    import json

    from inference.tools import assemble_tool_calls

    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"unit": {"type": "string", "enum": ["c", "f"]}},
                "required": ["unit"],
                "additionalProperties": False,
            },
        },
    }
    req = dataclasses.replace(request("Weather?", reasoning=False), tools=[tool], tool_choice="required")
    chunks = loop_thread.run(collect(vllm_engine, req), timeout=120)

    calls = assemble_tool_calls(d for c in chunks for d in c.tool_calls)
    assert 1 <= len(calls) <= 2
    for call in calls:
        assert call["function"]["name"] == "get_weather"
        assert json.loads(call["function"]["arguments"])["unit"] in {"c", "f"}
    assert chunks[-1].finish_reason == "tool_calls"
    assert "".join(c.content for c in chunks) == ""


def test_the_engine_processes_under_another_process_are_niced_on_every_thread_and_nothing_else() -> None:
    """As the bench does for vLLM's own server: its engine core and worker are niced like ours, each of their
    threads (a thread that was running before keeps its own nice value otherwise), its API process not."""
    import subprocess
    import sys

    import psutil

    from inference.engines.vllm import lower_engine_core_priority

    threaded = "import threading, time; threading.Thread(target=time.sleep, args=(30,)).start(); time.sleep(30)"
    script = (
        "import subprocess, sys, time; "
        f"subprocess.Popen([sys.executable, '-c', {threaded!r}, 'EngineCore_DP0']); "
        f"subprocess.Popen([sys.executable, '-c', {threaded!r}, 'VLLM::Worker']); "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)', 'resource_tracker']); "
        "time.sleep(30)"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])  # noqa: S603 (our own script)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            children = psutil.Process(parent.pid).children()
            if len(children) == 3 and all(child.num_threads() >= 2 for child in children[:2]):
                break
            time.sleep(0.05)
        core, worker, other = sorted(psutil.Process(parent.pid).children(), key=lambda child: child.create_time())
        before = core.nice()
        assert sorted(lower_engine_core_priority(5, root_pid=parent.pid)) == sorted([core.pid, worker.pid])
        for engine_process in (core, worker):
            assert len(thread_nices(engine_process)) == 2
            assert thread_nices(engine_process) == [min(19, before + 5)] * 2
        assert thread_nices(other) == [before]
        assert psutil.Process(parent.pid).nice() == before
        assert lower_engine_core_priority(0, root_pid=parent.pid) == []
    finally:
        for child in psutil.Process(parent.pid).children():
            child.kill()
        parent.kill()
        parent.wait()
