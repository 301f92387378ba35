"""Files in the user turn, in DeepSeek's official file template, fitted to a token budget with the model's tokenizer.

DeepSeek-R1's README ("Official Prompts") gives the template its own app uses for an upload. One block
per file, then the question; no system prompt. When the files do not fit, each keeps a fair share of
the budget (short files whole, long ones cut at the end) and the caller is told how much of each the
model saw, so the answer can say "Read the first 62% of report.pdf" instead of cutting silently.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# Verbatim from DeepSeek-R1's README, "Official Prompts".
file_template = """[file name]: {file_name}
[file content begin]
{file_content}
[file content end]
{question}"""

# One file's block: the template up to the question (the question comes once, after every block).
BLOCK_TEMPLATE = file_template.removesuffix("\n{question}")
FIT_ROUNDS = 4


class HasText(Protocol):
    name: str
    text: str


@dataclass(frozen=True)
class Included:
    name: str
    chars: int  # characters of the file's text in the prompt
    total_chars: int

    @property
    def fraction(self) -> float:
        return 1.0 if self.total_chars == 0 else self.chars / self.total_chars

    @property
    def percent(self) -> int:
        """Whole percent, rounded down: never claims more than the model saw."""
        return 100 if self.chars >= self.total_chars else min(99, int(self.fraction * 100))

    @property
    def notice(self) -> str | None:
        if self.chars >= self.total_chars:
            return None
        if self.chars == 0:
            return f"Could not read {self.name}: there was no room left for it."
        return f"Read the first {self.percent}% of {self.name}"


@dataclass(frozen=True)
class FittedFiles:
    text: str  # the user turn: every file's block, then the question
    tokens: int
    included: list[Included]

    @property
    def notices(self) -> list[str]:
        return [item.notice for item in self.included if item.notice]


def count_tokens(tokenizer: Any, text: str) -> int:
    """Tokens of `text` by a `tokenizers.Tokenizer` or a transformers tokenizer, without special tokens."""
    encoded = tokenizer.encode(text, add_special_tokens=False)
    return len(encoded.ids if hasattr(encoded, "ids") else encoded)


def render(files: Sequence[tuple[str, str]], question: str) -> str:
    """The user turn for (name, content) pairs; with one file exactly DeepSeek's `file_template`."""
    blocks = [BLOCK_TEMPLATE.format(file_name=name, file_content=content) for name, content in files]
    return "\n".join([*blocks, question])


def _fair_shares(sizes: list[int], budget: int) -> list[int]:
    """Water-filling: files smaller than an equal share keep everything; the rest split what is left."""
    shares = [0] * len(sizes)
    left = max(0, budget)
    order = sorted(range(len(sizes)), key=lambda index: sizes[index])
    for position, index in enumerate(order):
        share = left // (len(sizes) - position)
        shares[index] = min(sizes[index], share)
        left -= shares[index]
    return shares


def _prefix_within(tokenizer: Any, text: str, tokens: int) -> int:
    """The longest prefix of `text` (in characters) of at most `tokens` tokens, by binary search."""
    if tokens <= 0:
        return 0
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if count_tokens(tokenizer, text[:middle]) <= tokens:
            low = middle
        else:
            high = middle - 1
    return low


def files_fit(files: Sequence[HasText], question: str, budget_tokens: int, tokenizer: Any) -> FittedFiles:
    """The files and the question in at most `budget_tokens` tokens (the question and the template are kept whole)."""
    names = [file.name for file in files]
    texts = [file.text for file in files]
    overhead = count_tokens(tokenizer, render([(name, "") for name in names], question))
    sizes = [count_tokens(tokenizer, text) for text in texts]
    shares = _fair_shares(sizes, budget_tokens - overhead)
    for _ in range(FIT_ROUNDS):
        kept = [
            len(text) if share >= size else _prefix_within(tokenizer, text, share)
            for text, size, share in zip(texts, sizes, shares, strict=True)
        ]
        prompt = render([(name, text[:chars]) for name, text, chars in zip(names, texts, kept, strict=True)], question)
        tokens = count_tokens(tokenizer, prompt)
        over = tokens - budget_tokens
        if over <= 0 or not any(kept):
            break
        # Tokens merge differently across the block boundaries: take the excess off the largest share.
        largest = max(range(len(shares)), key=lambda index: shares[index])
        shares[largest] = max(0, min(shares[largest], sizes[largest]) - over)
    included = [Included(name=n, chars=c, total_chars=len(t)) for n, c, t in zip(names, kept, texts, strict=True)]
    return FittedFiles(text=prompt, tokens=tokens, included=included)


def model_dir() -> Path:
    """The directory whose tokenizer.json the GPU worker's model uses (as inference.models chooses it,
    without downloading anything): WHALE_MODEL_PATH, else the default model in the local cache, else the demo."""
    from inference.models import DEFAULT_MODEL, DEMO_MODEL_DIR

    forced = os.environ.get("WHALE_MODEL_PATH", "").strip()
    if forced and (Path(forced).expanduser() / "tokenizer.json").exists():
        return Path(forced).expanduser()
    try:
        from huggingface_hub import snapshot_download

        cached = Path(snapshot_download(os.environ.get("WHALE_DEFAULT_MODEL", DEFAULT_MODEL), local_files_only=True))
        if (cached / "tokenizer.json").exists():
            return cached
    except Exception:  # noqa: BLE001, S110 - not in the cache: the demo model
        pass
    return DEMO_MODEL_DIR


@functools.lru_cache(maxsize=4)
def model_tokenizer(directory: str | None = None) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(Path(directory or model_dir()) / "tokenizer.json"))
