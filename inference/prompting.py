"""Builds DeepSeek-R1 prompts from a conversation (tool calls and results too), following the model card's rules, and fits them to the context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from inference.tools import render_tool_calls, render_tool_instructions, render_tool_outputs

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
    role: str  # "user", "assistant" or "tool" (one or more tool results in a row)
    content: str
    reasoning: str = ""  # an assistant's reasoning, sent back only inside a tool-call loop
    tool_calls: tuple[Mapping[str, Any], ...] = ()  # an assistant's calls
    outputs: tuple[str, ...] = ()  # a tool turn's results, in order
    prefix: bool = False  # the last turn, an assistant's: the answer continues it


@dataclass(frozen=True)
class Prompt:
    text: str
    token_ids: list[int]
    max_tokens: int  # what may still be generated: never more than asked, never past the context
    dropped_turns: int = 0
    cut_chars: int = 0  # characters cut from the start of the last question when even it was too long
    # Whether the model starts inside the think block (DeepThink), or in the answer.
    in_reasoning: bool = False

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)


def _merge(previous: Turn, turn: Turn) -> Turn | None:
    """Two turns in a row of one role as one, or None when they must stay apart."""
    if previous.role != turn.role or previous.prefix:
        return None
    if turn.role == "user":
        return replace(previous, content=f"{previous.content}\n\n{turn.content}")
    if turn.role == "tool":
        return replace(previous, outputs=previous.outputs + turn.outputs)
    if previous.tool_calls:
        return None
    return replace(
        turn,
        content=f"{previous.content}\n\n{turn.content}",
        reasoning="\n\n".join(r for r in (previous.reasoning, turn.reasoning) if r),
    )


def normalize_messages(messages: Sequence[Mapping[str, Any]]) -> tuple[str, list[Turn]]:
    """R1's rules for the messages themselves: no system prompt, and no reasoning sent back.

    Returns the system instructions (to be folded into the first user turn by `render`) and the
    turns. An assistant turn keeps only its answer (anything up to a `</think>` is dropped, as
    R1's own chat template does) and its tool calls; its `reasoning_content` is kept only after the
    last user turn, where DeepSeek's thinking mode wants it back across tool calls. Consecutive
    turns of one role are merged, the prompt starts with the user, and it ends with the user, with
    tool results, or with an assistant's `prefix` to continue.
    """
    system = "\n\n".join(
        m["content"].strip() for m in messages if m.get("role") == "system" and (m.get("content") or "").strip()
    )
    turns: list[Turn] = []
    for position, message in enumerate(messages):
        role = message.get("role")
        content = message.get("content") or ""
        if role == "user":
            turn = Turn("user", content)
        elif role == "assistant":
            if THINK_CLOSE in content:
                content = content.split(THINK_CLOSE)[-1].lstrip("\n")
            turn = Turn(
                "assistant",
                content,
                reasoning=message.get("reasoning_content") or "",
                tool_calls=tuple(message.get("tool_calls") or ()),
                prefix=bool(message.get("prefix")) and position == len(messages) - 1,
            )
        elif role == "tool":
            turn = Turn("tool", "", outputs=(content,))
        else:
            continue
        merged = _merge(turns[-1], turn) if turns else None
        if merged is not None:
            turns[-1] = merged
        else:
            turns.append(turn)
    while turns and turns[0].role != "user":
        turns.pop(0)
    last_user = max((i for i, turn in enumerate(turns) if turn.role == "user"), default=-1)
    turns = [t if i > last_user or not t.reasoning else replace(t, reasoning="") for i, t in enumerate(turns)]
    if not turns or not (turns[-1].role in {"user", "tool"} or turns[-1].prefix):
        raise ValueError("a prompt needs the conversation to end with a user message, tool results or a prefix")
    return system, turns


def _think_block(reasoning: str) -> str:
    return f"<think>\n{reasoning}\n</think>\n\n"


def _opening(last: Turn, *, reasoning: bool) -> tuple[str, bool]:
    """Where the model takes over, and whether it is then still reasoning."""
    if not last.prefix:
        return (REASONING_OPENING, True) if reasoning else (CHAT_OPENING, False)
    if reasoning and not last.content:
        return REASONING_OPENING + last.reasoning, True  # continue the reasoning itself
    return (_think_block(last.reasoning) if last.reasoning else CHAT_OPENING) + last.content, False


def render_prompt(turns: Sequence[Turn], *, reasoning: bool, system: str = "") -> tuple[str, bool]:
    """R1's prompt text and whether the model starts reasoning; see `render`."""
    parts = [BOS]
    for index, turn in enumerate(turns):
        after_tools = index > 0 and turns[index - 1].role == "tool"
        if turn.role == "user":
            content = f"{system}\n\n{turn.content}" if system and index == 0 else turn.content
            parts.append(f"{USER}{content}")
        elif turn.role == "tool":
            parts.append(render_tool_outputs(turn.outputs))
        elif not turn.prefix:
            # After tool results R1 answers straight on, without a new Assistant tag (its chat template's form).
            parts.append("" if after_tools else ASSISTANT)
            parts.append(_think_block(turn.reasoning) if turn.reasoning else "")
            parts.append(turn.content + (render_tool_calls(turn.tool_calls) if turn.tool_calls else "") + EOS)
    last = turns[-1]
    opening, in_reasoning = _opening(last, reasoning=reasoning)
    continues_after_tools = last.role == "tool" or (last.prefix and len(turns) > 1 and turns[-2].role == "tool")
    parts.append(("" if continues_after_tools else ASSISTANT) + opening)
    return "".join(parts), in_reasoning


def render(turns: Sequence[Turn], *, reasoning: bool, system: str = "") -> str:
    """R1's prompt text, BOS first, the system instructions inside the first user turn, ending where the model takes over."""
    return render_prompt(turns, reasoning=reasoning, system=system)[0]


def _next_round(turns: Sequence[Turn], start: int) -> int | None:
    """Where the round after the one at `start` begins (the next user turn), if there is one."""
    return next((i for i in range(start + 1, len(turns)) if turns[i].role == "user"), None)


def build_prompt(
    messages: Sequence[Mapping[str, Any]],
    *,
    reasoning: bool,
    tokenizer: Tokenizer,
    max_model_len: int,
    max_tokens: int,
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> Prompt:
    """The R1 prompt for a conversation, truncated from its oldest rounds to leave room for the answer.

    The last round (the last user turn and what follows it) always stays, with the system
    instructions and the tool definitions, if any; when even a last question alone does not fit,
    the start of its text is cut. The returned `max_tokens` is lowered when the prompt leaves less
    room than asked for.
    """
    system, turns = normalize_messages(messages)
    if tools:
        system = "\n\n".join(part for part in (system, render_tool_instructions(tools)) if part)
    budget = max(max_model_len - max_tokens, max_model_len // MIN_PROMPT_SHARE)

    def encode(candidate: Sequence[Turn], instructions: str) -> tuple[str, list[int], bool]:
        text, in_reasoning = render_prompt(candidate, reasoning=reasoning, system=instructions)
        return text, tokenizer.encode(text, add_special_tokens=False), in_reasoning

    text, ids, in_reasoning = encode(turns, system)
    dropped = 0
    # Drop the oldest rounds whole, so the prompt still starts with the user.
    while len(ids) > budget and (following := _next_round(turns, dropped)) is not None:
        dropped = following
        text, ids, in_reasoning = encode(turns[dropped:], system)
    kept = list(turns[dropped:])
    question = kept[-1].content
    if len(ids) > budget and len(kept) == 1:
        # Even the last question alone is too long: keep its end, where the actual ask usually is.
        frame = len(encode([Turn("user", "")], system)[1])
        question_ids = tokenizer.encode(question, add_special_tokens=False)
        keep = max(budget - frame, 0)
        while len(ids) > budget and question:
            shorter = (
                tokenizer.decode(question_ids[len(question_ids) - keep :], skip_special_tokens=False) if keep else ""
            )
            question = shorter if len(shorter) < len(question) else question[1:]
            text, ids, in_reasoning = encode([Turn("user", question)], system)
            question_ids = tokenizer.encode(question, add_special_tokens=False)
            keep = max(min(keep, len(question_ids)) - max(len(ids) - budget, 1), 0)
        if len(ids) > budget:
            text, ids, in_reasoning = encode([Turn("user", question)], "")
    cut = len(kept[-1].content) - len(question)
    room = max_model_len - len(ids)
    if room < 1:
        raise ValueError("the context is too small for this prompt")
    return Prompt(
        text=text,
        token_ids=ids,
        max_tokens=min(max_tokens, room),
        dropped_turns=dropped,
        cut_chars=cut,
        in_reasoning=in_reasoning,
    )


def build_raw_prompt(text: str, *, tokenizer: Tokenizer, max_model_len: int, max_tokens: int) -> Prompt:
    """A raw text prompt (the legacy completions API): no template, no think block; its end kept when too long."""
    ids = tokenizer.encode(text, add_special_tokens=True)
    budget = max(max_model_len - max_tokens, max_model_len // MIN_PROMPT_SHARE)
    cut = 0
    if len(ids) > budget:
        kept = tokenizer.decode(ids[len(ids) - budget :], skip_special_tokens=False)
        cut, ids = len(text) - len(kept), ids[len(ids) - budget :]
        text = kept
    if not ids:
        raise ValueError("the prompt is empty")
    return Prompt(text=text, token_ids=ids, max_tokens=min(max_tokens, max_model_len - len(ids)), cut_chars=max(cut, 0))


def title_messages(question: str) -> list[dict[str, str]]:
    """The request that asks the chat model to name a conversation after its first question."""
    return [{"role": "user", "content": TITLE_REQUEST + question.strip()}]
