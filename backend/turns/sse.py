"""Server-sent event endpoints: one turn's events (resumable) and the user's event stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from redis.exceptions import RedisError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.authentication import WhaleJWTAuthentication
from common import events, metrics
from common.db import release_connection
from common.errors import ValidationFailed
from common.schema import error_responses
from inference.protocol import Cursor

from . import streams
from .auth import QueryTokenAuthentication
from .selectors import turn_get
from .stores import turn_saved

logger = logging.getLogger(__name__)

SSE_HEADERS = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}


class EventStreamRenderer(BaseRenderer):
    """Lets clients send `Accept: text/event-stream`; errors before the stream starts are JSON."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        # Only errors are rendered here (a stream is a StreamingHttpResponse): say they are JSON, so clients
        # and the API's error middleware read them as the one error shape.
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode()


def sse_frame(event_id: str | None, event_type: str, data: dict[str, Any]) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event_type}\ndata: {orjson.dumps(data).decode()}\n\n"


def reconnect_hint() -> str:
    """The last thing an interrupted stream sends: when to come back (EventSource reconnects on its own)."""
    return f": the chat service is briefly unavailable; reconnect with Last-Event-ID\nretry: {streams.RECONNECT_AFTER_MS}\n\n"


async def load_final_message(turn_id: uuid.UUID | str) -> Any | None:
    """The ended turn as its store saved it (the app's answer), for a reader whose stream has expired."""
    return await database_sync_to_async(turn_saved)(turn_id)


async def turn_event_frames(turn_id: uuid.UUID, cursor: Cursor) -> AsyncIterator[str]:
    tracker = metrics.StreamTracker("sse")
    tracker.open()
    try:
        yield f"retry: {streams.RECONNECT_AFTER_MS}\n\n"
        batches = streams.tail_event_batches(
            turn_id=turn_id,
            cursor=cursor,
            load_final=lambda: load_final_message(turn_id),
            keepalive_seconds=settings.WHALE_SSE_KEEPALIVE_SECONDS,
        )
        async with contextlib.aclosing(batches):
            async for batch in batches:
                if batch is None:
                    yield ": keep-alive\n\n"
                else:  # the events read together go out as one chunk: one write, not one per event
                    yield "".join(sse_frame(event.id, event.type, event.data) for event in batch)
    except streams.StreamUnavailable as exc:
        # Redis went away mid-stream: end this response cleanly; the client reconnects with Last-Event-ID.
        logger.warning("turn %s: stream ended, Redis unavailable: %s", turn_id, exc)
        yield reconnect_hint()
    finally:
        tracker.close()


def seen_the_end(turn_id: uuid.UUID, cursor: Cursor) -> bool:
    """streams.cursor_past_end, leaving a Redis failure to the stream itself (tail_events handles those)."""
    try:
        return streams.cursor_past_end(turn_id, cursor)
    except RedisError:
        return False


STREAM_AUTH = [WhaleJWTAuthentication, QueryTokenAuthentication]
STREAM_RENDERERS = [JSONRenderer, EventStreamRenderer]
SSE_RESPONSE = OpenApiResponse(
    response=OpenApiTypes.STR,
    description="`text/event-stream`: frames with `id:` (the resume cursor), `event:` (the type) and `data:` (JSON).",
)


async def send_frames(created: dict[str, Any], turn_id: uuid.UUID) -> AsyncIterator[str]:
    """One request per turn: the send's own answer as a `turn` frame (no id: it is not a resume point), then
    every event of the turn from its start, exactly as GET /turns/{id}/events sends them."""
    yield sse_frame(None, "turn", created)
    async for frame in turn_event_frames(turn_id, Cursor.parse(None)):
        yield frame


def send_stream_response(created: dict[str, Any], turn_id: uuid.UUID, headers: dict[str, str]) -> StreamingHttpResponse:
    release_connection()
    return StreamingHttpResponse(
        send_frames(created, turn_id), content_type="text/event-stream", headers={**SSE_HEADERS, **headers}
    )


def wants_event_stream(request: Request) -> bool:
    """The client asked for `Accept: text/event-stream` (content negotiation picked EventStreamRenderer)."""
    renderer = getattr(request, "accepted_renderer", None)
    return renderer is not None and renderer.format == EventStreamRenderer.format


class TurnEventsView(APIView):
    authentication_classes = STREAM_AUTH
    permission_classes = [IsAuthenticated]
    renderer_classes = STREAM_RENDERERS

    @extend_schema(
        operation_id="turns_events",
        tags=["turns"],
        summary="A turn's events as server-sent events (resumable)",
        description=(
            "Event types: queued, started, reasoning, content, done, error (see docs/api.md). Send the last seen "
            "`id` as `Last-Event-ID` (or `?after=`) to continue after it: every later event arrives exactly once, "
            "also after the turn has finished; a cursor at or past the end of a finished turn gets `204`. A malformed "
            "cursor is `400 invalid_cursor`. Browsers' EventSource may pass the access token as `?token=`."
        ),
        parameters=[
            OpenApiParameter("after", str, description="Resume cursor (an event id)."),
            OpenApiParameter("token", str, description="Access token, for clients that cannot set headers."),
            OpenApiParameter("Last-Event-ID", str, location=OpenApiParameter.HEADER, required=False),
        ],
        responses={
            (200, "text/event-stream"): SSE_RESPONSE,
            204: OpenApiResponse(description="The cursor is at or past the end of a finished turn: nothing more."),
            **error_responses(400, 401, 404),
        },
    )
    def get(self, request: Request, turn_id: Any) -> HttpResponse | StreamingHttpResponse:
        turn = turn_get(user=request.user, turn_id=turn_id)  # type: ignore[arg-type]
        raw_cursor = request.headers.get("Last-Event-ID") or request.query_params.get("after")
        try:
            cursor = Cursor.parse(raw_cursor)
            at_the_end = seen_the_end(turn.id, cursor)
        except ValueError as exc:
            raise ValidationFailed(str(exc), code="invalid_cursor", fields={"after": [str(exc)]}) from exc
        release_connection()
        if at_the_end:
            # Nothing comes after the end. 204 also tells a browser's EventSource to stop reconnecting.
            return HttpResponse(status=204, headers={"Cache-Control": "no-store"})
        return StreamingHttpResponse(
            turn_event_frames(turn.id, cursor), content_type="text/event-stream", headers=SSE_HEADERS
        )


async def user_event_frames(user_id: object) -> AsyncIterator[str]:
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    group = events.user_group(user_id)
    try:
        await layer.group_add(group, channel)
    except RedisError as exc:
        logger.warning("user event stream refused, Redis unavailable: %s", exc)
        yield reconnect_hint()
        return
    tracker = metrics.StreamTracker("sse")
    tracker.open()
    try:
        yield f"retry: {streams.RECONNECT_AFTER_MS}\n\n"
        yield sse_frame(None, "ready", {})
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), settings.WHALE_SSE_KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            except RedisError as exc:
                logger.warning("user event stream ended, Redis unavailable: %s", exc)
                yield reconnect_hint()
                return
            event = message.get("event", {})
            yield sse_frame(None, str(event.get("type", "message")), event)
            if event.get("type") == events.ACCOUNT_SUSPENDED:
                return
    finally:
        tracker.close()
        with contextlib.suppress(RedisError):  # the group entry expires on its own
            await layer.group_discard(group, channel)


class UserEventsView(APIView):
    authentication_classes = STREAM_AUTH
    permission_classes = [IsAuthenticated]
    renderer_classes = STREAM_RENDERERS

    @extend_schema(
        operation_id="events_stream",
        tags=["turns"],
        summary="The user's event stream as server-sent events",
        description="conversation.created/updated/deleted, turn.queued/started/finished (see docs/api.md).",
        parameters=[OpenApiParameter("token", str, description="Access token, for clients that cannot set headers.")],
        responses={(200, "text/event-stream"): SSE_RESPONSE, **error_responses(401)},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        release_connection()
        return StreamingHttpResponse(
            user_event_frames(request.user.pk), content_type="text/event-stream", headers=SSE_HEADERS
        )
