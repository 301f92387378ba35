"""The one small interface every inference engine adapter implements, and the types it speaks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from inference.protocol import SamplingSettings


@dataclass(frozen=True)
class GenerationRequest:
    request_id: str
    messages: Sequence[Mapping[str, str]]  # oldest first, ending with the user; content only, no reasoning
    reasoning: bool  # DeepThink: let the model reason first; off: the chat model answers directly
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    ignore_eos: bool = False  # keep generating past the end of the answer (benchmarks and tests only)


@dataclass(frozen=True)
class GenerationChunk:
    reasoning: str = ""  # new reasoning text since the previous chunk
    content: str = ""  # new answer text since the previous chunk
    completion_tokens: int = 0  # cumulative
    reasoning_tokens: int = 0  # cumulative, counted by the adapter (vLLM reports 0)
    prompt_tokens: int = 0
    finish_reason: str | None = None  # set on the last chunk: "stop", "length", "abort", ...


@dataclass(frozen=True)
class EngineInfo:
    engine: str  # "vllm", "openai", "simulated"
    model: str  # what is actually served, e.g. "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
    is_demo_fallback: bool  # True when the tiny offline demo model stands in for the real one
    max_model_len: int


class EngineError(Exception):
    """The engine could not produce an answer; `code` goes to the client, the message to the logs."""

    def __init__(self, message: str, *, code: str = "engine_error") -> None:
        super().__init__(message)
        self.code = code


@runtime_checkable
class Engine(Protocol):
    @property
    def info(self) -> EngineInfo: ...

    async def start(self) -> None:
        """Loads the model; called once, on the event loop the engine will live on."""

    def generate(self, req: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        """Streams one answer; the last chunk carries `finish_reason`."""
        ...

    async def abort(self, request_id: str) -> None:
        """Stops one request; its stream ends soon after (a no-op for unknown ids)."""

    async def shutdown(self) -> None: ...
