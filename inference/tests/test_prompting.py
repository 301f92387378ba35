"""R1 prompts: BOS first, no system prompt, no reasoning sent back, the right opening, truncation from the oldest turn."""

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
    normalize_messages,
    render,
)


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
