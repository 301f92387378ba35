"""R1's tool-call format: the streaming parser on recorded answers in any split, forced-call schemas and readers."""

from __future__ import annotations

import itertools
import json

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inference.tools import (
    GuidedToolCalls,
    InvalidTools,
    ToolCallParser,
    assemble_tool_calls,
    guided_tool_schema,
    render_tool_calls,
    tool_call_reader,
)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME = {"type": "function", "function": {"name": "get_time"}}

# Answers as DeepSeek-R1 writes them (the content after its think block).
ONE_CALL = (
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n"  # noqa: RUF001
    '```json\n{"city": "Paris"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>'  # noqa: RUF001
)
TWO_CALLS_AFTER_TEXT = (
    "Let me check both.\n\n"
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n"  # noqa: RUF001
    '```json\n{"city": "Tokyo", "note": "a `tick` and\\n a newline"}\n```<｜tool▁call▁end｜>\n'  # noqa: RUF001
    "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{}\n```<｜tool▁call▁end｜>"  # noqa: RUF001
    "<｜tool▁calls▁end｜>trailing words the model should not have written"  # noqa: RUF001
)
PLAIN = "The sky is blue because of Rayleigh scattering; no tool <is> needed."
CUT_SHORT = '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Par'  # noqa: RUF001


def parse(text: str, cuts: list[int] | None = None, *, parallel: bool = True) -> tuple[str, ToolCallParser, list]:
    parser = ToolCallParser(parallel=parallel)
    bounds = sorted({0, len(text), *(cut % (len(text) + 1) for cut in cuts or [])})
    content, deltas = [], []
    for start, end in itertools.pairwise(bounds):
        text_part, found = parser.feed(text[start:end])
        content.append(text_part)
        deltas += found
    tail, found = parser.finish()
    return "".join(content) + tail, parser, deltas + found


def test_one_call_is_read_with_its_name_and_json_arguments() -> None:
    content, parser, deltas = parse(ONE_CALL)

    assert content == ""
    [call] = parser.calls
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert call["id"].startswith("call_") and call["type"] == "function"
    assert deltas[0] == {"index": 0, "id": call["id"], "name": "get_weather", "arguments_delta": ""}
    assert assemble_tool_calls(deltas) == parser.calls


def test_text_before_the_calls_is_content_and_nothing_after_them_is() -> None:
    content, parser, deltas = parse(TWO_CALLS_AFTER_TEXT)

    assert content == "Let me check both.\n\n"
    assert [c["function"]["name"] for c in parser.calls] == ["get_weather", "get_time"]
    assert json.loads(parser.calls[0]["function"]["arguments"])["note"] == "a `tick` and\n a newline"
    assert parser.calls[1]["function"]["arguments"] == "{}"
    assert {d["index"] for d in deltas} == {0, 1}


def test_an_answer_without_calls_is_all_content() -> None:
    assert parse(PLAIN)[0] == PLAIN
    assert parse(PLAIN)[1].calls == []


def test_without_parallel_calls_only_the_first_is_kept() -> None:
    _, parser, _ = parse(TWO_CALLS_AFTER_TEXT, parallel=False)

    assert [c["function"]["name"] for c in parser.calls] == ["get_weather"]


def test_a_call_cut_short_keeps_what_arrived() -> None:
    _, parser, _ = parse(CUT_SHORT)

    assert parser.calls[0]["function"]["arguments"] == '{"city": "Par'


def test_rendered_calls_read_back_as_the_same_calls() -> None:
    calls = [{"function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}, {"function": {"name": "get_time"}}]
    _, parser, _ = parse(render_tool_calls(calls))

    assert [(c["function"]["name"], c["function"]["arguments"]) for c in parser.calls] == [
        ("get_weather", '{"city": "Oslo"}'),
        ("get_time", "{}"),
    ]


@given(
    text=st.sampled_from([ONE_CALL, TWO_CALLS_AFTER_TEXT, PLAIN, CUT_SHORT]),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=30),
)
def test_any_split_of_a_stream_reads_the_same_as_the_whole(text: str, cuts: list[int]) -> None:
    whole_content, whole, _ = parse(text)
    content, split, deltas = parse(text, cuts)

    assert content == whole_content
    assert [c["function"] for c in split.calls] == [c["function"] for c in whole.calls]
    assert [c["function"] for c in assemble_tool_calls(deltas)] == [c["function"] for c in whole.calls]


def test_required_guides_a_list_of_calls_to_any_of_the_tools() -> None:
    schema = guided_tool_schema([WEATHER, TIME], named=None, parallel=True)
    jsonschema.validate(
        [{"name": "get_weather", "parameters": {"city": "Rome"}}, {"name": "get_time", "parameters": {}}], schema
    )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{"name": "get_weather", "parameters": {}}], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([], schema)
    one = guided_tool_schema([WEATHER, TIME], named=None, parallel=False)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{"name": "get_time", "parameters": {}}] * 2, one)


def test_a_named_function_guides_its_own_arguments() -> None:
    assert guided_tool_schema([WEATHER, TIME], named="get_weather", parallel=True) == WEATHER["function"]["parameters"]


def test_readers_follow_the_tool_choice() -> None:
    assert tool_call_reader(None, None) == (None, None)
    assert tool_call_reader([WEATHER], "none") == (None, None)
    reader, guided = tool_call_reader([WEATHER], None)
    assert isinstance(reader, ToolCallParser) and guided is None
    reader, guided = tool_call_reader([WEATHER], "required")
    assert isinstance(reader, GuidedToolCalls) and reader.named is None and guided and "json_schema" in guided
    reader, guided = tool_call_reader([WEATHER, TIME], {"type": "function", "function": {"name": "get_time"}})
    assert isinstance(reader, GuidedToolCalls) and reader.named == "get_time"


@pytest.mark.parametrize(
    ("tools", "choice"),
    [
        ([WEATHER], {"type": "function", "function": {"name": "nope"}}),
        ([WEATHER], "sometimes"),
        (None, "required"),
        ([{"type": "function", "function": {}}], None),
        ([{"type": "retrieval"}], None),
    ],
)
def test_impossible_tool_choices_are_refused(tools: list | None, choice: object) -> None:
    with pytest.raises(InvalidTools):
        tool_call_reader(tools, choice)


def test_a_guided_list_of_calls_is_read_at_the_end() -> None:
    reader = GuidedToolCalls(named=None)
    assert reader.feed('[{"name": "get_weather", "parameters": {"ci') == ("", [])
    assert reader.feed('ty": "Lima"}}]') == ("", [])
    _, deltas = reader.finish()

    assert [(d["name"], json.loads(d["arguments_delta"])) for d in deltas] == [("get_weather", {"city": "Lima"})]
    assert reader.calls[0]["function"]["name"] == "get_weather"


def test_a_guided_named_call_streams_its_arguments() -> None:
    reader = GuidedToolCalls(named="get_weather")
    _, first = reader.feed('{"city": ')
    _, second = reader.feed('"Lima"}')
    reader.finish()

    assert first[0]["id"] == second[0]["id"] and first[0]["name"] == "get_weather"
    assert reader.calls[0]["function"]["arguments"] == '{"city": "Lima"}'
