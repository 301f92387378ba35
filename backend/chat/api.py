"""HTTP views for conversations, exports, share links and message feedback: parse, call, render."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from common.pagination import CursorPage
from common.schema import error_responses

from . import exports, selectors, services
from .models import Conversation
from .serializers import (
    ConversationCreateSerializer,
    ConversationDetailSerializer,
    ConversationExportSerializer,
    ConversationListQuerySerializer,
    ConversationSerializer,
    ConversationUpdateSerializer,
    ExportQuerySerializer,
    MessageSerializer,
    MessageUpdateSerializer,
    SharedConversationSerializer,
    ShareLinkSerializer,
)


def _user(request: Request) -> User:
    # IsAuthenticated has run, so this is a real account.
    return cast(User, request.user)


def _detail(conversation: Conversation) -> dict[str, Any]:
    thread = selectors.conversation_thread(conversation=conversation)
    context = {"messages": thread.messages, "sibling_ids": thread.sibling_ids}
    return dict(ConversationDetailSerializer(conversation, context=context).data)


class ConversationPage(CursorPage):
    ordering = ("-updated_at", "-id")


class ShareLinkPage(CursorPage):
    ordering = ("-created_at", "-id")


class ConversationListCreateApi(GenericAPIView):
    pagination_class = ConversationPage
    serializer_class = ConversationSerializer

    @extend_schema(
        operation_id="conversations_list",
        tags=["conversations"],
        summary="List my conversations, newest updated first",
        parameters=[ConversationListQuerySerializer],
        responses={200: ConversationSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        query = ConversationListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        conversations = selectors.conversation_list(
            user=_user(request),
            archived=bool(query.validated_data["archived"]),
            pinned=query.validated_data["pinned"],
            q=query.validated_data["q"],
        )
        page = self.paginate_queryset(conversations)
        return self.get_paginated_response(ConversationSerializer(page, many=True).data)

    @extend_schema(
        operation_id="conversations_create",
        tags=["conversations"],
        summary="Start a conversation",
        request=ConversationCreateSerializer,
        responses={201: ConversationDetailSerializer, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        body = ConversationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        conversation = services.conversation_create(user=_user(request), title=body.validated_data["title"])
        return Response(_detail(conversation), status=status.HTTP_201_CREATED)


class ConversationDetailApi(APIView):
    @extend_schema(
        operation_id="conversations_retrieve",
        tags=["conversations"],
        summary="A conversation with its current branch",
        responses={200: ConversationDetailSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        conversation = selectors.conversation_get(user=_user(request), conversation_id=conversation_id)
        return Response(_detail(conversation))

    @extend_schema(
        operation_id="conversations_update",
        tags=["conversations"],
        summary="Rename, pin, archive or switch branch",
        request=ConversationUpdateSerializer,
        responses={200: ConversationDetailSerializer, **error_responses(400, 401, 404)},
    )
    def patch(self, request: Request, conversation_id: str) -> Response:
        conversation = selectors.conversation_get(user=_user(request), conversation_id=conversation_id)
        body = ConversationUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        conversation = services.conversation_update(conversation=conversation, **body.validated_data)
        return Response(_detail(conversation))

    @extend_schema(
        operation_id="conversations_destroy",
        tags=["conversations"],
        summary="Delete a conversation and all its messages",
        responses={204: None, **error_responses(401, 404)},
    )
    def delete(self, request: Request, conversation_id: str) -> Response:
        conversation = selectors.conversation_get(user=_user(request), conversation_id=conversation_id)
        services.conversation_delete(conversation=conversation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class IgnoreFormatNegotiation(BaseContentNegotiation):
    """The export's `?format=` picks the file, not a DRF renderer; errors still render as JSON."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class ConversationExportApi(APIView):
    content_negotiation_class = IgnoreFormatNegotiation

    @extend_schema(
        operation_id="conversations_export",
        tags=["conversations"],
        summary="Download a conversation as Markdown (current branch) or JSON (every branch)",
        parameters=[ExportQuerySerializer],
        responses={
            (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, description="The current branch as Markdown."),
            (200, "application/json"): OpenApiResponse(
                ConversationExportSerializer, description="Every message of every branch."
            ),
            **error_responses(400, 401, 404),
        },
    )
    def get(self, request: Request, conversation_id: str) -> HttpResponse:
        conversation = selectors.conversation_get(user=_user(request), conversation_id=conversation_id)
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data["format"] == "json":
            content = exports.conversation_json_bytes(conversation=conversation)
            content_type, extension = "application/json", "json"
        else:
            content = exports.conversation_markdown(conversation=conversation).encode()
            content_type, extension = "text/markdown; charset=utf-8", "md"
        response = HttpResponse(content, content_type=content_type)
        filename = exports.export_filename(conversation=conversation, extension=extension)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ConversationShareApi(APIView):
    @extend_schema(
        operation_id="conversations_share",
        tags=["shares"],
        summary="Share a snapshot of the current branch as a public link",
        request=None,
        responses={201: ShareLinkSerializer, **error_responses(401, 404)},
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        user = _user(request)
        conversation = selectors.conversation_get(user=user, conversation_id=conversation_id)
        share_link = services.share_link_create(user=user, conversation=conversation)
        return Response(
            ShareLinkSerializer(share_link, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class ShareLinkListApi(GenericAPIView):
    pagination_class = ShareLinkPage
    serializer_class = ShareLinkSerializer

    @extend_schema(
        operation_id="shares_list",
        tags=["shares"],
        summary="My live share links, newest first",
        responses={200: ShareLinkSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.share_link_list(user=_user(request)))
        return self.get_paginated_response(ShareLinkSerializer(page, many=True, context={"request": request}).data)


class ShareLinkDetailApi(APIView):
    @extend_schema(
        operation_id="shares_destroy",
        tags=["shares"],
        summary="Revoke a share link; its public URL is a 404 from then on",
        responses={204: None, **error_responses(401, 404)},
    )
    def delete(self, request: Request, share_link_id: str) -> Response:
        share_link = selectors.share_link_get(user=_user(request), share_link_id=share_link_id)
        services.share_link_revoke(share_link=share_link)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SharedConversationApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="shared_retrieve",
        tags=["shares"],
        summary="The public snapshot behind a share link (no authentication)",
        auth=[],
        responses={200: SharedConversationSerializer, **error_responses(404)},
    )
    def get(self, request: Request, token: str) -> Response:
        share_link = selectors.share_link_get_public(token=token)
        return Response(SharedConversationSerializer(share_link).data)


class MessageDetailApi(APIView):
    @extend_schema(
        operation_id="messages_update",
        tags=["messages"],
        summary="Rate an assistant message",
        request=MessageUpdateSerializer,
        responses={200: MessageSerializer, **error_responses(400, 401, 404)},
    )
    def patch(self, request: Request, message_id: str) -> Response:
        message = selectors.message_get(user=_user(request), message_id=message_id)
        body = MessageUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        message = services.message_set_feedback(message=message, feedback=body.validated_data["feedback"])
        return Response(MessageSerializer(message).data)
