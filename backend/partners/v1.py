"""The partner API at /v1/: OpenAI- and DeepSeek-compatible models list, chat and (legacy) text completions.

Plain Django views (async where they wait on the GPU): each request is authenticated by an API
key, counted against the key's limits, queued on the same turn pipeline as the app, and answered
in OpenAI's wire format. A client that disconnects aborts its generation.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from turns import streams
from turns.prepare_stream import EVENT_NOTICE, EVENT_SEARCH

from common.errors import ApplicationError, NotFound
from inference import protocol
from ratelimits.headers import rate_limit_headers
from ratelimits.selectors import limits_for_api_key
from ratelimits.services import request_admit

from . import openai_format as wire
from . import openai_request, relay
from .openai_request import WireRequest
from .services import StartedCompletion, completion_start

logger = logging.getLogger(__name__)


STREAM_HEADERS = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}
WWW_AUTHENTICATE = 'Bearer realm="whale"'


def error_response(exc: ApplicationError) -> JsonResponse:
    status, body = wire.error_from_exception(exc)
    response = JsonResponse(body, status=status)
    for name, value in exc.headers.items():
        response[name] = value
    if status == 401:
        response["WWW-Authenticate"] = WWW_AUTHENTICATE
    return response


def method_not_allowed(request: HttpRequest, allowed: str) -> JsonResponse:
    response = error_response(
        ApplicationError(f"{request.method} is not allowed here; use {allowed}.", code="method_not_allowed")
    )
    response.status_code = 405
    response["Allow"] = allowed
    return response


# Every view here is authenticated by an API key in a header, never a cookie: no CSRF token to check
# (Django's check would answer an HTML 403 page to a POST from an SDK).
@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other path under /v1/, in OpenAI's error shape (an SDK pointed at a wrong path says why)."""
    return error_response(NotFound(f"Unknown endpoint /v1/{path}.", code="unknown_url"))


@csrf_exempt
def models_list(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return method_not_allowed(request, "GET")
    try:
        key = relay.authenticate(request)
        limits = limits_for_api_key(api_key=key)
        counters = request_admit(limits=limits, openai=True)
    except ApplicationError as exc:
        return error_response(exc)
    names = relay.model_names()
    body = {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": 0, "owned_by": "whale"} for name in names],
    }
    response = JsonResponse(body)
    for name, value in rate_limit_headers(limits, counters, openai=True).items():
        response[name] = value
    return response


def _admit(request: HttpRequest, parse: Callable[[bytes], WireRequest]) -> tuple[WireRequest, StartedCompletion]:
    key = relay.authenticate(request)
    wire_request = parse(relay.read_body(request))
    return wire_request, completion_start(api_key=key, params=wire_request.params)


def _engine_error(exc: relay.EngineError) -> str:
    return wire.sse_data(wire.error_object(status=exc.status_code, message=exc.message, code=exc.code))


async def _stream(chat: WireRequest, started: StartedCompletion) -> AsyncIterator[str]:
    turn_id = started.completion.id
    meta: dict[str, Any] = {"turn_id": turn_id, "model": chat.params.model, "created": wire.now_epoch()}
    tool_calls = wire.ToolCallDeltas()
    finished = False

    def frames(event: streams.TurnEvent | None) -> list[str]:
        nonlocal finished
        if event is None:
            return [": keep-alive\n\n"]
        if event.type == protocol.EVENT_QUEUED:
            return [f": queued, {int(event.data.get('position') or 0)} ahead\n\n"]
        if event.type == EVENT_SEARCH:
            # The sources, in a chunk of their own before any content (the research runs first).
            found = relay.search_results(event.data)
            return [] if found is None else [wire.chunk(**meta, delta={}, search_results=found)]
        if event.type == EVENT_NOTICE:
            return [wire.chunk(**meta, delta={}, notices=[event.data.get("notice") or {}])]
        if event.type == protocol.EVENT_REASONING:
            return [wire.chunk(**meta, delta={"reasoning_content": event.data.get("delta", "")})]
        if event.type == protocol.EVENT_CONTENT:
            return [wire.chunk(**meta, delta={"content": event.data.get("delta", "")})]
        if event.type == protocol.EVENT_TOOL_CALL:
            return [wire.chunk(**meta, delta=tool_calls.delta(event.data))]
        if event.type == protocol.EVENT_DONE:
            finished = True
            out = [wire.chunk(**meta, delta={}, finish_reason=wire.finish_reason(event.data.get("finish_reason")))]
            if chat.include_usage:
                out.append(wire.chunk(**meta, delta=None, usage=wire.usage_object(event.data.get("usage") or {})))
            return [*out, wire.STREAM_DONE]
        if event.type == protocol.EVENT_ERROR:
            finished = True
            return [_engine_error(relay.EngineError(event.data))]
        return []

    try:
        yield wire.chunk(**meta, delta={"role": "assistant", "content": ""})
        async for chunk in relay.written_in_batches(turn_id, frames):
            yield chunk
    except streams.StreamUnavailable:
        # Redis went away mid-answer; an OpenAI stream cannot be resumed, so say so rather than cut it.
        yield _service_unavailable()
    finally:
        if not finished:
            # The partner went away mid-answer (or the server is shutting down): spend no more compute on it.
            await relay.cancel(turn_id)


async def _stream_text(request: WireRequest, started: StartedCompletion) -> AsyncIterator[str]:
    """The legacy /v1/completions stream: text chunks, then one with the finish reason (and usage)."""
    turn_id = started.completion.id
    meta: dict[str, Any] = {"turn_id": turn_id, "model": request.params.model, "created": wire.now_epoch()}
    finished = False

    def frames(event: streams.TurnEvent | None) -> list[str]:
        nonlocal finished
        if event is None:
            return [": keep-alive\n\n"]
        if event.type == protocol.EVENT_CONTENT:
            return [wire.text_chunk(**meta, text=event.data.get("delta", ""))]
        if event.type == protocol.EVENT_DONE:
            finished = True
            out = [wire.text_chunk(**meta, text="", finish_reason=wire.finish_reason(event.data.get("finish_reason")))]
            if request.include_usage:
                out.append(wire.text_chunk(**meta, text=None, usage=wire.usage_object(event.data.get("usage") or {})))
            return [*out, wire.STREAM_DONE]
        if event.type == protocol.EVENT_ERROR:
            finished = True
            return [_engine_error(relay.EngineError(event.data))]
        return []

    try:
        async for chunk in relay.written_in_batches(turn_id, frames):
            yield chunk
    except streams.StreamUnavailable:
        yield _service_unavailable()
    finally:
        if not finished:
            await relay.cancel(turn_id)


def _service_unavailable() -> str:
    return wire.sse_data(
        wire.error_object(
            status=503, message="The service is briefly unavailable; try again.", code="service_unavailable"
        )
    )


async def _collect(request: WireRequest, started: StartedCompletion, *, legacy: bool) -> JsonResponse:
    turn_id = started.completion.id
    try:
        answer = await relay.collect(turn_id)
    except ApplicationError as exc:
        return error_response(exc)
    body = wire.completion_body(
        turn_id=turn_id, model=request.params.model, created=wire.now_epoch(), answer=answer, legacy=legacy
    )
    return JsonResponse(body)


async def _complete(request: HttpRequest, *, legacy: bool) -> HttpResponseBase:
    if request.method != "POST":
        return method_not_allowed(request, "POST")
    parse = openai_request.parse_completion_request if legacy else openai_request.parse_chat_request
    try:
        wire_request, started = await relay.admit(lambda: _admit(request, parse))
    except ApplicationError as exc:
        return error_response(exc)
    headers = started.admitted.headers(openai=True)
    if started.admitted.position:
        headers["x-whale-queue-position"] = str(started.admitted.position)
    response: HttpResponseBase
    if wire_request.params.stream:
        events = _stream_text(wire_request, started) if legacy else _stream(wire_request, started)
        response = StreamingHttpResponse(
            events, content_type="text/event-stream; charset=utf-8", headers=STREAM_HEADERS
        )
    else:
        response = await _collect(wire_request, started, legacy=legacy)
    for name, value in headers.items():
        response[name] = value
    return response


@csrf_exempt
async def chat_completions(request: HttpRequest) -> HttpResponseBase:
    return await _complete(request, legacy=False)


@csrf_exempt
async def completions(request: HttpRequest) -> HttpResponseBase:
    """The legacy text completion endpoint (prompt in, text out), which many tools still call."""
    return await _complete(request, legacy=True)
