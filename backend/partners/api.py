"""App API for partner keys (create, list, revoke, usage by day) and the usage export, under /api/v1/ with the app's JWT."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanChat
from common.errors import ValidationFailed
from common.schema import error_responses

from . import selectors, services
from .models import ApiKey

MAX_USAGE_DAYS = 90
DEFAULT_USAGE_DAYS = 30


class ApiKeySerializer(serializers.ModelSerializer):
    prefix = serializers.SerializerMethodField(help_text="The key's visible start, e.g. `sk-1a2b3c4d5e6f`.")
    tier = serializers.SerializerMethodField(help_text="The key's own tier, or null for the owner's.")
    status = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "tier",
            "status",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "end_user_requests_per_minute",
            "end_user_tokens_per_day",
        ]

    def get_prefix(self, key: ApiKey) -> str:
        return f"{selectors.SECRET_PREFIX}{key.prefix}"

    def get_tier(self, key: ApiKey) -> str | None:
        return key.tier.slug if key.tier_id and key.tier else None

    def get_status(self, key: ApiKey) -> str:
        if key.revoked_at:
            return "revoked"
        if key.expires_at and key.expires_at <= timezone.now():
            return "expired"
        return "active"


END_USER_LIMIT_MAX = 2**31 - 1


def _end_user_limit(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=END_USER_LIMIT_MAX, help_text=help_text
    )


class ApiKeyLimitsRequest(serializers.Serializer):
    end_user_requests_per_minute = _end_user_limit("Requests per minute for each end user (`user`); null: none.")
    end_user_tokens_per_day = _end_user_limit("Tokens per UTC day for each end user (`user`); null: none.")


class ApiKeyCreateRequest(ApiKeyLimitsRequest):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiKeyUpdateRequest(ApiKeyLimitsRequest):
    name = serializers.CharField(max_length=100, required=False)


class ApiKeyCreatedResponse(ApiKeySerializer):
    secret = serializers.SerializerMethodField(help_text="The whole key. Shown once: only its hash is stored.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "secret"]

    def get_secret(self, key: ApiKey) -> str:
        return str(self.context["secret"])


class ApiKeyList(serializers.Serializer):
    data = ApiKeySerializer(many=True)  # type: ignore[assignment]


class ApiKeysView(APIView):
    permission_classes = [IsAuthenticated, CanChat]

    @extend_schema(
        operation_id="api_keys_list",
        tags=["partner keys"],
        responses={200: ApiKeyList, **error_responses(401, 403)},
        summary="The user's API keys for the partner API (/v1/), newest first; secrets are never shown again",
    )
    def get(self, request: Request) -> Response:
        keys = selectors.api_key_list(user=request.user).select_related("tier")
        return Response({"data": ApiKeySerializer(keys, many=True).data})

    @extend_schema(
        operation_id="api_keys_create",
        tags=["partner keys"],
        request=ApiKeyCreateRequest,
        responses={201: ApiKeyCreatedResponse, **error_responses(400, 401, 403)},
        summary="Create an API key; the response holds its secret, shown this once",
    )
    def post(self, request: Request) -> Response:
        body = ApiKeyCreateRequest(data=request.data)
        body.is_valid(raise_exception=True)
        created = services.api_key_create(user=request.user, **body.validated_data)
        data = ApiKeyCreatedResponse(created.key, context={"secret": created.secret}).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class ApiKeyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="api_keys_update",
        tags=["partner keys"],
        request=ApiKeyUpdateRequest,
        responses={200: ApiKeySerializer, **error_responses(400, 401, 404)},
        summary="Rename an API key or set the limits for each of its end users (null lifts one)",
    )
    def patch(self, request: Request, key_id: Any) -> Response:
        body = ApiKeyUpdateRequest(data=request.data)
        body.is_valid(raise_exception=True)
        key = services.api_key_update(user=request.user, key_id=key_id, **body.validated_data)
        return Response(ApiKeySerializer(key).data)

    @extend_schema(
        operation_id="api_keys_revoke",
        tags=["partner keys"],
        request=None,
        responses={200: ApiKeySerializer, **error_responses(401, 404)},
        summary="Revoke an API key; it stops working at once",
    )
    def delete(self, request: Request, key_id: Any) -> Response:
        return Response(ApiKeySerializer(services.api_key_revoke(user=request.user, key_id=key_id)).data)


class UsageDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A UTC day.")
    requests = serializers.IntegerField(help_text="Completions that settled that day (done, cancelled or failed).")
    prompt_tokens = serializers.IntegerField()
    cached_tokens = serializers.IntegerField(help_text="Of the prompt tokens, those served from the prefix cache.")
    completion_tokens = serializers.IntegerField()
    reasoning_tokens = serializers.IntegerField(help_text="Of the completion tokens, those spent reasoning.")
    # DRF's metaclass moves declared fields out of the class, so this does not shadow Serializer.errors.
    errors = serializers.IntegerField(help_text="Completions that failed on our side.")  # type: ignore[assignment]


class ApiKeyUsage(serializers.Serializer):
    data = UsageDaySerializer(many=True, help_text="One entry per day, newest first; unused days are zeros.")  # type: ignore[assignment]


class ApiKeyUsageView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="api_keys_usage",
        tags=["partner keys"],
        parameters=[
            OpenApiParameter(
                "days",
                OpenApiTypes.INT,
                description=f"How many days back, today included: 1 to {MAX_USAGE_DAYS} (default {DEFAULT_USAGE_DAYS}).",
            )
        ],
        responses={200: ApiKeyUsage, **error_responses(400, 401, 404)},
        summary="One API key's usage per UTC day: requests; prompt, cached, completion and reasoning tokens; errors",
    )
    def get(self, request: Request, key_id: Any) -> Response:
        days = _days(request)
        key = selectors.api_key_get(user=request.user, key_id=key_id)
        rows = selectors.api_key_usage_by_day(key=key, days=days)
        return Response({"data": UsageDaySerializer(rows, many=True).data})


def _days(request: Request) -> int:
    raw = request.query_params.get("days")
    if raw is None or raw == "":
        return DEFAULT_USAGE_DAYS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_USAGE_DAYS:
        raise ValidationFailed(fields={"days": [f"A whole number from 1 to {MAX_USAGE_DAYS}."]})
    return int(raw)


def _date(request: Request, name: str, default: dt.date) -> dt.date:
    raw = request.query_params.get(name)
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise serializers.ValidationError({name: ["Use YYYY-MM-DD."]}) from exc


class UsageExportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="usage_export",
        tags=["partner keys"],
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATE, description="First day (default: 30 days ago)."),
            OpenApiParameter("until", OpenApiTypes.DATE, description="Last day (default: today)."),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="One row per day and source (`app`, or `api_key` with its prefix and name): "
                + ", ".join(services.USAGE_CSV_COLUMNS),
            ),
            **error_responses(400, 401),
        },
        summary="Usage per day, for the app and each API key, as CSV",
    )
    def get(self, request: Request) -> HttpResponse:
        today = timezone.now().date()
        since = _date(request, "since", today - dt.timedelta(days=30))
        until = _date(request, "until", today)
        text = services.usage_csv(user=request.user, since=since, until=until)
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="whale-usage-{since}-{until}.csv"'
        return response
