"""Splits an R1 model's streamed text into reasoning and answer deltas, keeping `<think>` tags from the user."""

from __future__ import annotations

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
_TAGS = (THINK_OPEN, THINK_CLOSE)
_CLOSE_PATTERNS = ("\n" + THINK_CLOSE, THINK_CLOSE)

# reasoning_effort -> the most tokens the model may think before the engine closes its think block
# (vLLM's thinking_token_budget). "high" (and no effort) leaves it to the model and max_tokens.
REASONING_BUDGETS: dict[str, int | None] = {"low": 256, "medium": 1024, "high": None}


def reasoning_budget(effort: str | None) -> int | None:
    return REASONING_BUDGETS.get(effort) if effort else None


def _scan(text: str, *, stops: tuple[str, ...]) -> tuple[str, int, int]:
    """Walks `text` left to right dropping stray tags, until a stop pattern or a possible partial pattern.

    Returns (the visible text, where it stopped, the length of the stop pattern found or 0). A
    decision at any position needs at most one pattern's length of text after it; when the text
    ends sooner, the scan stops there and the caller keeps the rest for the next delta.
    """
    visible: list[str] = []
    i, size = 0, len(text)
    while i < size:
        nxt = min((pos for pos in (text.find("<", i), text.find("\n", i)) if pos >= 0), default=size)
        visible.append(text[i:nxt])
        i = nxt
        if i >= size:
            break
        stop = next((pattern for pattern in stops if text.startswith(pattern, i)), None)
        if stop is not None:
            return "".join(visible), i, len(stop)
        tag = next((tag for tag in _TAGS if text.startswith(tag, i)), None)
        if tag is not None:
            i += len(tag)
            continue
        rest = text[i:]
        if any(pattern.startswith(rest) for pattern in (*stops, *_TAGS)):
            break  # maybe the start of a tag: wait for more text
        visible.append(text[i])
        i += 1
    return "".join(visible), i, 0


class ReasoningSplitter:
    """Feed text deltas in order; get (reasoning_delta, content_delta) back.

    With reasoning on, everything before `</think>` is reasoning, whether or not the model repeats
    the `<think>` that the prompt already opened. The "\\n" after `<think>`, the "\\n" before
    `</think>` and the "\\n\\n" after it are R1's layout, not text, and are trimmed. Neither tag ever
    reaches the user. With reasoning off (the chat model) everything is content. Any split of the
    same text into deltas gives the same joined result as feeding it whole.
    """

    def __init__(self, *, reasoning: bool) -> None:
        self._state = "start" if reasoning else "content"
        self._pending = ""

    @property
    def reasoning_done(self) -> bool:
        """True once the reasoning is over (`</think>` seen, or reasoning off)."""
        return self._state in {"after_close", "content"}

    def feed(self, delta: str) -> tuple[str, str]:
        self._pending += delta
        reasoning: list[str] = []
        content: list[str] = []
        while self._step(reasoning, content):
            pass
        return "".join(reasoning), "".join(content)

    def finish(self) -> tuple[str, str]:
        """Releases whatever was held back waiting for a possible tag: the stream has ended."""
        text, self._pending = self._pending, ""
        if self._state in {"start", "reasoning"}:
            return ("", "") if text in {THINK_OPEN, THINK_OPEN + "\n"} else (text, "")
        if self._state == "after_close":
            return "", ""  # only a "\n" of R1's layout can be waiting here
        return "", text

    def _step(self, reasoning: list[str], content: list[str]) -> bool:
        """Consumes what it can of the pending text; True when the state changed and it should go on."""
        text = self._pending
        if self._state == "start":
            opening = THINK_OPEN + "\n"
            if opening.startswith(text):
                return False  # nothing yet, or maybe the opening tag
            if text.startswith(opening):
                self._pending = text[len(opening) :]
            elif text.startswith(THINK_OPEN):
                self._pending = text[len(THINK_OPEN) :]
            self._state = "reasoning"
            return True
        if self._state == "reasoning":
            visible, stopped_at, stop_length = _scan(text, stops=_CLOSE_PATTERNS)
            reasoning.append(visible)
            self._pending = text[stopped_at + stop_length :]
            if stop_length:
                self._state = "after_close"
                return True
            return False
        if self._state == "after_close":
            if text in {"", "\n"}:
                return False
            self._pending = text[2:] if text.startswith("\n\n") else text[1:] if text.startswith("\n") else text
            self._state = "content"
            return True
        visible, stopped_at, _ = _scan(text, stops=())
        content.append(visible)
        self._pending = text[stopped_at:]
        return False
