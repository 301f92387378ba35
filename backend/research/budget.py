"""Counting tokens with the served model's tokenizer, to fit the search results into a context budget.

The tokenizer is the `tokenizer.json` the GPU worker's model ships (WHALE_SEARCH_TOKENIZER, else
WHALE_MODEL_PATH, else the offline demo model the worker falls back to). Only when none is found, or
WHALE_SEARCH_TOKENIZER=chars, is a rough estimate used: 4 characters a token, 1 per CJK character.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from tokenizers import Tokenizer

from inference.models import DEMO_MODEL_DIR

logger = logging.getLogger(__name__)

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
Counter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk + 3) // 4


def tokenizer_file(setting: str) -> Path | None:
    """The tokenizer.json to use for `setting` (a file, or a directory holding one), else None."""
    candidates = [setting] if setting else [os.environ.get("WHALE_MODEL_PATH", ""), str(DEMO_MODEL_DIR)]
    for candidate in candidates:
        if not candidate:
            continue
        path = Path(candidate).expanduser()
        if path.is_dir():
            path = path / "tokenizer.json"
        if path.is_file():
            return path
    return None


@functools.lru_cache(maxsize=4)
def _counter_for(setting: str) -> tuple[Counter, str]:
    if setting == "chars":
        return estimate_tokens, "chars"
    path = tokenizer_file(setting)
    if path is None:
        logger.warning("no tokenizer found for the search budget (%r); estimating from characters", setting)
        return estimate_tokens, "chars"
    tokenizer = Tokenizer.from_file(str(path))

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return count, str(path)


def token_counter() -> tuple[Counter, str]:
    """The counting function and what it counts with (a tokenizer path, or "chars")."""
    return _counter_for(settings.WHALE_SEARCH_TOKENIZER)
