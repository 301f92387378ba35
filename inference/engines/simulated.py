"""A stand-in engine with fixed token timings and R1-shaped output, for load tests of everything around the model."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

from inference.prompting import normalize_messages

from .base import EngineInfo, GenerationChunk, GenerationRequest

_REASONING_WORDS = tuple(
    [
        "The",
        "user",
        "asks",
        "a",
        "question.",
        "Key",
        "ideas:",
        "timing,",
        "batching,",
        "streaming.",
        "I",
        "will",
        "answer",
        "simply.",
    ]
)
_ANSWER_WORDS = tuple(
    [
        "This",
        "is",
        "a",
        "simulated",
        "answer",
        "from",
        "the",
        "load-test",
        "engine,",
        "streamed",
        "one",
        "word",
        "at",
        "a",
        "time.",
    ]
)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


class SimulatedEngine:
    """Emits `reasoning_tokens` words of reasoning then the answer, one "token" every `inter_token_delay`.

    Never a default: it exists so that load tests measure the queueing, streaming and storage
    around a model rather than the model.
    """

    def __init__(
        self,
        *,
        first_token_delay: float = 0.05,
        inter_token_delay: float = 0.01,
        tokens: int = 64,
        reasoning_tokens: int = 16,
        max_model_len: int = 4096,
    ) -> None:
        self.first_token_delay = first_token_delay
        self.inter_token_delay = inter_token_delay
        self.tokens = tokens
        self.reasoning_tokens = reasoning_tokens
        self.max_model_len = max_model_len
        self._active: set[str] = set()
        self._aborted: set[str] = set()

    @classmethod
    def from_env(cls) -> SimulatedEngine:
        """WHALE_SIM_FIRST_TOKEN_SECONDS, WHALE_SIM_INTER_TOKEN_SECONDS, WHALE_SIM_TOKENS, WHALE_SIM_REASONING_TOKENS."""
        return cls(
            first_token_delay=_env_float("WHALE_SIM_FIRST_TOKEN_SECONDS", 0.05),
            inter_token_delay=_env_float("WHALE_SIM_INTER_TOKEN_SECONDS", 0.01),
            tokens=int(_env_float("WHALE_SIM_TOKENS", 64)),
            reasoning_tokens=int(_env_float("WHALE_SIM_REASONING_TOKENS", 16)),
        )

    @property
    def info(self) -> EngineInfo:
        return EngineInfo(
            engine="simulated", model="simulated", is_demo_fallback=False, max_model_len=self.max_model_len
        )

    async def start(self) -> None:
        return None

    async def generate(self, req: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        if req.prompt is not None:
            prompt_tokens = len(req.prompt.split()) + 1
        else:
            _, turns = normalize_messages(req.messages)
            prompt_tokens = sum(len(turn.content.split()) + 2 for turn in turns) + 4
        limit = min(self.tokens, req.sampling.max_tokens)
        thinking = min(self.reasoning_tokens, limit) if req.reasoning else 0
        self._active.add(req.request_id)
        try:
            async for chunk in self._stream(req, limit, thinking, prompt_tokens):
                yield chunk
        finally:
            self._active.discard(req.request_id)
            self._aborted.discard(req.request_id)

    async def _stream(
        self, req: GenerationRequest, limit: int, thinking: int, prompt_tokens: int
    ) -> AsyncIterator[GenerationChunk]:
        await asyncio.sleep(self.first_token_delay)
        for index in range(limit):
            if req.request_id in self._aborted:
                yield self._chunk(index, thinking, prompt_tokens, finish_reason="abort")
                return
            if index:
                await asyncio.sleep(self.inter_token_delay)
            is_reasoning = index < thinking
            words = _REASONING_WORDS if is_reasoning else _ANSWER_WORDS
            position = index if is_reasoning else index - thinking
            word = words[position % len(words)]
            text = word if position == 0 else f" {word}"
            last = index == limit - 1
            yield GenerationChunk(
                reasoning=text if is_reasoning else "",
                content="" if is_reasoning else text,
                completion_tokens=index + 1,
                reasoning_tokens=min(index + 1, thinking),
                prompt_tokens=prompt_tokens,
                finish_reason=("length" if limit < self.tokens else "stop") if last else None,
            )
        if limit == 0:
            yield self._chunk(0, 0, prompt_tokens, finish_reason="length")

    @staticmethod
    def _chunk(done: int, thinking: int, prompt_tokens: int, *, finish_reason: str) -> GenerationChunk:
        return GenerationChunk(
            completion_tokens=done,
            reasoning_tokens=min(done, thinking),
            prompt_tokens=prompt_tokens,
            finish_reason=finish_reason,
        )

    async def abort(self, request_id: str) -> None:
        if request_id in self._active:
            self._aborted.add(request_id)

    async def shutdown(self) -> None:
        self._aborted.clear()
