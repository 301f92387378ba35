"""The one small interface every inference engine adapter implements, and the types it speaks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from inference.protocol import SamplingSettings, ToolCallDelta


@dataclass(frozen=True)
class GenerationRequest:
    request_id: str
    # Oldest first (protocol.ChatMessage): ending with the user, tool results, or an assistant prefix.
    messages: Sequence[Mapping[str, Any]]
    reasoning: bool  # DeepThink: let the model reason first; off: the chat model answers directly
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    ignore_eos: bool = False  # keep generating past the end of the answer (benchmarks and tests only)
    tools: Sequence[Mapping[str, Any]] | None = None  # OpenAI function tools
    tool_choice: str | Mapping[str, Any] | None = None  # None: "auto" when there are tools
    parallel_tool_calls: bool = True
    prompt: str | None = None  # a raw text prompt instead of messages: no template, no think block


@dataclass(frozen=True)
class GenerationChunk:
    reasoning: str = ""  # new reasoning text since the previous chunk
    content: str = ""  # new answer text since the previous chunk
    completion_tokens: int = 0  # cumulative
    reasoning_tokens: int = 0  # cumulative, counted by the adapter (vLLM reports 0)
    prompt_tokens: int = 0
    finish_reason: str | None = None  # set on the last chunk: "stop", "length", "tool_calls", "abort", ...
    tool_calls: tuple[ToolCallDelta, ...] = ()  # new tool-call deltas since the previous chunk
    cached_tokens: int = 0  # prompt tokens the engine served from its prefix cache, by its own count


@dataclass(frozen=True)
class EngineInfo:
    engine: str  # "vllm", "openai", "simulated"
    model: str  # what is actually served, e.g. "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
    is_demo_fallback: bool  # True when the tiny offline demo model stands in for the real one
    max_model_len: int


# The EngineError code of a request the engine refuses (a bad schema or regex, an unknown tool, ...).
INVALID_REQUEST = "invalid_request"


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
