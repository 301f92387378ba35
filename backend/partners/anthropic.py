"""The Anthropic Messages API at /anthropic/v1/ (as DeepSeek's platform offers it): the same keys, limits,
accounting and models as /v1/, answered in Anthropic's shapes so any Anthropic client can use Whale."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from turns import streams

from common.errors import ApplicationError, NotFound
from inference import protocol
from ratelimits.headers import anthropic_headers, rate_limit_headers
from ratelimits.selectors import Limits, limits_for_api_key
from ratelimits.services import LimitExceeded, request_admit
from ratelimits.store import Counters

from . import anthropic_format as wire
from . import relay
from .params import CompletionParams
from .services import StartedCompletion, completion_start

STREAM_HEADERS = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}


def _limit_headers(limits: Limits, counters: Counters) -> dict[str, str]:
    """The IETF fields and Anthropic's own anthropic-ratelimit-* headers."""
    return {**rate_limit_headers(limits, counters, openai=False), **anthropic_headers(limits, counters)}


def error_response(exc: ApplicationError) -> JsonResponse:
    status, body = wire.error_from_exception(exc)
    response = JsonResponse(body, status=status)
    headers = dict(exc.headers)
    if isinstance(exc, LimitExceeded):
        headers.update(anthropic_headers(exc.limits, exc.counters))
    for name, value in headers.items():
        response[name] = value
    return response


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    return error_response(NotFound(f"Unknown endpoint /anthropic/{path}.", code="unknown_url"))


def _model_object(name: str) -> dict[str, Any]:
    return {"type": "model", "id": name, "display_name": name, "created_at": "1970-01-01T00:00:00Z"}


def _models_admit(request: HttpRequest) -> tuple[Limits, Any]:
    key = relay.authenticate(request, anthropic=True)
    limits = limits_for_api_key(api_key=key)
    return limits, request_admit(limits=limits, openai=False)


@csrf_exempt
def models(request: HttpRequest, model_id: str | None = None) -> JsonResponse:
    """GET /anthropic/v1/models (and /models/<id>): the same models as /v1/models, in Anthropic's shape."""
    if request.method != "GET":
        refused = error_response(ApplicationError(f"{request.method} is not allowed here; use GET."))
        refused.status_code = 405
        refused["Allow"] = "GET"
        return refused
    try:
        limits, counters = _models_admit(request)
        names = relay.model_names()
        if model_id is not None and model_id not in names:
            raise NotFound(f"model: {model_id}", code="model_not_found")
    except ApplicationError as exc:
        return error_response(exc)
    if model_id is not None:
        response = JsonResponse(_model_object(model_id))
    else:
        body = {
            "data": [_model_object(name) for name in names],
            "has_more": False,
            "first_id": names[0] if names else None,
            "last_id": names[-1] if names else None,
        }
        response = JsonResponse(body)
    for name, value in _limit_headers(limits, counters).items():
        response[name] = value
    return response


def _admit(request: HttpRequest) -> tuple[CompletionParams, StartedCompletion]:
    key = relay.authenticate(request, anthropic=True)
    params = wire.parse_messages_request(relay.read_body(request))
    return params, completion_start(api_key=key, params=params)


class _Blocks:
    """Anthropic's content blocks from the turn's events: a thinking block, a text block, one tool_use
    block per call; each is started, filled with deltas, and stopped before the next one starts."""

    def __init__(self, turn_id: object) -> None:
        self.turn_id = turn_id
        self.index = -1
        self.open: str | None = None  # "thinking", "text" or "tool_use:<call index>"

    def _switch(self, kind: str, block: dict[str, Any]) -> list[str]:
        out = self.close()
        self.index += 1
        self.open = kind
        out.append(wire.sse("content_block_start", {"index": self.index, "content_block": block}))
        return out

    def close(self) -> list[str]:
        if self.open is None:
            return []
        out = []
        if self.open == "thinking":
            delta = {"type": "signature_delta", "signature": wire.signature(self.turn_id)}
            out.append(wire.sse("content_block_delta", {"index": self.index, "delta": delta}))
        out.append(wire.sse("content_block_stop", {"index": self.index}))
        self.open = None
        return out

    def thinking(self, text: str) -> list[str]:
        out = (
            []
            if self.open == "thinking"
            else self._switch("thinking", {"type": "thinking", "thinking": "", "signature": ""})
        )
        delta = {"type": "thinking_delta", "thinking": text}
        return [*out, wire.sse("content_block_delta", {"index": self.index, "delta": delta})]

    def text(self, text: str) -> list[str]:
        out = [] if self.open == "text" else self._switch("text", {"type": "text", "text": ""})
        return [
            *out,
            wire.sse("content_block_delta", {"index": self.index, "delta": {"type": "text_delta", "text": text}}),
        ]

    def tool_call(self, data: dict[str, Any]) -> list[str]:
        kind = f"tool_use:{int(data.get('index') or 0)}"
        out: list[str] = []
        if self.open != kind:
            block = {
                "type": "tool_use",
                "id": str(data.get("id") or ""),
                "name": str(data.get("name") or ""),
                "input": {},
            }
            out = self._switch(kind, block)
        delta = {"type": "input_json_delta", "partial_json": str(data.get("arguments_delta") or "")}
        return [*out, wire.sse("content_block_delta", {"index": self.index, "delta": delta})]


async def _stream(params: CompletionParams, started: StartedCompletion) -> AsyncIterator[str]:
    turn_id = started.completion.id
    message: dict[str, Any] = {
        "id": wire.message_id(turn_id),
        "type": "message",
        "role": "assistant",
        "model": params.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},  # the counts come with message_delta
    }
    blocks = _Blocks(turn_id)
    finished = False

    def frames(event: streams.TurnEvent | None) -> list[str]:
        nonlocal finished
        chunks: list[str] = []
        if event is None or event.type == protocol.EVENT_QUEUED:
            chunks = [wire.sse("ping", {})]
        elif event.type == protocol.EVENT_REASONING:
            chunks = blocks.thinking(event.data.get("delta", ""))
        elif event.type == protocol.EVENT_CONTENT:
            chunks = blocks.text(event.data.get("delta", ""))
        elif event.type == protocol.EVENT_TOOL_CALL:
            chunks = blocks.tool_call(event.data)
        elif event.type == protocol.EVENT_DONE:
            finished = True
            if blocks.index < 0:
                chunks = blocks.text("")  # an empty answer still has its (empty) text block
            chunks += blocks.close()
            delta = {"stop_reason": wire.stop_reason(event.data.get("finish_reason")), "stop_sequence": None}
            usage = wire.usage_object(event.data.get("usage") or {})
            chunks += [wire.sse("message_delta", {"delta": delta, "usage": usage}), wire.sse("message_stop", {})]
        elif event.type == protocol.EVENT_ERROR:
            finished = True
            exc = relay.EngineError(event.data)
            chunks = [wire.sse("error", wire.error_object(status=exc.status_code, message=exc.message))]
        return chunks

    try:
        yield wire.sse("message_start", {"message": message})
        async for chunk in relay.written_in_batches(turn_id, frames):
            yield chunk
    except streams.StreamUnavailable:
        yield wire.sse("error", wire.error_object(status=503, message="The service is briefly unavailable; try again."))
    finally:
        if not finished:
            await relay.cancel(turn_id)


@csrf_exempt
async def messages(request: HttpRequest) -> HttpResponseBase:
    if request.method != "POST":
        refused = error_response(ApplicationError(f"{request.method} is not allowed here; use POST."))
        refused.status_code = 405
        refused["Allow"] = "POST"
        return refused
    try:
        params, started = await relay.admit(lambda: _admit(request))
    except ApplicationError as exc:
        return error_response(exc)
    headers = _limit_headers(started.admitted.limits, started.admitted.counters)
    response: HttpResponseBase
    if params.stream:
        response = StreamingHttpResponse(
            _stream(params, started), content_type="text/event-stream; charset=utf-8", headers=STREAM_HEADERS
        )
    else:
        try:
            answer = await relay.collect(started.completion.id)
        except ApplicationError as exc:
            return error_response(exc)
        body = wire.message_body(turn_id=started.completion.id, model=params.model, answer=answer)
        response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name] = value
    return response
