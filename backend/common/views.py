"""Process health (/healthz), readiness (/readyz) and JSON fallbacks for 404 and 500."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .db import database_ping
from .exceptions import error_body
from .redis import get_redis

# The probes' own threads: a check stuck on a dead server cannot hold a request past the budget, and a
# few stuck ones cannot pile up (a probe that finds the pool busy waits its turn and times out).
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="whale-readyz")


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _redis_ping(timeout: float) -> None:
    get_redis().ping()


def readyz(request: HttpRequest) -> JsonResponse:
    """The database and Redis, checked at once, each within WHALE_READY_TIMEOUT_SECONDS; 503 names what failed."""
    budget = settings.WHALE_READY_TIMEOUT_SECONDS
    running: dict[str, Future[None]] = {
        "database": _checks.submit(database_ping, timeout=budget),
        "redis": _checks.submit(_redis_ping, budget),
    }
    wait(running.values(), timeout=budget)
    checks: dict[str, str] = {}
    for name, future in running.items():
        if not future.done():
            future.cancel()
            checks[name] = f"error: no answer within {budget:g} s"
        elif future.exception() is not None:
            checks[name] = f"error: {type(future.exception()).__name__}"
        else:
            checks[name] = "ok"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "Not found."), status=404)


@csrf_exempt  # answers the same 404 to any method: there is nothing to protect
def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return not_found(request, exception)


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return JsonResponse(error_body("server_error", "Something went wrong on our side. Please try again."), status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("bad_request", "The request could not be understood."), status=400)


__all__ = ["api_not_found", "bad_request", "healthz", "not_found", "readyz", "server_error", "settings"]
