"""The wire contract between the backend and the GPU workers: task names, payloads, Redis keys, turn events.

Pure Python plus redis: the backend imports this module too, and nothing here may import
Django or an engine. Both sides build keys from the payload, so a worker needs no settings
beyond its Redis URL.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, NotRequired, TypedDict

import orjson

# 2: tools, guided decoding, reasoning effort, raw prompts, prefix completion, cached tokens. Every
# addition is optional with a default, so a version-1 payload still decodes. Added since, as optional:
# notify_started, origin.
PROTOCOL_VERSION = 2

# Celery task names (the GPU worker and the backend each register their own side).
TASK_GENERATE_TURN = "whale.generate_turn"  # backend -> GPU queue of the model
TASK_GENERATE_TITLE = "whale.generate_title"  # backend -> GPU queue of the model
TASK_TURN_STARTED = "whale.turn_started"  # worker -> backend queue
TASK_FINALIZE_TURN = "whale.finalize_turn"  # worker -> backend queue
# worker -> backend queue: several of the two above as one task, [[name, args], ...] (inference/notices.py)
TASK_TURN_NOTICES = "whale.turn_notices"
TASK_SAVE_TITLE = "whale.save_title"  # worker -> backend queue

BACKEND_QUEUE = "backend"

# Turn event types, in the order a turn emits them.
EVENT_QUEUED = "queued"
EVENT_STARTED = "started"
EVENT_REASONING = "reasoning"
EVENT_CONTENT = "content"
# One delta of a tool call's arguments: {"index", "id", "name", "arguments_delta"} (id and name are
# on a call's first delta; later ones may repeat them).
EVENT_TOOL_CALL = "tool_call"
EVENT_DONE = "done"
EVENT_ERROR = "error"
TERMINAL_EVENTS = frozenset({EVENT_DONE, EVENT_ERROR})
EventType = Literal["queued", "started", "reasoning", "content", "tool_call", "done", "error"]

# How long a worker's lease on a turn lives without renewal; a worker renews it every
# LEASE_RENEW_SECONDS while the turn runs. A turn whose lease lapsed has lost its worker.
LEASE_TTL_SECONDS = 15
LEASE_RENEW_SECONDS = 3


def _stream_ttl_seconds() -> int:
    try:
        seconds = int(os.environ.get("WHALE_STREAM_TTL_SECONDS") or 3600)
    except ValueError:
        seconds = 3600
    return max(60, seconds)


# How long a finished turn's stream stays in Redis; after that, replays come from the database.
# WHALE_STREAM_TTL_SECONDS (at least 60), the same for the backend and the GPU workers.
STREAM_TTL_SECONDS = _stream_ttl_seconds()
# Deltas are coalesced and written at most this often (one Redis round trip per flush; every
# reader pays per event too). The first delta of a turn goes out at once. A worker's
# WHALE_FLUSH_INTERVAL_MS overrides it.
FLUSH_INTERVAL_SECONDS = 0.05
# Under load the interval grows with the turns in flight, one base interval per FLUSH_BUSY_TURNS, up to
# FLUSH_INTERVAL_MAX_SECONDS (WHALE_FLUSH_INTERVAL_MAX_MS): each event then carries more tokens, and what the
# stack pays per event (this write, the backend's read and frame) is paid fewer times per turn.
FLUSH_BUSY_TURNS = 32
FLUSH_INTERVAL_MAX_SECONDS = 0.2


def turn_keys(prefix: str, turn_id: str) -> TurnKeys:
    base = f"{prefix}:turn:{turn_id}"
    return TurnKeys(events=f"{base}:events", cancel=f"{base}:cancel", lease=f"{base}:lease")


def worker_heartbeat_key(prefix: str, worker_id: str) -> str:
    return f"{prefix}:worker:{worker_id}"


def workers_index_key(prefix: str) -> str:
    return f"{prefix}:workers"


@dataclass(frozen=True)
class TurnKeys:
    events: str  # Redis Stream of turn events
    cancel: str  # set (any value) to ask the worker to stop the turn
    lease: str  # SET NX EX by whoever may write the turn's events (a worker, or the backend to end it)


class ToolCallFunction(TypedDict):
    name: str
    arguments: str  # JSON text, as the model wrote it


class ToolCall(TypedDict):
    id: str
    type: Literal["function"]
    function: ToolCallFunction


class ChatMessage(TypedDict):
    role: Literal["user", "assistant", "tool", "system"]
    content: str
    # assistant: its reasoning, passed back across tool calls (DeepSeek's thinking-mode rules)
    reasoning_content: NotRequired[str]
    tool_calls: NotRequired[list[ToolCall]]  # assistant: the calls it made
    tool_call_id: NotRequired[str]  # tool: the call this is the result of
    # Only on the last message, an assistant's: the answer continues its content (prefix completion).
    prefix: NotRequired[bool]


class ToolCallDelta(TypedDict):
    """The data of a `tool_call` event."""

    index: int  # which call of the answer, from 0
    id: str
    name: str
    arguments_delta: str


class Usage(TypedDict):
    """`usage` of a `done` event."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    # Prompt tokens the engine served from its prefix cache, by its own count; 0 when it does not say.
    cached_tokens: int


# The error code of an `error` event for a task the engine refuses (a bad schema, a bad regex, ...).
ERROR_INVALID_REQUEST = "invalid_request"

TOOL_CHOICES = ("none", "auto", "required")
REASONING_EFFORTS = ("low", "medium", "high")
# The one key a `guided` setting has, and what it holds.
GUIDED_KINDS = ("json_object", "json_schema", "regex", "choice")

ReasoningEffort = Literal["low", "medium", "high"]
# "none" | "auto" | "required" | {"type": "function", "function": {"name": ...}}
ToolChoice = str | dict[str, Any]


@dataclass
class SamplingSettings:
    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 512
    # Exactly one of {"json_object": True}, {"json_schema": {...}}, {"regex": "..."}, {"choice": [...]}:
    # constrains the answer (after the think block) by structured outputs.
    guided: dict[str, Any] | None = None
    reasoning_effort: ReasoningEffort | None = None  # bounds the reasoning length; None: the model's own
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> SamplingSettings:
        """Ignores keys it does not know: a newer backend may add settings."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in payload.items() if key in known})


@dataclass
class TurnTask:
    """Everything a worker needs to run one turn: it never reads the database."""

    turn_id: str
    conversation_id: str
    user_id: str
    model: str  # the registry name the user picked, e.g. "whale-r1"
    reasoning: bool  # force "<think>\n" (DeepThink) or an empty think block (chat)
    # The branch, oldest first, ending with the user's turn (or tool results, or an assistant prefix).
    messages: list[ChatMessage]
    keys: TurnKeys
    deadline: float  # epoch seconds; past it the worker gives up with an error
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    finalize_queue: str = BACKEND_QUEUE
    request_id: str = ""
    # The id of the HTTP request that queued the turn: the worker's log lines carry it (inference/logs.py).
    origin_request_id: str = ""
    # OpenAI function tools: [{"type": "function", "function": {"name", "description"?, "parameters"?}}].
    tools: list[dict[str, Any]] | None = None
    tool_choice: ToolChoice | None = None  # None: "auto" when tools are given
    parallel_tool_calls: bool = True
    # A raw text prompt (the legacy completions API): no chat template, no think block, `reasoning`
    # ignored, content events only. `messages` is then empty.
    prompt: str | None = None
    # False: the backend keeps no started state for this turn (a partner completion stays `queued` until it is
    # settled), so the worker sends no turn_started task for it: one Celery task and its queries fewer.
    notify_started: bool = True
    # The backend's store of the turn's row ("app", "partner"): the worker's finalize notice names it, so the
    # settle goes to that store first instead of asking each in turn. Empty: the notice names none.
    origin: str = ""
    version: int = PROTOCOL_VERSION

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TurnTask:
        data = dict(payload)
        data["keys"] = TurnKeys(**data["keys"])
        data["sampling"] = SamplingSettings.from_payload(data.get("sampling") or {})
        return cls(**data)

    @property
    def effective_tool_choice(self) -> ToolChoice:
        """What the engine does with the tools: "none" without any, "auto" when unset."""
        if not self.tools:
            return "none"
        return self.tool_choice if self.tool_choice is not None else "auto"


@dataclass
class TitleTask:
    conversation_id: str
    user_id: str
    model: str
    messages: list[ChatMessage]  # the first question and answer
    save_queue: str = BACKEND_QUEUE
    version: int = PROTOCOL_VERSION

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TitleTask:
        return cls(**payload)


def encode_event(event_type: EventType, data: dict[str, Any]) -> dict[str, str]:
    """Fields of one Redis Stream entry: compact UTF-8 JSON (orjson: every delta of every turn passes here)."""
    return {"type": event_type, "data": orjson.dumps(data).decode()}


def decode_event(fields: dict[str, str]) -> tuple[str, dict[str, Any]]:
    return fields["type"], orjson.loads(fields.get("data") or "{}")


CURSOR_RE = re.compile(r"(?:0|(\d{1,20})-(\d{1,20}))\.(\d{1,12})\.(\d{1,12})", re.ASCII)
STREAM_ID_PART_MAX = 2**64 - 1
CURSOR_OFFSET_MAX = 10**12 - 1


def stream_id_position(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass(frozen=True)
class Cursor:
    """A client's resume position: the last stream entry seen and how much text it had by then.

    The text offsets let a replay continue from the database once the stream has expired.
    Rendered as "<stream id>.<reasoning chars>.<content chars>"; "0" means from the start.
    """

    stream_id: str = "0"
    reasoning_chars: int = 0
    content_chars: int = 0

    def render(self) -> str:
        return f"{self.stream_id}.{self.reasoning_chars}.{self.content_chars}"

    @classmethod
    def parse(cls, raw: str | None) -> Cursor:
        """Parses a cursor; raises ValueError on anything that is not one, or that Redis could not take
        (a stream id's two parts are unsigned 64-bit numbers)."""
        if raw is None or raw.strip() in {"", "0"}:
            return cls()
        if len(raw) > 80:
            raise ValueError("cursor is too long")
        match = CURSOR_RE.fullmatch(raw.strip())
        if match is None:
            raise ValueError("cursor must look like '<stream id>.<n>.<n>'")
        ms, seq, reasoning, content = match.groups()
        if ms is not None and (int(ms) > STREAM_ID_PART_MAX or int(seq) > STREAM_ID_PART_MAX):
            raise ValueError("cursor's stream id is out of range")
        if int(reasoning) > CURSOR_OFFSET_MAX or int(content) > CURSOR_OFFSET_MAX:
            raise ValueError("cursor's text offsets are out of range")
        return cls(f"{ms}-{seq}" if ms is not None else "0", int(reasoning), int(content))

    @property
    def stream_position(self) -> tuple[int, int]:
        """The stream id as numbers, for comparing with Redis ids ("0" is before everything)."""
        return stream_id_position(self.stream_id)

    def advance(self, stream_id: str, event_type: str, data: dict[str, Any]) -> Cursor:
        reasoning, content = self.reasoning_chars, self.content_chars
        if event_type == EVENT_REASONING:
            reasoning += len(data.get("delta", ""))
        elif event_type == EVENT_CONTENT:
            content += len(data.get("delta", ""))
        return Cursor(stream_id, reasoning, content)
