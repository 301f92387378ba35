"""The official `openai` and `anthropic` SDKs with the real vLLM demo engine behind them: what only a real
engine proves (guided decoding, guided tool calls, prefix completion, raw prompts, the prefix cache's own
counts). One module, so the engine starts once (about a minute on two cores)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from django.conf import settings as django_settings
from turns.tests.stack import backend_worker, gpu_worker

from ratelimits.tests.factories import make_user

from .factories import make_key
from .test_anthropic_sdk import client_for as anthropic_client_for
from .test_openai_sdk import client_for, quiet_before_flush, server  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.stack,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("quiet_before_flush"),
]


def vllm_queue() -> str:
    return f"{django_settings.WHALE_REDIS_PREFIX}:gpu-partners-vllm"


@pytest.fixture(scope="module")
def vllm_worker() -> Iterator[Any]:
    with gpu_worker(vllm_queue(), engine="vllm") as worker:
        yield worker


@pytest.fixture(scope="module")
def saving_worker(django_db_blocker: Any) -> Iterator[Any]:
    """The backend's worker, also on this run's research queue (the name prepare_settings gives it): web_search."""
    research = f"{django_settings.WHALE_REDIS_PREFIX}:research"
    with django_db_blocker.unblock(), backend_worker(also=(research,)) as worker:
        yield worker


@pytest.fixture
def engine(settings: Any, vllm_worker: Any, saving_worker: Any, server: str) -> str:  # noqa: F811
    settings.WHALE_MODELS = {
        "whale-r1": {"display_name": "DeepThink (R1)", "queue": vllm_queue(), "reasoning": True},
        "whale-chat": {"display_name": "Chat", "queue": vllm_queue(), "reasoning": False},
    }
    settings.WHALE_SSE_KEEPALIVE_SECONDS = 0.5
    return server


def test_json_schema_output_parses_and_matches_the_schema(engine) -> None:
    schema = {
        "type": "object",
        "properties": {"color": {"type": "string", "enum": ["blue", "red"]}, "sure": {"type": "boolean"}},
        "required": ["color", "sure"],
        "additionalProperties": False,
    }
    client = client_for(engine, make_key(make_user()).secret)

    completion = client.chat.completions.create(
        model="whale-chat",
        messages=[{"role": "user", "content": "Why is the sky blue?"}],
        max_tokens=60,
        response_format={"type": "json_schema", "json_schema": {"name": "sky", "schema": schema}},
    )
    answer = json.loads(completion.choices[0].message.content or "")
    assert set(answer) == {"color", "sure"} and answer["color"] in {"blue", "red"} and isinstance(answer["sure"], bool)


def test_a_required_tool_call_is_parsed_by_the_sdk_into_tool_calls(engine) -> None:
    tool: Any = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "enum": ["Oslo", "Bergen"]}},
                "required": ["city"],
            },
        },
    }
    client = client_for(engine, make_key(make_user()).secret)

    completion = client.chat.completions.create(
        model="whale-chat",
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
        max_tokens=60,
        tools=[tool],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments)["city"] in {"Oslo", "Bergen"}  # type: ignore[union-attr]


def test_a_repeated_long_prompt_is_served_from_the_prefix_cache(engine) -> None:
    client = client_for(engine, make_key(make_user()).secret)
    long_question = "Why is the sky blue? " * 40

    first, second = (
        client.chat.completions.create(
            model="whale-chat", messages=[{"role": "user", "content": long_question}], max_tokens=4
        )
        for _ in range(2)
    )

    assert first.usage is not None and second.usage is not None
    assert second.usage.prompt_tokens == first.usage.prompt_tokens
    assert second.usage.prompt_tokens_details is not None and second.usage.prompt_tokens_details.cached_tokens
    assert second.usage.prompt_tokens_details.cached_tokens > 0
    assert (second.usage.model_extra or {})["prompt_cache_hit_tokens"] > 0


WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Oslo", "Bergen"]}},
            "required": ["city"],
        },
    },
}
GREEDY: Any = {"temperature": 0, "seed": 7}


def test_json_object_output_parses_as_a_json_object(engine) -> None:
    client = client_for(engine, make_key(make_user()).secret)
    # The demo model never saw a quote mark: greedy decoding opens a key and never closes it (max_tokens
    # cuts it). Seeded sampling is reproducible and closes this one; without the guide it is prose.
    request: Any = {
        "model": "whale-chat",
        "messages": [{"role": "user", "content": "Why is the sky blue? Answer in JSON."}],
        "max_tokens": 200,
        "temperature": 1.0,
        "seed": 1,
    }

    guided = client.chat.completions.create(**request, response_format={"type": "json_object"})
    unguided = client.chat.completions.create(**request)

    assert guided.choices[0].finish_reason == "stop"
    assert isinstance(json.loads(guided.choices[0].message.content or ""), dict)
    with pytest.raises(ValueError):
        json.loads(unguided.choices[0].message.content or "")


def test_a_required_tool_call_and_its_result_make_a_round_trip(engine) -> None:
    client = client_for(engine, make_key(make_user()).secret)
    question: Any = {"role": "user", "content": "Weather in Oslo?"}

    asked = client.chat.completions.create(
        model="whale-chat",
        messages=[question],
        max_tokens=200,
        tools=[WEATHER_TOOL],
        tool_choice="required",
        parallel_tool_calls=False,
        **GREEDY,
    )
    (call,) = asked.choices[0].message.tool_calls or []
    result = "Sunny, 21 degrees, light wind from the west."
    answered = client.chat.completions.create(
        model="whale-chat",
        messages=[
            question,
            asked.choices[0].message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": result},
        ],
        max_tokens=30,
        tools=[WEATHER_TOOL],
        tool_choice="auto",
        **GREEDY,
    )

    assert asked.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"  # type: ignore[union-attr]
    message = answered.choices[0].message
    assert message.content and not message.tool_calls
    assert answered.choices[0].finish_reason in {"stop", "length"}
    assert asked.usage is not None and answered.usage is not None
    # The second prompt carries the call and its result after the same question (served from the cache).
    assert answered.usage.prompt_tokens > asked.usage.prompt_tokens + len(result) // 4
    assert answered.usage.prompt_tokens_details is not None
    assert (answered.usage.prompt_tokens_details.cached_tokens or 0) > 0


def test_a_prefix_completion_continues_the_assistants_text(engine) -> None:
    client = client_for(engine, make_key(make_user()).secret)
    question: Any = {"role": "user", "content": "Why is the sky blue?"}

    whole = client.chat.completions.create(model="whale-chat", messages=[question], max_tokens=40, **GREEDY)
    answer = whole.choices[0].message.content or ""
    prefix = " ".join(answer.split()[:4])
    continued = client.chat.completions.create(
        model="whale-chat",
        messages=[question, {"role": "assistant", "content": prefix, "prefix": True}],  # type: ignore[list-item,typeddict-unknown-key]
        max_tokens=40,
        **GREEDY,
    )

    rest = continued.choices[0].message.content or ""
    assert len(answer.split()) > 4 and rest
    assert not rest.lstrip().startswith(prefix)  # only the continuation comes back, as DeepSeek does
    assert (prefix + rest).split() == answer.split()[: len((prefix + rest).split())]


def test_the_legacy_completions_endpoint_continues_a_raw_prompt(engine) -> None:
    client = client_for(engine, make_key(make_user()).secret)
    prompt = "The sky looks blue because"

    completion = client.completions.create(model="whale-chat", prompt=prompt, max_tokens=12, **GREEDY)
    chunks = list(client.completions.create(model="whale-chat", prompt=prompt, max_tokens=12, stream=True, **GREEDY))

    text = completion.choices[0].text
    assert completion.object == "text_completion" and text.strip()
    assert "<think>" not in text  # a raw prompt: no chat template, no think block
    assert completion.usage is not None and completion.usage.completion_tokens <= 12
    assert "".join(chunk.choices[0].text for chunk in chunks if chunk.choices) == text


def test_the_thinking_switch_turns_the_engines_reasoning_on_and_off(engine) -> None:
    client = client_for(engine, make_key(make_user()).secret)
    messages: Any = [{"role": "user", "content": "Why is the sky blue?"}]

    thinking = client.chat.completions.create(
        model="deepseek-chat", messages=messages, max_tokens=80, extra_body={"thinking": {"type": "enabled"}}, **GREEDY
    )
    plain = client.chat.completions.create(
        model="deepseek-reasoner",
        messages=messages,
        max_tokens=80,
        extra_body={"thinking": {"type": "disabled"}},
        **GREEDY,
    )

    assert (thinking.choices[0].message.model_extra or {}).get("reasoning_content")
    assert thinking.usage is not None and thinking.usage.completion_tokens_details is not None
    assert (thinking.usage.completion_tokens_details.reasoning_tokens or 0) > 0
    assert not (plain.choices[0].message.model_extra or {}).get("reasoning_content")
    assert plain.choices[0].message.content
    assert plain.usage is not None and plain.usage.completion_tokens_details is not None
    assert not plain.usage.completion_tokens_details.reasoning_tokens


def test_an_anthropic_tool_use_and_its_result_make_a_round_trip(engine) -> None:
    client = anthropic_client_for(engine, make_key(make_user()).secret)
    tool: Any = {
        "name": "get_weather",
        "description": "The weather in a city.",
        "input_schema": WEATHER_TOOL["function"]["parameters"],
    }
    question: Any = {"role": "user", "content": "Weather in Oslo?"}

    asked = client.messages.create(
        model="whale-chat",
        max_tokens=200,
        messages=[question],
        tools=[tool],
        tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
    )
    (use,) = [block for block in asked.content if block.type == "tool_use"]
    answered = client.messages.create(
        model="whale-chat",
        max_tokens=30,
        messages=[
            question,
            {"role": "assistant", "content": asked.content},  # type: ignore[typeddict-item]
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "Sunny, 21 degrees."}],
            },
        ],
        tools=[tool],
    )

    assert asked.stop_reason == "tool_use"
    assert isinstance(use, anthropic.types.ToolUseBlock) and use.name == "get_weather"
    assert use.input in ({"city": "Oslo"}, {"city": "Bergen"})
    assert answered.stop_reason in {"end_turn", "max_tokens"}
    assert [block.type for block in answered.content] == ["text"] and answered.content[0].text  # type: ignore[union-attr]
    # The result went back after the same question: the prompt grew, and its start came from the cache.
    assert answered.usage.cache_read_input_tokens and answered.usage.cache_read_input_tokens > 0
    total = answered.usage.input_tokens + answered.usage.cache_read_input_tokens
    assert total > asked.usage.input_tokens + (asked.usage.cache_read_input_tokens or 0)


@pytest.mark.usefixtures("prepare_settings")
def test_web_search_streams_its_search_results_before_an_answer_that_cites_them(engine, fake_internet) -> None:
    client = client_for(engine, make_key(make_user()).secret)

    stream = client.chat.completions.create(
        model="deepseek-chat",
        messages=[{"role": "user", "content": "Why is the sky blue?"}],
        stream=True,
        extra_body={"web_search": True},
        **GREEDY,
    )
    chunks = list(stream)

    with_sources = [n for n, chunk in enumerate(chunks) if (chunk.model_extra or {}).get("search_results")]
    first_content = next(n for n, chunk in enumerate(chunks) if chunk.choices and chunk.choices[0].delta.content)
    assert len(with_sources) == 1 and with_sources[0] < first_content
    found = (chunks[with_sources[0]].model_extra or {})["search_results"]
    indexes = [source["index"] for source in found]
    assert indexes == list(range(1, len(found) + 1)) and indexes  # the pages that fit the demo's 2,048 tokens
    assert found[0]["url"] == fake_internet.page("/articles/sky")
    content = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    cited = {int(n) for n in re.findall(r"\[citation:(\d+)\]", content)}
    assert cited and cited <= set(indexes), content
