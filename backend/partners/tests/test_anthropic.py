"""The Anthropic Messages API at /anthropic/v1/messages: requests to TurnTasks, answers and stream events
in Anthropic's shapes, errors in its error shape. Real Redis and queue; only the GPU is a stand-in."""

from __future__ import annotations

import datetime as dt
import json
import time
import types
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from partners.models import Completion
from ratelimits import store

from .factories import make_key
from .fake_gpu import answering, done

pytestmark = pytest.mark.django_db

URL = "/anthropic/v1/messages"
HI = {"role": "user", "content": "Hi"}
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
THINK_AND_ANSWER = [
    ("reasoning", {"delta": "Hmm, "}),
    ("reasoning", {"delta": "a greeting."}),
    ("content", {"delta": "Hello!"}),
    done(cached=8),
]


def post(secret: str | None, body: Any, **headers: str) -> Any:
    if secret:
        headers.setdefault("HTTP_X_API_KEY", secret)
    raw = body if isinstance(body, str) else json.dumps(body)
    return Client().post(URL, raw, content_type="application/json", HTTP_ANTHROPIC_VERSION="2023-06-01", **headers)


def message(**extra: Any) -> dict[str, Any]:
    return {"model": "deepseek-reasoner", "max_tokens": 100, "messages": [HI], **extra}


def events(response: Any) -> list[tuple[str, dict[str, Any]]]:
    async def read() -> bytes:
        return b"".join([bytes(chunk) async for chunk in response.streaming_content])

    out = []
    for block in async_to_sync(read)().decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def ask(user: Any, gpu_queue: str, body: dict[str, Any], script: Any) -> Any:
    with answering(gpu_queue, script) as tasks:
        response = post(make_key(user).secret, body)
        if body.get("stream"):
            response.events = events(response)
    response.task = tasks[0] if tasks else None
    return response


def test_a_message_has_thinking_and_text_blocks_and_anthropics_usage(user, gpu_queue) -> None:
    response = ask(user, gpu_queue, message(system="Be brief.", metadata={"user_id": "end-7"}), THINK_AND_ANSWER)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "message" and body["role"] == "assistant" and body["id"].startswith("msg_")
    assert body["model"] == "deepseek-reasoner"
    assert [block["type"] for block in body["content"]] == ["thinking", "text"]
    assert body["content"][0]["thinking"] == "Hmm, a greeting." and body["content"][0]["signature"]
    assert body["content"][1] == {"type": "text", "text": "Hello!"}
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    assert body["usage"] == {
        "input_tokens": 32,
        "output_tokens": 11,
        "cache_read_input_tokens": 8,
        "cache_creation_input_tokens": 0,
    }
    assert response.task["messages"] == [{"role": "system", "content": "Be brief."}, HI]
    assert response.task["sampling"]["max_tokens"] == 100
    assert Completion.objects.get(user=user).end_user == "end-7"


def test_a_stream_follows_anthropics_event_sequence(user, gpu_queue) -> None:
    response = ask(user, gpu_queue, message(stream=True), THINK_AND_ANSWER)

    names = [name for name, _ in response.events if name != "ping"]
    assert names == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",  # the thinking block's signature
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    data = [d for name, d in response.events if name != "ping"]
    assert all(d["type"] == name for name, d in response.events)
    assert data[1]["content_block"]["type"] == "thinking" and data[1]["index"] == 0
    assert data[2]["delta"] == {"type": "thinking_delta", "thinking": "Hmm, "}
    assert data[4]["delta"]["type"] == "signature_delta"
    assert data[6]["content_block"] == {"type": "text", "text": ""} and data[6]["index"] == 1
    assert data[7]["delta"] == {"type": "text_delta", "text": "Hello!"}
    assert data[9]["delta"]["stop_reason"] == "end_turn"
    assert data[9]["usage"]["output_tokens"] == 11 and data[9]["usage"]["cache_read_input_tokens"] == 8


def test_tools_are_mapped_both_ways(user, gpu_queue) -> None:
    history = [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "I need the tool", "signature": "x"},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Oslo"}},
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "12 C, rain"}]},
    ]
    body = message(messages=history, tools=[WEATHER], tool_choice={"type": "any", "disable_parallel_tool_use": True})
    script = [
        ("tool_call", {"index": 0, "id": "call_2", "name": "get_weather", "arguments_delta": '{"city": "Bergen"}'}),
        done("tool_calls"),
    ]

    response = ask(user, gpu_queue, body, script)

    task = response.task
    assert task["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": WEATHER["input_schema"],
            },
        }
    ]
    assert task["tool_choice"] == "required" and task["parallel_tool_calls"] is False
    assert task["messages"][1] == {
        "role": "assistant",
        "content": "",
        "reasoning_content": "I need the tool",
        "tool_calls": [CALL],
    }
    assert task["messages"][2] == {"role": "tool", "content": "12 C, rain", "tool_call_id": "call_1"}
    body = response.json()
    assert body["stop_reason"] == "tool_use"
    assert body["content"] == [{"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {"city": "Bergen"}}]


def test_a_streamed_tool_call_is_a_tool_use_block_with_input_json_deltas(user, gpu_queue) -> None:
    script = [
        ("tool_call", {"index": 0, "id": "call_2", "name": "get_weather", "arguments_delta": '{"city": '}),
        ("tool_call", {"index": 0, "id": "call_2", "name": "get_weather", "arguments_delta": '"Bergen"}'}),
        done("tool_calls"),
    ]

    response = ask(user, gpu_queue, message(stream=True, tools=[WEATHER]), script)

    data = [d for name, d in response.events if name != "ping"]
    assert data[1]["content_block"] == {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {}}
    partial = "".join(d["delta"]["partial_json"] for d in data if d["type"] == "content_block_delta")
    assert json.loads(partial) == {"city": "Bergen"}
    assert data[-2]["delta"]["stop_reason"] == "tool_use"


def test_thinking_disabled_picks_the_chat_model_and_an_assistant_prefill_is_continued(user, gpu_queue) -> None:
    body = message(thinking={"type": "disabled"}, messages=[HI, {"role": "assistant", "content": "Well,"}])

    response = ask(user, gpu_queue, body, [("content", {"delta": " hello."}), done()])

    assert response.task["model"] == "whale-chat"
    assert response.task["messages"][-1] == {"role": "assistant", "content": "Well,", "prefix": True}


def test_a_thinking_budget_picks_a_reasoning_effort(user, gpu_queue) -> None:
    body = message(model="deepseek-chat", thinking={"type": "enabled", "budget_tokens": 2048})

    response = ask(user, gpu_queue, body, THINK_AND_ANSWER)

    assert response.task["model"] == "whale-r1" and response.task["sampling"]["reasoning_effort"] == "low"


def test_the_key_may_come_as_a_bearer_token(user, gpu_queue) -> None:
    secret = make_key(user).secret
    with answering(gpu_queue, THINK_AND_ANSWER):
        response = post(None, message(), HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 200


def assert_anthropic_error(response: Any, status: int, kind: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == kind and body["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        message(max_tokens=None),
        message(messages=[]),
        message(messages=[{"role": "system", "content": "x"}]),
        message(messages=[{"role": "user", "content": [{"type": "image", "source": {}}]}]),
        message(temperature=1.5),
        message(thinking={"type": "sometimes"}),
        message(tool_choice={"type": "any"}),
        message(tools=[{"name": "bad name", "input_schema": {}}]),
        message(metadata={"user_id": 5}),
        message(wat=1),
        "{nope",
    ],
)
def test_bad_requests_are_400_invalid_request_errors(user, body) -> None:
    assert_anthropic_error(post(make_key(user).secret, body), 400, "invalid_request_error")
    assert not Completion.objects.exists()


def test_errors_come_in_anthropics_shape_with_the_right_statuses(user) -> None:
    assert_anthropic_error(post(None, message()), 401, "authentication_error")
    assert_anthropic_error(post("sk-nope", message()), 401, "authentication_error")
    assert_anthropic_error(post(make_key(user).secret, message(model="claude-9")), 404, "not_found_error")
    limited = post(make_key(user, requests_per_minute=0).secret, message())
    assert_anthropic_error(limited, 429, "rate_limit_error")
    assert int(limited["Retry-After"]) >= 1
    assert_anthropic_error(Client().get(URL), 405, "invalid_request_error")
    assert_anthropic_error(Client().get("/anthropic/v1/complete"), 404, "not_found_error")


def test_answers_and_refusals_carry_anthropics_ratelimit_headers(user, gpu_queue, monkeypatch) -> None:
    # The counters' clock held in the middle of a minute, so the window cannot roll over mid-test.
    frozen = time.time() // 60 * 60 + 30
    monkeypatch.setattr(store, "time", types.SimpleNamespace(time=lambda: frozen))
    key = make_key(user, requests_per_minute=2, tokens_per_day=100_000)
    with answering(gpu_queue, THINK_AND_ANSWER):
        answered = post(key.secret, message())
    listed = Client().get("/anthropic/v1/models", HTTP_X_API_KEY=key.secret)
    refused = post(key.secret, message())

    assert answered.status_code == 200
    assert answered["anthropic-ratelimit-requests-limit"] == "2"
    assert answered["anthropic-ratelimit-requests-remaining"] == "1"
    assert answered["anthropic-ratelimit-tokens-limit"] == "100000"
    assert int(answered["anthropic-ratelimit-tokens-remaining"]) < 100_000  # the completion's reservation
    reset = dt.datetime.fromisoformat(answered["anthropic-ratelimit-requests-reset"])
    assert dt.timedelta(seconds=20) < reset - dt.datetime.now(dt.UTC) <= dt.timedelta(seconds=31)
    assert listed["anthropic-ratelimit-requests-remaining"] == "0"
    assert refused.status_code == 429 and refused["anthropic-ratelimit-requests-remaining"] == "0"
    midnight = dt.datetime.combine(dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    assert abs(dt.datetime.fromisoformat(refused["anthropic-ratelimit-tokens-reset"]) - midnight) <= dt.timedelta(
        minutes=1
    )
