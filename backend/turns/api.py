"""HTTP endpoints for turns: list models, send a message, regenerate, cancel."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from files.kinds import KINDS, limit_for_kind
from research.providers import search_capabilities
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanChat
from chat.serializers import ConversationSerializer, MessageSerializer
from common.schema import error_responses
from serving.workers import model_infos

from . import preparing, serializers, services, sse


def _created_body(request: Request, created: services.TurnCreated) -> dict[str, Any]:
    return created_body(created, secure=request.is_secure(), host=request.get_host())


def created_body(created: services.TurnCreated, *, secure: bool, host: str, first: bool = False) -> dict[str, Any]:
    """The send answer's body (also the `turn` frame of a streamed send and the socket's `sent` reply);
    a new chat's `first` message also carries its `conversation`."""
    body = _turn_body(created, secure=secure, host=host)
    if first:
        created.conversation.is_generating = True  # type: ignore[attr-defined]  # its answer is queued
        body["conversation"] = ConversationSerializer(created.conversation).data
    return body


def _turn_body(created: services.TurnCreated, *, secure: bool, host: str) -> dict[str, Any]:
    turn_id = created.assistant_message.id
    ws_scheme = "wss" if secure else "ws"
    context = {"sibling_ids": created.sibling_ids}
    return {
        "conversation_id": created.conversation.id,
        "user_message": MessageSerializer(created.user_message, context=context).data if created.user_message else None,
        "assistant_message": MessageSerializer(created.assistant_message, context=context).data,
        "queue_position": created.queue_position,
        "fallback": created.admitted.fallback if created.admitted else None,
        "stream": {
            "events_url": f"/api/v1/turns/{turn_id}/events",
            "websocket_url": f"{ws_scheme}://{host}/ws/turns/{turn_id}/",
        },
    }


def _options(request: Request, data: dict[str, Any]) -> preparing.TurnOptions:
    """The send's Search and files, refused (400, 404, 409) before anything is written."""
    return preparing.turn_options_check(user=request.user, search=data.get("search"), file_ids=data.get("file_ids", []))


def file_capabilities() -> dict[str, Any]:
    return {
        "max_per_message": settings.WHALE_FILES_PER_MESSAGE,
        "kinds": {kind: limit_for_kind(kind) for kind in KINDS},
    }


def _limit_headers(created: services.TurnCreated) -> dict[str, str]:
    return created.admitted.headers() if created.admitted else {}


def _answer(request: Request, created: services.TurnCreated, body: dict[str, Any]) -> Response | StreamingHttpResponse:
    """202 with the body; or, for `Accept: text/event-stream`, the turn's whole stream in this one response."""
    if sse.wants_event_stream(request):
        return sse.send_stream_response(body, created.assistant_message.id, _limit_headers(created))
    return Response(body, status=status.HTTP_202_ACCEPTED, headers=_limit_headers(created))


ONE_REQUEST = (
    " With `Accept: text/event-stream` the answer is `200` and the turn's events follow in the same response: "
    "first a `turn` event whose data is the 202 body, then every event of GET /turns/{id}/events (resume there "
    "with the last `id`). Refusals before the stream are the usual JSON errors."
)
SEND_STREAM = {(200, "text/event-stream"): sse.SSE_RESPONSE}


class ModelListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="models_list",
        tags=["turns"],
        responses={200: serializers.ModelList, **error_responses(401)},
        summary="Models a client may pick",
    )
    def get(self, request: Request) -> Response:
        capabilities = {**search_capabilities(), "files": file_capabilities()}
        return Response({"object": "list", "data": model_infos(), "capabilities": capabilities})


class SendMessageView(APIView):
    permission_classes = [IsAuthenticated, CanChat]
    renderer_classes = sse.STREAM_RENDERERS

    @extend_schema(
        operation_id="conversations_messages_create",
        tags=["turns"],
        request=serializers.SendMessageRequest,
        responses={
            202: serializers.TurnCreatedResponse,
            **SEND_STREAM,
            **error_responses(400, 401, 403, 404, 409, 429, 503),
        },
        summary="Send a message and queue its answer",
        description=(
            "Saves the question and a queued answer, and queues the answer's generation. Omit `parent_id` to "
            "continue the branch on screen; give an assistant message's id to branch from there (an edited "
            "question), or null for a new first question." + ONE_REQUEST
        ),
    )
    def post(self, request: Request, conversation_id: Any) -> Response | StreamingHttpResponse:
        body = serializers.SendMessageRequest(data=request.data)
        body.is_valid(raise_exception=True)
        kwargs: dict[str, Any] = {}
        if "parent_id" in body.validated_data:
            kwargs["parent_id"] = body.validated_data["parent_id"]
        with preparing.turn_options(_options(request, body.validated_data)):
            created = services.turn_send(
                user=request.user,  # type: ignore[arg-type]
                conversation_id=conversation_id,
                content=body.validated_data["content"],
                deepthink=body.validated_data["deepthink"],
                **kwargs,
            )
        return _answer(request, created, _created_body(request, created))


class FirstMessageView(APIView):
    permission_classes = [IsAuthenticated, CanChat]
    renderer_classes = sse.STREAM_RENDERERS

    @extend_schema(
        operation_id="messages_create_first",
        tags=["turns"],
        request=serializers.FirstMessageRequest,
        responses={
            202: serializers.FirstMessageResponse,
            **SEND_STREAM,
            **error_responses(400, 401, 403, 404, 409, 429, 503),
        },
        summary="Start a conversation with its first message and queue the answer",
        description=(
            "Creates the conversation together with its first message, or nothing at all: a refused message "
            "(too long, a limit, a full queue, a suspended account) leaves no empty conversation behind. "
            "Answers as sending a message does, plus the new `conversation`." + ONE_REQUEST
        ),
    )
    def post(self, request: Request) -> Response | StreamingHttpResponse:
        body = serializers.FirstMessageRequest(data=request.data)
        body.is_valid(raise_exception=True)
        with preparing.turn_options(_options(request, body.validated_data)):
            created = services.turn_send_first(
                user=request.user,  # type: ignore[arg-type]
                content=body.validated_data["content"],
                deepthink=body.validated_data["deepthink"],
            )
        answer = created_body(created, secure=request.is_secure(), host=request.get_host(), first=True)
        return _answer(request, created, answer)


class RegenerateView(APIView):
    permission_classes = [IsAuthenticated, CanChat]
    renderer_classes = sse.STREAM_RENDERERS

    @extend_schema(
        operation_id="messages_regenerate",
        tags=["turns"],
        request=serializers.RegenerateRequest,
        responses={
            202: serializers.TurnCreatedResponse,
            **SEND_STREAM,
            **error_responses(400, 401, 403, 404, 409, 429, 503),
        },
        summary="Generate another answer to the same question (a sibling branch)",
        description="Answers as sending a message does." + ONE_REQUEST,
    )
    def post(self, request: Request, message_id: Any) -> Response | StreamingHttpResponse:
        body = serializers.RegenerateRequest(data=request.data)
        body.is_valid(raise_exception=True)
        options = _options(request, {"search": body.validated_data.get("search")})
        with preparing.turn_options(replace(options, regenerate=True)):
            created = services.turn_regenerate(
                user=request.user,  # type: ignore[arg-type]
                message_id=message_id,
                deepthink=body.validated_data.get("deepthink"),
            )
        return _answer(request, created, _created_body(request, created))


class CancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="turns_cancel",
        tags=["turns"],
        request=None,
        responses={202: serializers.CancelResponse, **error_responses(401, 404, 503)},
        summary="Stop generating an answer (its partial text is kept)",
    )
    def post(self, request: Request, turn_id: Any) -> Response:
        turn = services.turn_cancel(user=request.user, turn_id=turn_id)  # type: ignore[arg-type]
        return Response({"turn": MessageSerializer(turn).data}, status=status.HTTP_202_ACCEPTED)
