"""OpenAI/DeepSeek parameters through /v1/ to the TurnTask a GPU worker gets, and back in OpenAI's shapes.
Real Redis and the real queue; only the GPU is a stand-in (fake_gpu), writing scripted events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from partners.models import Completion

from .factories import make_key
from .fake_gpu import answering, done

pytestmark = pytest.mark.django_db

HI = {"role": "user", "content": "Hi"}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}


def post(secret: str, body: dict[str, Any], path: str = "/v1/chat/completions") -> Any:
    return Client().post(path, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")


def streamed(response: Any) -> str:
    async def read() -> bytes:
        return b"".join([bytes(chunk) async for chunk in response.streaming_content])

    return async_to_sync(read)().decode()


def sse_events(response: Any) -> list[Any]:
    text = streamed(response)
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]


def ask(user: Any, gpu_queue: str, body: dict[str, Any], script: Any, path: str = "/v1/chat/completions") -> Any:
    with answering(gpu_queue, script) as tasks:
        base: dict[str, Any] = (
            {"model": "deepseek-chat"} if path == "/v1/completions" else {"model": "deepseek-chat", "messages": [HI]}
        )
        response = post(make_key(user).secret, {**base, **body}, path)
        if body.get("stream"):
            response.events = sse_events(response)
    response.task = tasks[0] if tasks else None
    return response


def test_json_object_and_json_schema_become_guided_decoding_of_the_answer(user, gpu_queue) -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    script = [("content", {"delta": '{"ok": true}'}), done()]

    as_object = ask(user, gpu_queue, {"response_format": {"type": "json_object"}}, script)
    as_schema = ask(
        user,
        gpu_queue,
        {"response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": schema}}},
        script,
    )
    as_text = ask(user, gpu_queue, {"response_format": {"type": "text"}}, script)

    assert as_object.task["sampling"]["guided"] == {"json_object": True}
    assert as_schema.task["sampling"]["guided"] == {"json_schema": schema}
    assert as_text.task["sampling"]["guided"] is None
    # A completion stays `queued` until it is settled: the worker sends no turn_started task for it.
    assert as_text.task["notify_started"] is False
    assert as_text.task["origin"] == "partner"  # its settle asks the partners' store first
    assert json.loads(as_schema.json()["choices"][0]["message"]["content"]) == {"ok": True}


def test_tools_and_a_named_tool_choice_reach_the_worker_and_calls_come_back_as_tool_calls(user, gpu_queue) -> None:
    body = {
        "tools": [WEATHER],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False,
    }
    script = [
        ("tool_call", {"index": 0, "id": "call_1", "name": "get_weather", "arguments_delta": '{"city":'}),
        ("tool_call", {"index": 0, "id": "call_1", "name": "get_weather", "arguments_delta": '"Oslo"}'}),
        done("tool_calls", tool_calls=[CALL]),
    ]

    response = ask(user, gpu_queue, body, script)

    assert response.task["tools"] == [WEATHER]
    assert response.task["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert response.task["parallel_tool_calls"] is False
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"] == [CALL]
    assert choice["message"]["content"] is None


def test_streamed_tool_calls_name_the_call_once_then_send_its_arguments(user, gpu_queue) -> None:
    script = [
        ("tool_call", {"index": 0, "id": "call_1", "name": "get_weather", "arguments_delta": '{"city":'}),
        ("tool_call", {"index": 0, "id": "call_1", "name": "get_weather", "arguments_delta": '"Oslo"}'}),
        done("tool_calls", tool_calls=[CALL]),
    ]

    response = ask(user, gpu_queue, {"tools": [WEATHER], "tool_choice": "required", "stream": True}, script)

    calls = [
        e["choices"][0]["delta"]["tool_calls"][0]
        for e in response.events
        if e["choices"] and "tool_calls" in e["choices"][0]["delta"]
    ]
    assert calls[0] == {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":'},
    }
    assert calls[1] == {"index": 0, "function": {"arguments": '"Oslo"}'}}
    finishes = [
        e["choices"][0]["finish_reason"] for e in response.events if e["choices"] and e["choices"][0]["finish_reason"]
    ]
    assert finishes == ["tool_calls"]
    assert response.task["tool_choice"] == "required"


def test_a_tool_round_trip_passes_tool_results_and_this_turns_reasoning_back(user, gpu_queue) -> None:
    messages = [
        {"role": "user", "content": "Earlier question"},
        {"role": "assistant", "content": "Earlier answer", "reasoning_content": "old thoughts"},
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None, "reasoning_content": "I need the tool", "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_1", "content": "12 C, rain"},
    ]

    response = ask(
        user, gpu_queue, {"messages": messages, "tools": [WEATHER]}, [("content", {"delta": "Rainy."}), done()]
    )

    sent = response.task["messages"]
    assert "reasoning_content" not in sent[1]  # DeepSeek's rule: reasoning of earlier turns is dropped
    assert sent[3] == {"role": "assistant", "content": "", "reasoning_content": "I need the tool", "tool_calls": [CALL]}
    assert sent[4] == {"role": "tool", "content": "12 C, rain", "tool_call_id": "call_1"}
    assert response.json()["choices"][0]["message"]["content"] == "Rainy."


def test_thinking_enabled_picks_the_reasoning_model_which_ignores_temperature(user, gpu_queue) -> None:
    script = [("reasoning", {"delta": "Hmm."}), ("content", {"delta": "Hello."}), done()]

    thinking = ask(
        user, gpu_queue, {"thinking": {"type": "enabled"}, "temperature": 1.5, "reasoning_effort": "low"}, script
    )
    plain = ask(
        user, gpu_queue, {"model": "deepseek-reasoner", "thinking": {"type": "disabled"}, "temperature": 1.5}, script
    )

    assert thinking.task["model"] == "whale-r1" and thinking.task["reasoning"] is True
    assert thinking.task["sampling"]["temperature"] == 0.6  # accepted and ignored, as DeepSeek's thinking mode does
    assert thinking.task["sampling"]["reasoning_effort"] == "low"
    assert thinking.json()["choices"][0]["message"]["reasoning_content"] == "Hmm."
    assert thinking.json()["model"] == "deepseek-chat"
    assert plain.task["model"] == "whale-chat" and plain.task["reasoning"] is False
    assert plain.task["sampling"]["temperature"] == 1.5


def test_openais_and_deepseeks_other_efforts_take_the_nearest_budget_and_none_does_not_think(user, gpu_queue) -> None:
    script = [("reasoning", {"delta": "Hmm."}), ("content", {"delta": "Hello."}), done()]
    reasoner = {"model": "deepseek-reasoner"}

    minimal = ask(user, gpu_queue, {**reasoner, "reasoning_effort": "minimal"}, script)
    xhigh = ask(user, gpu_queue, {**reasoner, "reasoning_effort": "xhigh"}, script)
    deepseek_max = ask(user, gpu_queue, {**reasoner, "reasoning_effort": "max"}, script)
    none = ask(user, gpu_queue, {**reasoner, "reasoning_effort": "none"}, [("content", {"delta": "Hi."}), done()])

    assert minimal.task["model"] == "whale-r1" and minimal.task["sampling"]["reasoning_effort"] == "low"
    assert xhigh.task["model"] == "whale-r1" and xhigh.task["sampling"]["reasoning_effort"] == "high"
    assert deepseek_max.task["sampling"]["reasoning_effort"] == "high"
    assert none.task["model"] == "whale-chat" and none.task["reasoning"] is False
    assert none.task["sampling"]["reasoning_effort"] is None
    assert none.json()["choices"][0]["message"]["content"] == "Hi."


def test_stop_seed_and_penalties_reach_the_sampler(user, gpu_queue) -> None:
    body = {"stop": "END", "seed": 7, "presence_penalty": 0.5, "frequency_penalty": -0.5}

    response = ask(user, gpu_queue, body, [("content", {"delta": "x"}), done()])

    sampling = response.task["sampling"]
    assert (sampling["stop"], sampling["seed"]) == (["END"], 7)
    assert (sampling["presence_penalty"], sampling["frequency_penalty"]) == (0.5, -0.5)


def test_a_last_assistant_message_with_prefix_is_continued(user, gpu_queue) -> None:
    messages = [HI, {"role": "assistant", "content": "```python\n", "prefix": True}]

    response = ask(user, gpu_queue, {"messages": messages}, [("content", {"delta": "print(1)\n```"}), done()])

    assert response.task["messages"][-1] == {"role": "assistant", "content": "```python\n", "prefix": True}
    assert response.json()["choices"][0]["message"]["content"] == "print(1)\n```"


def test_usage_reports_the_engines_cached_tokens_in_deepseeks_and_openais_keys(user, gpu_queue) -> None:
    response = ask(user, gpu_queue, {}, [("content", {"delta": "x"}), done(cached=32)])

    usage = response.json()["usage"]
    assert usage["prompt_tokens"] == 40
    assert (usage["prompt_cache_hit_tokens"], usage["prompt_cache_miss_tokens"]) == (32, 8)
    assert usage["prompt_tokens_details"] == {"cached_tokens": 32}


def test_the_partners_end_user_is_recorded_on_the_completion(user, gpu_queue) -> None:
    ask(user, gpu_queue, {"user": "customer-42"}, [("content", {"delta": "x"}), done()])

    assert Completion.objects.get(user=user).end_user == "customer-42"


def test_a_task_the_engine_refuses_is_a_400(user, gpu_queue) -> None:
    script = [("error", {"code": "invalid_request", "message": "The regex does not compile."})]

    response = ask(user, gpu_queue, {"response_format": {"type": "json_object"}}, script)

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["code"] == "invalid_request"


def test_legacy_completions_send_the_raw_prompt_and_answer_text(user, gpu_queue) -> None:
    body = {"prompt": "Once upon a time", "stop": ["\n"]}

    response = ask(user, gpu_queue, body, [("content", {"delta": " there was"}), done("length")], "/v1/completions")

    assert response.status_code == 200, response.content
    assert response.task["prompt"] == "Once upon a time" and response.task["messages"] == []
    assert response.task["sampling"]["max_tokens"] == 16  # OpenAI's default for this endpoint
    body = response.json()
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-")
    assert body["choices"] == [{"index": 0, "text": " there was", "logprobs": None, "finish_reason": "length"}]


def test_legacy_completions_stream_text_chunks_and_usage(user, gpu_queue) -> None:
    body = {"prompt": "Once", "stream": True, "stream_options": {"include_usage": True}, "max_tokens": 5}
    script = [("content", {"delta": " upon"}), ("content", {"delta": " a"}), done()]

    response = ask(user, gpu_queue, body, script, "/v1/completions")

    texts = "".join(e["choices"][0]["text"] for e in response.events if e["choices"])
    assert texts == " upon a"
    assert all(e["object"] == "text_completion" for e in response.events)
    assert response.events[-1]["choices"] == [] and response.events[-1]["usage"]["completion_tokens"] == 11


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": ["a", "b"]}, "prompt"),
        ({"prompt": "a", "echo": True}, "echo"),
        ({"prompt": "a", "suffix": "b"}, "suffix"),
        ({"prompt": "a", "best_of": 2}, "best_of"),
        ({"prompt": "a", "messages": [HI]}, "messages"),
    ],
)
def test_legacy_completions_refuse_what_they_do_not_support(user, body, param) -> None:
    response = post(make_key(user).secret, {"model": "whale-chat", **body}, "/v1/completions")

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
