"""The official `openai` SDK against /v1/ with the real vLLM demo engine behind it: what only a real
engine proves (guided decoding, guided tool calls, the prefix cache's own counts)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from turns.tests.stack import gpu_worker

from ratelimits.tests.factories import make_user

from .factories import make_key
from .test_openai_sdk import client_for, quiet_before_flush, saving_worker, server  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.stack,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("quiet_before_flush"),
]


def _queue() -> str:
    return f"{django_settings.WHALE_REDIS_PREFIX}:gpu-partners-vllm"


@pytest.fixture(scope="module")
def vllm_worker() -> Iterator[Any]:
    with gpu_worker(_queue(), engine="vllm") as worker:
        yield worker


@pytest.fixture
def engine(settings: Any, vllm_worker: Any, saving_worker: Any, server: str) -> str:  # noqa: F811
    settings.WHALE_MODELS = {
        "whale-r1": {"display_name": "DeepThink (R1)", "queue": _queue(), "reasoning": True},
        "whale-chat": {"display_name": "Chat", "queue": _queue(), "reasoning": False},
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
