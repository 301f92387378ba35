"""R1 prompts: BOS first, no system prompt, no reasoning sent back (but across tool calls), tools, prefixes, truncation."""

from __future__ import annotations

from typing import Any

import pytest
from transformers import AutoTokenizer

from inference.models import DEMO_MODEL_DIR
from inference.prompting import (
    ASSISTANT,
    BOS,
    CHAT_OPENING,
    EOS,
    REASONING_OPENING,
    USER,
    build_prompt,
    build_raw_prompt,
    normalize_messages,
    render,
)
from inference.tools import (
    TOOL_CALL_BEGIN,
    TOOL_CALL_END,
    TOOL_CALLS_BEGIN,
    TOOL_CALLS_END,
    TOOL_OUTPUT_BEGIN,
    TOOL_OUTPUT_END,
    TOOL_OUTPUTS_BEGIN,
    TOOL_OUTPUTS_END,
    TOOL_SEP,
)

WEATHER_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return AutoTokenizer.from_pretrained(DEMO_MODEL_DIR)


def test_a_deepthink_prompt_ends_inside_an_open_think_block(tokenizer: Any) -> None:
    prompt = build_prompt(
        [{"role": "user", "content": "Why is the sky blue?"}],
        reasoning=True,
        tokenizer=tokenizer,
        max_model_len=1024,
        max_tokens=100,
    )
    assert prompt.text == f"{BOS}{USER}Why is the sky blue?{ASSISTANT}<think>\n"
    assert prompt.token_ids[0] == tokenizer.convert_tokens_to_ids(BOS)
    assert prompt.num_tokens == len(tokenizer.encode(prompt.text, add_special_tokens=False))
    assert prompt.max_tokens == 100


def test_a_chat_prompt_ends_with_an_empty_think_block() -> None:
    text = render(normalize_messages([{"role": "user", "content": "Hi"}])[1], reasoning=False)
    assert text.endswith(f"{ASSISTANT}<think>\n\n</think>\n\n")
    assert CHAT_OPENING == "<think>\n\n</think>\n\n"
    assert REASONING_OPENING == "<think>\n"


def test_the_prompt_matches_the_models_own_chat_template(tokenizer: Any) -> None:
    messages = [
        {"role": "user", "content": "Why is the sky blue?"},
        {"role": "assistant", "content": "Because of scattering."},
        {"role": "user", "content": "Why is the sea salty?"},
    ]
    system, turns = normalize_messages(messages)
    ours = render(turns, reasoning=True, system=system)
    theirs = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert ours == theirs


def test_earlier_reasoning_is_never_sent_back() -> None:
    _, turns = normalize_messages(
        [
            {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": "<think>\nsecret musing\n</think>\n\nA1"},
            {"role": "user", "content": "Q2"},
        ]
    )
    text = render(turns, reasoning=True)
    assert "secret musing" not in text
    assert text == f"{BOS}{USER}Q1{ASSISTANT}A1{EOS}{USER}Q2{ASSISTANT}<think>\n"


def test_system_instructions_are_folded_into_the_first_user_turn() -> None:
    system, turns = normalize_messages(
        [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Hello"}]
    )
    text = render(turns, reasoning=False, system=system)
    assert text.startswith(f"{BOS}{USER}Answer in French.\n\nHello{ASSISTANT}")
    assert "system" not in text


def test_a_conversation_must_end_with_the_user() -> None:
    with pytest.raises(ValueError):
        normalize_messages([{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}])


def test_consecutive_turns_of_one_role_are_merged() -> None:
    _, turns = normalize_messages([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    assert [(t.role, t.content) for t in turns] == [("user", "a\n\nb")]


def test_old_turns_are_dropped_first_and_the_last_question_stays(tokenizer: Any) -> None:
    messages: list[dict[str, str]] = []
    for index in range(30):
        messages.append({"role": "user", "content": f"Question number {index} about the sky and the sea."})
        messages.append({"role": "assistant", "content": f"Answer number {index}: the sky is blue."})
    messages.append({"role": "user", "content": "The final question about rain?"})
    prompt = build_prompt(messages, reasoning=True, tokenizer=tokenizer, max_model_len=512, max_tokens=256)
    assert prompt.num_tokens + prompt.max_tokens <= 512
    assert prompt.max_tokens == 256
    assert prompt.dropped_turns > 0 and prompt.dropped_turns % 2 == 0
    assert prompt.text.startswith(f"{BOS}{USER}Question number")
    assert prompt.text.endswith(f"{USER}The final question about rain?{ASSISTANT}<think>\n")
    assert "Question number 0 " not in prompt.text
    assert "Question number 29 " in prompt.text


def test_an_overlong_last_question_loses_its_start(tokenizer: Any) -> None:
    question = " ".join(f"word{index}" for index in range(2000)) + " So why is the sky blue?"
    prompt = build_prompt(
        [{"role": "user", "content": question}],
        reasoning=False,
        tokenizer=tokenizer,
        max_model_len=256,
        max_tokens=64,
    )
    assert prompt.num_tokens <= 256 - 64
    assert prompt.cut_chars > 0
    assert prompt.text.startswith(f"{BOS}{USER}")
    assert prompt.text.endswith(f"So why is the sky blue?{ASSISTANT}{CHAT_OPENING}")


def test_max_tokens_shrinks_to_what_the_context_leaves(tokenizer: Any) -> None:
    prompt = build_prompt(
        [{"role": "user", "content": "Why is the sky blue?"}],
        reasoning=True,
        tokenizer=tokenizer,
        max_model_len=128,
        max_tokens=4096,
    )
    assert prompt.num_tokens + prompt.max_tokens == 128


def tool_round(*, reasoning: str = "") -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": reasoning,
            "tool_calls": [WEATHER_CALL, WEATHER_CALL],
        },
        {"role": "tool", "content": "21C", "tool_call_id": "call_1"},
        {"role": "tool", "content": "25C", "tool_call_id": "call_1"},
    ]


def test_tool_calls_and_results_are_written_in_r1s_format_and_the_model_answers_after_them() -> None:
    _, turns = normalize_messages(tool_round())
    text = render(turns, reasoning=False)

    call = f'{TOOL_CALL_BEGIN}function{TOOL_SEP}get_weather\n```json\n{{"city": "Paris"}}\n```{TOOL_CALL_END}'
    assert text == (
        f"{BOS}{USER}Weather in Paris and Rome?{ASSISTANT}{TOOL_CALLS_BEGIN}{call}\n{call}{TOOL_CALLS_END}{EOS}"
        f"{TOOL_OUTPUTS_BEGIN}{TOOL_OUTPUT_BEGIN}21C{TOOL_OUTPUT_END}\n{TOOL_OUTPUT_BEGIN}25C{TOOL_OUTPUT_END}"
        f"{TOOL_OUTPUTS_END}{CHAT_OPENING}"
    )


def test_reasoning_is_passed_back_across_tool_calls_but_not_across_user_turns() -> None:
    messages = [
        {"role": "user", "content": "Q0"},
        {"role": "assistant", "content": "A0", "reasoning_content": "old musing"},
        *tool_round(reasoning="I should call the weather tool."),
        {"role": "assistant", "content": "It is warm.", "reasoning_content": "Both are warm."},
        {"role": "tool", "content": "late result"},
    ]
    _, turns = normalize_messages(messages)
    text = render(turns, reasoning=True)

    assert "old musing" not in text
    assert f"{ASSISTANT}<think>\nI should call the weather tool.\n</think>\n\n{TOOL_CALLS_BEGIN}" in text
    # The answer after tool results follows them directly, as R1's template writes it.
    assert f"{TOOL_OUTPUTS_END}<think>\nBoth are warm.\n</think>\n\nIt is warm.{EOS}" in text
    assert text.endswith(f"{TOOL_OUTPUT_BEGIN}late result{TOOL_OUTPUT_END}{TOOL_OUTPUTS_END}{REASONING_OPENING}")


def test_tool_definitions_go_into_the_first_user_turn_with_the_call_format(tokenizer: Any) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city"}}]
    prompt = build_prompt(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather?"}],
        reasoning=False,
        tokenizer=tokenizer,
        max_model_len=1024,
        max_tokens=64,
        tools=tools,
    )

    first_turn = prompt.text.split(USER)[1].split(ASSISTANT)[0]
    assert first_turn.startswith("Be brief.\n\n## Tools")
    assert "### get_weather" in first_turn and "Description: Weather in a city" in first_turn
    assert TOOL_CALLS_BEGIN in first_turn and first_turn.endswith("Weather?")


def test_a_prefix_is_continued_by_the_chat_model() -> None:
    _, turns = normalize_messages(
        [{"role": "user", "content": "Count"}, {"role": "assistant", "content": "1, 2,", "prefix": True}]
    )

    assert render(turns, reasoning=False) == f"{BOS}{USER}Count{ASSISTANT}{CHAT_OPENING}1, 2,"
    # With DeepThink on, a content prefix comes after an (empty) think block: the model is in the answer.
    text = render(turns, reasoning=True)
    assert text.endswith(f"{ASSISTANT}{CHAT_OPENING}1, 2,")


def test_a_reasoning_prefix_is_continued_inside_the_think_block(tokenizer: Any) -> None:
    messages = [
        {"role": "user", "content": "Why?"},
        {"role": "assistant", "content": "", "reasoning_content": "Let me think", "prefix": True},
    ]
    prompt = build_prompt(messages, reasoning=True, tokenizer=tokenizer, max_model_len=1024, max_tokens=64)

    assert prompt.text.endswith(f"{ASSISTANT}<think>\nLet me think")
    assert prompt.in_reasoning
    chat = build_prompt(messages[:1], reasoning=False, tokenizer=tokenizer, max_model_len=1024, max_tokens=64)
    assert not chat.in_reasoning


def test_a_prefix_anywhere_but_last_is_an_ordinary_answer() -> None:
    with pytest.raises(ValueError):
        normalize_messages([{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A", "prefix": False}])
    _, turns = normalize_messages(
        [
            {"role": "user", "content": "Q"},
            {"role": "assistant", "content": "A", "prefix": True},
            {"role": "user", "content": "Q2"},
        ]
    )
    assert not any(turn.prefix for turn in turns)


def test_old_rounds_with_tool_calls_are_dropped_whole(tokenizer: Any) -> None:
    messages: list[dict[str, Any]] = []
    for index in range(12):
        messages += tool_round()
        messages.append({"role": "assistant", "content": f"Answer number {index}: it is warm."})
    messages.append({"role": "user", "content": "And tomorrow?"})
    prompt = build_prompt(messages, reasoning=True, tokenizer=tokenizer, max_model_len=1024, max_tokens=256)

    assert prompt.num_tokens + prompt.max_tokens <= 1024 and prompt.dropped_turns > 0
    assert prompt.text.startswith(f"{BOS}{USER}Weather in Paris")
    assert prompt.text.endswith(f"{USER}And tomorrow?{ASSISTANT}{REASONING_OPENING}")


def test_a_raw_prompt_is_sent_as_it_is_and_keeps_its_end_when_too_long(tokenizer: Any) -> None:
    prompt = build_raw_prompt("Once upon a time", tokenizer=tokenizer, max_model_len=1024, max_tokens=64)
    assert prompt.text == "Once upon a time" and USER not in prompt.text and not prompt.in_reasoning
    assert prompt.token_ids == tokenizer.encode("Once upon a time", add_special_tokens=True)

    long = " ".join(f"word{index}" for index in range(2000)) + " the end"
    cut = build_raw_prompt(long, tokenizer=tokenizer, max_model_len=256, max_tokens=64)
    assert cut.num_tokens <= 256 - 64 and cut.cut_chars > 0 and cut.text.endswith("the end")
    assert cut.max_tokens == 64
