"""The partner API at /v1/: OpenAI- and DeepSeek-compatible models list and chat completions.

Plain Django views (async where they wait on the GPU): each request is authenticated by an API
key, counted against the key's limits, queued on the same turn pipeline as the app, and answered
in OpenAI's wire format. A client that disconnects aborts its generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import types
import uuid
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from turns import streams
from turns.registry import model_list

from common.db import release_connection
from common.errors import ApplicationError, NotAuthenticated, NotFound, RequestTooLarge, ServiceUnavailable
from inference import protocol
from inference.protocol import Cursor
from ratelimits.headers import rate_limit_headers
from ratelimits.selectors import limits_for_api_key
from ratelimits.services import request_admit

from . import openai_format as wire
from .models import ApiKey
from .selectors import api_key_authenticate
from .services import StartedCompletion, completion_abort, completion_start

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


def _authenticate(request: HttpRequest) -> ApiKey:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if not header:
        raise NotAuthenticated(
            "You didn't provide an API key. Send it as `Authorization: Bearer sk-...`.", code="missing_api_key"
        )
    key = api_key_authenticate(secret=secret.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        raise NotAuthenticated("Incorrect, revoked or expired API key provided.", code="invalid_api_key")
    return key


def _method_not_allowed(request: HttpRequest, allowed: str) -> JsonResponse:
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
        return _method_not_allowed(request, "GET")
    try:
        key = _authenticate(request)
        limits = limits_for_api_key(api_key=key)
        counters = request_admit(limits=limits, openai=True)
    except ApplicationError as exc:
        return error_response(exc)
    names = [spec.name for spec in model_list() if spec.enabled]
    aliases = settings.WHALE_PARTNER_MODEL_ALIASES.items()
    names += [alias for alias, real in aliases if real in names and alias not in names]
    body = {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": 0, "owned_by": "whale"} for name in names],
    }
    response = JsonResponse(body)
    for name, value in rate_limit_headers(limits, counters, openai=True).items():
        response[name] = value
    return response


def _start(request: HttpRequest) -> tuple[wire.ChatRequest, StartedCompletion]:
    try:
        return _admit(request)
    finally:
        release_connection()  # a completion may stream for minutes


def _admit(request: HttpRequest) -> tuple[wire.ChatRequest, StartedCompletion]:
    key = _authenticate(request)
    try:
        raw = request.body
    except RequestDataTooBig as exc:
        raise RequestTooLarge(
            f"The request body is too large (at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024} KiB)."
        ) from exc
    chat = wire.parse_chat_request(raw)
    started = completion_start(
        api_key=key,
        model=chat.model,
        messages=chat.messages,
        stream=chat.stream,
        max_tokens=chat.max_tokens,
        temperature=chat.temperature,
        top_p=chat.top_p,
    )
    return chat, started


async def _start_shielded(request: HttpRequest) -> tuple[wire.ChatRequest, StartedCompletion]:
    """Admits and queues the completion. A partner who hangs up meanwhile cancels this view, but the
    thread doing the work goes on and queues it: once it has, stop it, or it would run for nobody."""
    start = asyncio.ensure_future(sync_to_async(_start)(request))
    try:
        return await asyncio.shield(start)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            _chat, started = await start
            await _abort(started.completion.id)
        raise


async def _no_saved_result() -> Any:
    """A completion's stream outlives any request waiting on it; if Redis lost it, say so once."""
    return types.SimpleNamespace(
        status="failed", reasoning_content="", content="", error_code="stream_lost", error="The answer was lost."
    )


def _events(turn_id: uuid.UUID) -> AsyncIterator[streams.TurnEvent | None]:
    return streams.tail_events(
        turn_id=turn_id,
        cursor=Cursor(),
        load_final=_no_saved_result,
        keepalive_seconds=settings.WHALE_SSE_KEEPALIVE_SECONDS,
    )


async def _abort(turn_id: uuid.UUID) -> None:
    await database_sync_to_async(completion_abort, thread_sensitive=False)(turn_id=turn_id)


async def _stream(chat: wire.ChatRequest, started: StartedCompletion) -> AsyncIterator[str]:
    turn_id = started.completion.id
    meta: dict[str, Any] = {"turn_id": turn_id, "model": chat.model, "created": wire.now_epoch()}
    finished = False
    try:
        yield wire.chunk(**meta, delta={"role": "assistant", "content": ""})
        async for event in _events(turn_id):
            if event is None:
                yield ": keep-alive\n\n"
            elif event.type == protocol.EVENT_QUEUED:
                yield f": queued, {int(event.data.get('position') or 0)} ahead\n\n"
            elif event.type == protocol.EVENT_REASONING:
                yield wire.chunk(**meta, delta={"reasoning_content": event.data.get("delta", "")})
            elif event.type == protocol.EVENT_CONTENT:
                yield wire.chunk(**meta, delta={"content": event.data.get("delta", "")})
            elif event.type == protocol.EVENT_DONE:
                finished = True
                yield wire.chunk(**meta, delta={}, finish_reason=wire.finish_reason(event.data.get("finish_reason")))
                if chat.include_usage:
                    yield wire.chunk(**meta, delta=None, usage=wire.usage_object(event.data.get("usage") or {}))
                yield wire.STREAM_DONE
            elif event.type == protocol.EVENT_ERROR:
                finished = True
                yield wire.sse_data(
                    wire.error_object(
                        status=500,
                        message=str(event.data.get("message") or "The answer could not be generated."),
                        code=str(event.data.get("code") or "turn_failed"),
                    )
                )
    except streams.StreamUnavailable:
        # Redis went away mid-answer; an OpenAI stream cannot be resumed, so say so rather than cut it.
        yield wire.sse_data(
            wire.error_object(
                status=503, message="The service is briefly unavailable; try again.", code="service_unavailable"
            )
        )
    finally:
        if not finished:
            # The partner went away mid-answer (or the server is shutting down): spend no more compute on it.
            await _abort(turn_id)


async def _collect(chat: wire.ChatRequest, started: StartedCompletion) -> JsonResponse:
    turn_id = started.completion.id
    reasoning: list[str] = []
    content: list[str] = []
    try:
        async for event in _events(turn_id):
            if event is None or event.type in (protocol.EVENT_QUEUED, protocol.EVENT_STARTED):
                continue
            if event.type == protocol.EVENT_REASONING:
                reasoning.append(event.data.get("delta", ""))
            elif event.type == protocol.EVENT_CONTENT:
                content.append(event.data.get("delta", ""))
            elif event.type == protocol.EVENT_DONE:
                body = wire.completion_body(
                    turn_id=turn_id,
                    model=chat.model,
                    created=wire.now_epoch(),
                    content="".join(content),
                    reasoning="".join(reasoning),
                    done=event.data,
                )
                return JsonResponse(body)
            elif event.type == protocol.EVENT_ERROR:
                code = str(event.data.get("code") or "turn_failed")
                message = str(event.data.get("message") or "The answer could not be generated.")
                return JsonResponse(wire.error_object(status=500, message=message, code=code), status=500)
    except asyncio.CancelledError:
        await _abort(turn_id)
        raise
    except streams.StreamUnavailable:
        await _abort(turn_id)
        return error_response(ServiceUnavailable("The service is briefly unavailable; try again."))
    return error_response(ServiceUnavailable("The answer was lost.", code="stream_lost"))


@csrf_exempt
async def chat_completions(request: HttpRequest) -> HttpResponseBase:
    if request.method != "POST":
        return _method_not_allowed(request, "POST")
    try:
        chat, started = await _start_shielded(request)
    except ApplicationError as exc:
        return error_response(exc)
    headers = started.admitted.headers(openai=True)
    if started.admitted.position:
        headers["x-whale-queue-position"] = str(started.admitted.position)
    response: HttpResponseBase
    if chat.stream:
        response = StreamingHttpResponse(
            _stream(chat, started), content_type="text/event-stream; charset=utf-8", headers=STREAM_HEADERS
        )
    else:
        response = await _collect(chat, started)
    for name, value in headers.items():
        response[name] = value
    return response
