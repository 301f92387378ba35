"""Builds DeepSeek-R1 prompts from a conversation, following the model card's rules, and fits them to the context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

BOS = "<｜begin▁of▁sentence｜>"  # noqa: RUF001 - R1\'s tokens are spelled with full-width bars
EOS = "<｜end▁of▁sentence｜>"  # noqa: RUF001 - R1\'s tokens are spelled with full-width bars
USER = "<｜User｜>"  # noqa: RUF001 - R1\'s tokens are spelled with full-width bars
ASSISTANT = "<｜Assistant｜>"  # noqa: RUF001 - R1\'s tokens are spelled with full-width bars
# R1 is told to think by opening the think block in the prompt; the chat model (same weights)
# gets an empty, closed one and answers directly.
REASONING_OPENING = "<think>\n"
CHAT_OPENING = "<think>\n\n</think>\n\n"
THINK_CLOSE = "</think>"
TITLE_REQUEST = "Write a short title for this conversation: "

# Never squeeze the prompt below this share of the context, however many tokens are asked for.
MIN_PROMPT_SHARE = 4


class Tokenizer(Protocol):
    def encode(self, text: str, add_special_tokens: bool = ...) -> list[int]: ...

    def decode(self, token_ids: list[int], skip_special_tokens: bool = ...) -> str: ...


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    content: str


@dataclass(frozen=True)
class Prompt:
    text: str
    token_ids: list[int]
    max_tokens: int  # what may still be generated: never more than asked, never past the context
    dropped_turns: int = 0
    cut_chars: int = 0  # characters cut from the start of the last question when even it was too long

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)


def normalize_messages(messages: Sequence[Mapping[str, str]]) -> tuple[str, list[Turn]]:
    """R1's rules for the messages themselves: no system prompt, and no reasoning sent back.

    Returns the system instructions (to be folded into the first user turn by `render`) and the
    turns. An assistant turn keeps only its answer (anything up to a `</think>` is dropped, as
    R1's own chat template does); consecutive turns of one role are merged so the prompt
    alternates, starting and ending with the user.
    """
    system = "\n\n".join(
        m["content"].strip() for m in messages if m.get("role") == "system" and (m.get("content") or "").strip()
    )
    turns: list[Turn] = []
    for message in messages:
        role = message.get("role")
        if role not in {"user", "assistant"}:
            continue
        content = message.get("content") or ""
        if role == "assistant" and THINK_CLOSE in content:
            content = content.split(THINK_CLOSE)[-1].lstrip("\n")
        if turns and turns[-1].role == role:
            turns[-1] = Turn(role, f"{turns[-1].content}\n\n{content}")
        else:
            turns.append(Turn(role, content))
    while turns and turns[0].role != "user":
        turns.pop(0)
    if not turns or turns[-1].role != "user":
        raise ValueError("a prompt needs the conversation to end with a user message")
    return system, turns


def render(turns: Sequence[Turn], *, reasoning: bool, system: str = "") -> str:
    """R1's prompt text, BOS first, the system instructions inside the first user turn, ending where the model takes over."""
    parts = [BOS]
    for index, turn in enumerate(turns):
        if turn.role == "user":
            content = f"{system}\n\n{turn.content}" if system and index == 0 else turn.content
            parts.append(f"{USER}{content}")
        else:
            parts.append(f"{ASSISTANT}{turn.content}{EOS}")
    parts.append(ASSISTANT + (REASONING_OPENING if reasoning else CHAT_OPENING))
    return "".join(parts)


def build_prompt(
    messages: Sequence[Mapping[str, str]],
    *,
    reasoning: bool,
    tokenizer: Tokenizer,
    max_model_len: int,
    max_tokens: int,
) -> Prompt:
    """The R1 prompt for a conversation, truncated from its oldest turns to leave room for the answer.

    The last user turn always stays (with the system instructions, if any); when even it does not
    fit, the start of its text is cut. The returned `max_tokens` is lowered when the prompt leaves
    less room than asked for.
    """
    system, turns = normalize_messages(messages)
    budget = max(max_model_len - max_tokens, max_model_len // MIN_PROMPT_SHARE)

    def encode(candidate: Sequence[Turn], instructions: str) -> tuple[str, list[int]]:
        text = render(candidate, reasoning=reasoning, system=instructions)
        return text, tokenizer.encode(text, add_special_tokens=False)

    text, ids = encode(turns, system)
    dropped = 0
    # Drop the oldest question and answer together, so the prompt still starts with the user.
    while len(ids) > budget and len(turns) - dropped > 1:
        dropped += 2
        text, ids = encode(turns[dropped:], system)
    kept = list(turns[dropped:])
    question = kept[-1].content
    if len(ids) > budget:
        # Even the last question alone is too long: keep its end, where the actual ask usually is.
        frame = len(encode([Turn("user", "")], system)[1])
        question_ids = tokenizer.encode(question, add_special_tokens=False)
        keep = max(budget - frame, 0)
        while len(ids) > budget and question:
            shorter = (
                tokenizer.decode(question_ids[len(question_ids) - keep :], skip_special_tokens=False) if keep else ""
            )
            question = shorter if len(shorter) < len(question) else question[1:]
            text, ids = encode([Turn("user", question)], system)
            question_ids = tokenizer.encode(question, add_special_tokens=False)
            keep = max(min(keep, len(question_ids)) - max(len(ids) - budget, 1), 0)
        if len(ids) > budget:
            text, ids = encode([Turn("user", question)], "")
    cut = len(kept[-1].content) - len(question)
    room = max_model_len - len(ids)
    if room < 1:
        raise ValueError("the context is too small for this prompt")
    return Prompt(text=text, token_ids=ids, max_tokens=min(max_tokens, room), dropped_turns=dropped, cut_chars=cut)


def title_messages(question: str) -> list[dict[str, str]]:
    """The request that asks the chat model to name a conversation after its first question."""
    return [{"role": "user", "content": TITLE_REQUEST + question.strip()}]
