"""The wire contract: task payloads survive a round trip, and older payloads still decode."""

from __future__ import annotations

import json
from typing import Any

from inference import protocol
from inference.protocol import SamplingSettings, TurnTask


def _v1_payload() -> dict[str, Any]:
    """A turn exactly as a version-1 backend sends it."""
    return {
        "turn_id": "t1",
        "conversation_id": "c1",
        "user_id": "u1",
        "model": "whale-r1",
        "reasoning": True,
        "messages": [{"role": "user", "content": "Why is the sky blue?"}],
        "keys": {"events": "p:turn:t1:events", "cancel": "p:turn:t1:cancel", "lease": "p:turn:t1:lease"},
        "deadline": 1234.5,
        "sampling": {"temperature": 0.6, "top_p": 0.95, "max_tokens": 64},
        "finalize_queue": "backend",
        "request_id": "",
        "origin_request_id": "",
        "version": 1,
    }


def test_a_version_1_turn_still_decodes_with_the_new_settings_at_their_defaults() -> None:
    task = TurnTask.from_payload(_v1_payload())

    assert task.messages == [{"role": "user", "content": "Why is the sky blue?"}]
    assert task.tools is None and task.tool_choice is None and task.parallel_tool_calls is True
    assert task.prompt is None
    assert task.sampling == SamplingSettings(temperature=0.6, top_p=0.95, max_tokens=64)
    assert task.sampling.guided is None and task.sampling.reasoning_effort is None
    assert task.sampling.stop == [] and task.sampling.seed is None
    assert task.sampling.presence_penalty == 0.0 and task.sampling.frequency_penalty == 0.0
    assert task.effective_tool_choice == "none"


def test_a_turn_with_every_new_field_survives_a_round_trip_through_json() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ]
    messages: list[protocol.ChatMessage] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "The user wants the weather.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "content": '{"temp": 21}', "tool_call_id": "call_1"},
        {"role": "assistant", "content": "It is", "prefix": True},
    ]
    task = TurnTask(
        turn_id="t2",
        conversation_id="c2",
        user_id="u2",
        model="whale-r1",
        reasoning=True,
        messages=messages,
        keys=protocol.turn_keys("p", "t2"),
        deadline=99.0,
        sampling=SamplingSettings(
            max_tokens=32,
            guided={"json_schema": {"type": "object"}},
            reasoning_effort="low",
            stop=["\n\n"],
            seed=7,
            presence_penalty=0.5,
            frequency_penalty=-0.5,
        ),
        tools=tools,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
    )

    payload = json.loads(json.dumps(task.to_payload()))
    again = TurnTask.from_payload(payload)

    assert again == task
    assert payload["version"] == protocol.PROTOCOL_VERSION == 2
    assert again.effective_tool_choice == {"type": "function", "function": {"name": "get_weather"}}


def test_a_raw_prompt_turn_round_trips_with_no_messages() -> None:
    task = TurnTask(
        turn_id="t3",
        conversation_id="c3",
        user_id="u3",
        model="whale-chat",
        reasoning=False,
        messages=[],
        keys=protocol.turn_keys("p", "t3"),
        deadline=1.0,
        prompt="Once upon a time",
    )

    assert TurnTask.from_payload(json.loads(json.dumps(task.to_payload()))) == task


def test_tools_without_a_choice_mean_auto() -> None:
    task = TurnTask.from_payload({**_v1_payload(), "tools": [{"type": "function", "function": {"name": "f"}}]})

    assert task.effective_tool_choice == "auto"


def test_sampling_settings_a_newer_backend_adds_are_ignored() -> None:
    payload = {**_v1_payload(), "sampling": {"max_tokens": 8, "some_future_knob": 3}}

    assert TurnTask.from_payload(payload).sampling == SamplingSettings(max_tokens=8)


def test_a_tool_call_event_round_trips_and_does_not_move_a_cursor() -> None:
    delta: protocol.ToolCallDelta = {"index": 0, "id": "call_1", "name": "get_weather", "arguments_delta": '{"ci'}
    fields = protocol.encode_event(protocol.EVENT_TOOL_CALL, dict(delta))

    event_type, data = protocol.decode_event(fields)

    assert (event_type, data) == ("tool_call", delta)
    assert event_type not in protocol.TERMINAL_EVENTS
    cursor = protocol.Cursor().advance("1-1", event_type, data)
    assert (cursor.reasoning_chars, cursor.content_chars) == (0, 0)
