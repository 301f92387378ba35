"""Prometheus metrics of the backend, and the protected /metrics view that serves them.

Counters and histograms are updated where things happen (HTTP middleware, turn settlement, stream
open/close, limiters); queue depth, turns in flight and worker status are read from Redis and the
database at scrape time. With PROMETHEUS_MULTIPROC_DIR set (one directory shared by the ASGI server
and the backend's Celery worker on a host), /metrics adds up every process's counters.
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from common.errors import error_body
from common.middleware import SyncAndAsyncMiddleware

REJECTIONS_KEEP_DAYS = 100
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
FIRST_TOKEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)
TOKENS_PER_SECOND_BUCKETS = (1, 5, 10, 20, 40, 80, 160, 320, 640, 1280)

HTTP_REQUEST_SECONDS = Histogram(
    "whale_http_request_duration_seconds",
    "Time to the response headers, by route pattern, method and status code.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
TURNS = Counter("whale_turns_total", "Turns settled, by model and final status.", ["model", "status"])
TURN_FIRST_TOKEN_SECONDS = Histogram(
    "whale_turn_first_token_seconds",
    "From queueing a turn to its first token (queue wait plus prefill).",
    ["model"],
    buckets=FIRST_TOKEN_BUCKETS,
)
TURN_TOKENS_PER_SECOND = Histogram(
    "whale_turn_tokens_per_second",
    "Completion tokens per second of a finished turn, after its first token.",
    ["model"],
    buckets=TOKENS_PER_SECOND_BUCKETS,
)
OPEN_STREAMS = Gauge(
    "whale_open_streams", "Open streaming connections, by kind (sse, websocket).", ["kind"], multiprocess_mode="livesum"
)
RATE_LIMIT_REJECTIONS = Counter(
    "whale_rate_limit_rejections_total", "Requests refused by a rate limit, by limit name.", ["limit"]
)
BUSY_REJECTIONS = Counter(
    "whale_busy_rejections_total", "Turns refused because the model's queue was full, by model.", ["model"]
)


def rate_limit_rejected(*, limit: str) -> None:
    """Counts one request refused by `limit` (e.g. "requests_per_minute"); limiters call this."""
    RATE_LIMIT_REJECTIONS.labels(limit=limit).inc()


def busy_rejected(*, model: str) -> None:
    """Counts one turn refused with "server busy" because `model`'s queue was full."""
    BUSY_REJECTIONS.labels(model=model).inc()


def _rejections_key(day: date) -> str:
    return f"{settings.WHALE_REDIS_PREFIX}:ops:rejections:{day.isoformat()}"


def rejection_observed(*, status: int, code: str, extra: dict[str, Any]) -> None:
    """Counts a refused request (429 from a limit, 503 server_busy) in the metrics and in a per-day Redis hash
    that the admin dashboard charts (kept REJECTIONS_KEEP_DAYS)."""
    if status == 429:
        field = f"rate_limit:{extra.get('limit') or code}"
        rate_limit_rejected(limit=str(extra.get("limit") or code))
    elif code == "server_busy":
        model = str(extra.get("model") or "unknown")
        field = f"busy:{model}"
        busy_rejected(model=model)
    else:
        return
    from .redis import get_redis

    key = _rejections_key(timezone.now().date())
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.hincrby(key, field, 1)
        pipe.expire(key, REJECTIONS_KEEP_DAYS * 86400)
        pipe.execute()
    except RedisError:
        pass  # a lost count must never turn a 429 into a 500


def rejections_by_day(*, since: date, until: date) -> dict[date, dict[str, int]]:
    """Per day: {"rate_limit:<limit>": n, "busy:<model>": n} as rejection_observed counted them."""
    from .redis import get_redis

    days = [since + timedelta(days=n) for n in range((until - since).days + 1)]
    pipe = get_redis().pipeline(transaction=False)
    for day in days:
        pipe.hgetall(_rejections_key(day))
    try:
        found = pipe.execute()
    except RedisError:
        found = [{} for _ in days]
    return {day: {str(k): int(v) for k, v in (counts or {}).items()} for day, counts in zip(days, found, strict=True)}


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def turn_settled(
    *,
    model: str,
    status: str,
    queued_at: datetime | None,
    first_token_at: datetime | None,
    finished_at: datetime | None,
    completion_tokens: int,
) -> None:
    """Records a settled turn: its status, first-token latency and generation speed."""
    label = model or "unknown"
    TURNS.labels(model=label, status=status).inc()
    first_token = _seconds(queued_at, first_token_at)
    if first_token is not None:
        TURN_FIRST_TOKEN_SECONDS.labels(model=label).observe(first_token)
    generating = _seconds(first_token_at, finished_at)
    if generating and completion_tokens > 1:
        TURN_TOKENS_PER_SECOND.labels(model=label).observe((completion_tokens - 1) / generating)


class StreamTracker:
    """Counts one open stream for as long as it lives (`with`, or open()/close() once each)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._open = False

    def open(self) -> None:
        if not self._open:
            self._open = True
            OPEN_STREAMS.labels(kind=self.kind).inc()

    def close(self) -> None:
        if self._open:
            self._open = False
            OPEN_STREAMS.labels(kind=self.kind).dec()


# Values read at scrape time (queue depth, turns in flight, live workers) belong to the apps that own
# them: each registers its collector here when it starts (turns.apps), so common reads no app's data.
_state_collectors: dict[str, Collector] = {}


def state_collector_register(name: str, collector: Collector) -> None:
    """Adds a scrape-time collector to /metrics; registering a name again replaces the earlier one."""
    _state_collectors[name] = collector


def render() -> bytes:
    """The exposition text: this process's (or every process's) metrics, then the scrape-time state."""
    state = CollectorRegistry(auto_describe=False)
    for collector in _state_collectors.values():
        state.register(collector)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(processes)
        return generate_latest(processes) + generate_latest(state)
    return generate_latest(REGISTRY) + generate_latest(state)


def _authorised(request: HttpRequest) -> bool:
    token = settings.WHALE_METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and constant_time_compare(given.strip(), token):
            return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: for Prometheus with `Authorization: Bearer $WHALE_METRICS_TOKEN`, or a staff session."""
    if not _authorised(request):
        return JsonResponse(
            error_body("not_authenticated", "Metrics need the metrics bearer token or a staff session."), status=401
        )
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + str(match.route or match.view_name or "unknown")


class MetricsMiddleware(SyncAndAsyncMiddleware):
    """Times every request to its response headers, labelled by URL pattern (never the raw path)."""

    def _call(self, request: HttpRequest) -> Any:
        start = time.perf_counter()
        response = self.get_response(request)
        self._observe(request, response, start)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = await self.get_response(request)  # type: ignore[misc]
        self._observe(request, response, start)
        return response  # type: ignore[no-any-return]

    @staticmethod
    def _observe(request: HttpRequest, response: HttpResponse, start: float) -> None:
        HTTP_REQUEST_SECONDS.labels(
            route=_route(request), method=request.method or "", status=str(response.status_code)
        ).observe(time.perf_counter() - start)
