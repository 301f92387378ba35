"""What both partner dialects (OpenAI's /v1/, Anthropic's /anthropic/v1/) share: the key in a header, the
admission, the turn's events from Redis, and a whole answer collected from them."""

from __future__ import annotations

import asyncio
import contextlib
import types
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from turns import streams
from turns.prepare_stream import EVENT_NOTICE, EVENT_SEARCH

from common.db import release_connection
from common.errors import ApplicationError, NotAuthenticated, RequestTooLarge, ServiceUnavailable
from inference import protocol
from inference.protocol import Cursor
from serving.registry import model_list

from .models import ApiKey
from .selectors import api_key_authenticate
from .services import StartedCompletion, completion_cancel

T = TypeVar("T")


def authenticate(request: HttpRequest, *, anthropic: bool = False) -> ApiKey:
    """`Authorization: Bearer sk-...`; Anthropic's clients send `x-api-key: sk-...` instead (either works there)."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if anthropic and request.headers.get("x-api-key"):
        scheme, secret = "bearer", request.headers["x-api-key"]
    elif not header:
        how = "`x-api-key: sk-...`" if anthropic else "`Authorization: Bearer sk-...`"
        raise NotAuthenticated(f"You didn't provide an API key. Send it as {how}.", code="missing_api_key")
    key = api_key_authenticate(secret=secret.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        raise NotAuthenticated("Incorrect, revoked or expired API key provided.", code="invalid_api_key")
    return key


def model_names() -> list[str]:
    """The models a partner may name: the enabled ones, then the aliases of enabled ones (DeepSeek's names)."""
    names = [spec.name for spec in model_list() if spec.enabled]
    aliases = settings.WHALE_PARTNER_MODEL_ALIASES.items()
    return names + [alias for alias, real in aliases if real in names and alias not in names]


def read_body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig as exc:
        raise RequestTooLarge(
            f"The request body is too large (at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024} KiB)."
        ) from exc


async def admit(fn: Callable[[], tuple[T, StartedCompletion]]) -> tuple[T, StartedCompletion]:
    """Runs the (database-bound) admission in a thread, and gives its connection back: a completion may
    stream for minutes. A partner who hangs up meanwhile cancels the view, but the thread goes on and
    queues the completion: once it has, stop it, or it would run for nobody."""

    def run() -> tuple[T, StartedCompletion]:
        try:
            return fn()
        finally:
            release_connection()

    start = asyncio.ensure_future(sync_to_async(run)())
    try:
        return await asyncio.shield(start)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            _request, started = await start
            await cancel(started.completion.id)
        raise


async def _no_saved_result() -> Any:
    """A completion's stream outlives any request waiting on it; if Redis lost it, say so once."""
    return types.SimpleNamespace(
        status="failed", reasoning_content="", content="", error_code="stream_lost", error="The answer was lost."
    )


def events(turn_id: uuid.UUID) -> AsyncIterator[streams.TurnEvent | None]:
    """The turn's events from the start; None is a keep-alive tick."""
    return streams.tail_events(
        turn_id=turn_id,
        cursor=Cursor(),
        load_final=_no_saved_result,
        keepalive_seconds=settings.WHALE_SSE_KEEPALIVE_SECONDS,
    )


async def written_in_batches(
    turn_id: uuid.UUID, frames: Callable[[streams.TurnEvent | None], list[str]]
) -> AsyncIterator[str]:
    """A streamed answer's body: `frames(event)` for each of the turn's events (None: a keep-alive tick), the
    frames of the events read together joined into one chunk, so the server writes once per batch, not once
    per event. Ends after the terminal event's frames."""
    batches = streams.tail_event_batches(
        turn_id=turn_id,
        cursor=Cursor(),
        load_final=_no_saved_result,
        keepalive_seconds=settings.WHALE_SSE_KEEPALIVE_SECONDS,
    )
    async with contextlib.aclosing(batches):
        async for batch in batches:
            chunk = "".join(frames(None) if batch is None else [part for event in batch for part in frames(event)])
            if chunk:
                yield chunk


async def cancel(turn_id: uuid.UUID) -> None:
    await database_sync_to_async(completion_cancel, thread_sensitive=False)(turn_id=turn_id)


class EngineError(ApplicationError):
    """The turn ended in an `error` event: a task the engine refused is the partner's 400, anything else 500."""

    def __init__(self, data: dict[str, Any]) -> None:
        code = str(data.get("code") or "turn_failed")
        super().__init__(str(data.get("message") or "The answer could not be generated."), code=code)
        self.status_code = 400 if code == "invalid_request" else 500


@dataclass
class Answer:
    reasoning: str = ""
    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = "stop"
    usage: dict[str, Any] = field(default_factory=dict)
    search_results: list[dict[str, Any]] | None = None  # with web search: the sources read, as cited
    notices: list[dict[str, Any]] = field(default_factory=list)  # search unavailable, a file read in part


def search_results(data: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A prepare step's `search` event as the partner sees it: the sources once read (None while searching),
    each `{index, title, url, site, snippet}` where `index` is the X of `[citation:X]` in the answer."""
    if data.get("phase") != "read":
        return None
    return [
        {
            "index": int(source.get("n") or 0),
            "title": str(source.get("title") or ""),
            "url": str(source.get("url") or ""),
            "site": str(source.get("site") or ""),
            "snippet": str(source.get("snippet") or ""),
        }
        for source in data.get("sources") or []
    ]


def tool_calls_of(done: dict[str, Any], calls: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """The answer's calls: the done event's list, else the ones assembled from tool_call deltas."""
    listed = done.get("tool_calls")
    if isinstance(listed, list) and listed:
        return listed
    return [calls[index] for index in sorted(calls)]


def add_tool_call_delta(calls: dict[int, dict[str, Any]], data: dict[str, Any]) -> None:
    index = int(data.get("index") or 0)
    call = calls.setdefault(index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
    call["id"] = call["id"] or str(data.get("id") or "")
    call["function"]["name"] = call["function"]["name"] or str(data.get("name") or "")
    call["function"]["arguments"] += str(data.get("arguments_delta") or "")


async def collect(turn_id: uuid.UUID) -> Answer:
    """Waits for the whole answer; raises EngineError or ServiceUnavailable. A request cancelled while it
    waits (the partner hung up) aborts the generation."""
    reasoning: list[str] = []
    content: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    found: list[dict[str, Any]] | None = None
    notices: list[dict[str, Any]] = []
    try:
        async for event in events(turn_id):
            if event is None:
                continue
            if event.type == EVENT_SEARCH:
                found = search_results(event.data) if found is None else found
            elif event.type == EVENT_NOTICE:
                notices.append(dict(event.data.get("notice") or {}))
            elif event.type == protocol.EVENT_REASONING:
                reasoning.append(event.data.get("delta", ""))
            elif event.type == protocol.EVENT_CONTENT:
                content.append(event.data.get("delta", ""))
            elif event.type == protocol.EVENT_TOOL_CALL:
                add_tool_call_delta(calls, event.data)
            elif event.type == protocol.EVENT_DONE:
                return Answer(
                    reasoning="".join(reasoning),
                    content="".join(content),
                    tool_calls=tool_calls_of(event.data, calls),
                    finish_reason=str(event.data.get("finish_reason") or "stop"),
                    usage=dict(event.data.get("usage") or {}),
                    search_results=found,
                    notices=notices,
                )
            elif event.type == protocol.EVENT_ERROR:
                raise EngineError(event.data)
    except asyncio.CancelledError:
        await cancel(turn_id)
        raise
    except streams.StreamUnavailable as exc:
        await cancel(turn_id)
        raise ServiceUnavailable("The service is briefly unavailable; try again.") from exc
    raise ServiceUnavailable("The answer was lost.", code="stream_lost")
