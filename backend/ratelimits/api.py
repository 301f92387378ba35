"""GET /api/v1/me/usage: today's usage and limits, so a client can show what is left before it runs out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from redis.exceptions import RedisError
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import ServiceUnavailable
from common.schema import error_responses

from . import store
from .headers import rate_limit_headers
from .selectors import limits_for_user, usage_totals


class LimitsSerializer(serializers.Serializer):
    requests_per_minute = serializers.IntegerField(allow_null=True)
    turns_per_day = serializers.IntegerField(allow_null=True)
    reasoning_turns_per_day = serializers.IntegerField(allow_null=True, help_text="DeepThink turns per day.")
    search_turns_per_day = serializers.IntegerField(allow_null=True, help_text="Turns with Search per day.")
    tokens_per_day = serializers.IntegerField(allow_null=True)
    concurrent_turns = serializers.IntegerField(allow_null=True)
    max_message_chars = serializers.IntegerField(allow_null=True)
    max_context_tokens = serializers.IntegerField(allow_null=True)


class UsageNowSerializer(serializers.Serializer):
    requests_this_minute = serializers.IntegerField()
    turns_today = serializers.IntegerField()
    reasoning_turns_today = serializers.IntegerField()
    tokens_today = serializers.IntegerField(help_text="Settled tokens plus those reserved by turns in flight.")
    in_flight = serializers.IntegerField()


class SettledSerializer(serializers.Serializer):
    turns = serializers.IntegerField()
    reasoning_turns = serializers.IntegerField()
    search_turns = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    reasoning_tokens = serializers.IntegerField()


class RemainingSerializer(serializers.Serializer):
    requests_this_minute = serializers.IntegerField(allow_null=True)
    turns_today = serializers.IntegerField(allow_null=True)
    reasoning_turns_today = serializers.IntegerField(allow_null=True)
    tokens_today = serializers.IntegerField(allow_null=True)
    in_flight = serializers.IntegerField(allow_null=True)


class UsageResponse(serializers.Serializer):
    tier = serializers.CharField()
    date = serializers.DateField(help_text="The UTC day the daily counters belong to.")
    resets_at = serializers.DateTimeField(help_text="When the daily counters start again (UTC midnight).")
    limits = LimitsSerializer(help_text="null means unlimited.")
    usage = UsageNowSerializer()
    remaining = RemainingSerializer(help_text="null means unlimited.")
    settled = SettledSerializer(help_text="Finished turns today, over the app and all API keys.")
    deepthink_fallback = serializers.BooleanField(
        help_text="When the DeepThink allowance is spent, answers come from the chat model instead of a 429."
    )


def _remaining(limit: int | None, used: int) -> int | None:
    return None if limit is None else max(0, limit - used)


class MeUsageView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_usage",
        tags=["limits"],
        responses={200: UsageResponse, **error_responses(401, 503)},
        summary="Today's usage and limits",
        description="The counters the limits are enforced on, the limits of the user's tier (with overrides), "
        "and what is left. The response also carries the `RateLimit-Policy` and `RateLimit` headers.",
    )
    def get(self, request: Request) -> Response:
        limits = limits_for_user(user=request.user)
        try:
            counters = store.read(limits.subject)
        except RedisError as exc:
            raise ServiceUnavailable("Usage is not available right now.") from exc
        today = timezone.now().date()
        usage = {
            "requests_this_minute": counters.requests_this_minute,
            "turns_today": counters.turns_today,
            "reasoning_turns_today": counters.reasoning_turns_today,
            "tokens_today": counters.tokens_today,
            "in_flight": counters.in_flight,
        }
        body: dict[str, Any] = {
            "tier": limits.tier,
            "date": today,
            "resets_at": dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
            "limits": limits.as_dict(),
            "usage": usage,
            "remaining": {
                "requests_this_minute": _remaining(limits.requests_per_minute, counters.requests_this_minute),
                "turns_today": _remaining(limits.turns_per_day, counters.turns_today),
                "reasoning_turns_today": _remaining(limits.reasoning_turns_per_day, counters.reasoning_turns_today),
                "tokens_today": _remaining(limits.tokens_per_day, counters.tokens_today),
                "in_flight": _remaining(limits.concurrent_turns, counters.in_flight),
            },
            "settled": usage_totals(user=request.user, date=today),
            "deepthink_fallback": settings.WHALE_DEEPTHINK_FALLBACK,
        }
        return Response(UsageResponse(body).data, headers=rate_limit_headers(limits, counters))
