"""HTTP endpoints of turns: the models a client may pick (the app's sends are chat's, chat/send_api.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from files.kinds import KINDS, limit_for_kind
from research.providers import search_capabilities
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.schema import error_responses
from serving.workers import model_infos

from . import serializers


def file_capabilities() -> dict[str, Any]:
    return {
        "max_per_message": settings.WHALE_FILES_PER_MESSAGE,
        "kinds": {kind: limit_for_kind(kind) for kind in KINDS},
    }


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
