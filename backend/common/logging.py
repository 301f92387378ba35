"""Structured logs: the JSON formatter, the request-id middleware, and the ids carried through Celery tasks.

Every HTTP request gets an id (the client's `X-Request-ID` when it is a sane token, else a new
one), echoed in the response header and present on every log line logged while it runs. A turn
queued by the request carries that id and its turn id to the GPU worker (in the TurnTask payload)
and back (in the Celery headers of the worker's `whale.finalize_turn`), so one search by either
id finds the turn's whole path.
"""

from __future__ import annotations

import uuid
from typing import Any

from celery.signals import task_postrun, task_prerun
from django.http import HttpRequest, HttpResponse

from common.middleware import SyncAndAsyncMiddleware
from inference.logs import (
    REQUEST_ID_HEADER,
    TURN_ID_HEADER,
    JsonFormatter,
    clean_id,
    current_headers,
    current_ids,
    log_context,
    request_id_var,
    turn_id_var,
)

RESPONSE_HEADER = "X-Request-ID"
# Backend tasks whose first argument is a turn id.
TURN_TASKS = frozenset({"whale.turn_started", "whale.finalize_turn"})

__all__ = [
    "RESPONSE_HEADER",
    "JsonFormatter",
    "RequestIdMiddleware",
    "current_headers",
    "current_ids",
    "log_context",
]


def _request_id(request: HttpRequest) -> str:
    return clean_id(request.headers.get(RESPONSE_HEADER, "")) or uuid.uuid4().hex


class RequestIdMiddleware(SyncAndAsyncMiddleware):
    """Names the request for the logs (and for the client, in the `X-Request-ID` response header)."""

    def _call(self, request: HttpRequest) -> Any:
        request_id = _request_id(request)
        with log_context(request_id=request_id, turn_id=""):
            response: HttpResponse = self.get_response(request)
        response[RESPONSE_HEADER] = request_id
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id(request)
        with log_context(request_id=request_id, turn_id=""):
            response: HttpResponse = await self.get_response(request)  # type: ignore[misc]
        response[RESPONSE_HEADER] = request_id
        return response


_task_tokens: dict[str, list[Any]] = {}


def _header(task: Any, name: str) -> str:
    request = task.request
    value = getattr(request, name, None) or (getattr(request, "headers", None) or {}).get(name)
    return clean_id(value)


@task_prerun.connect
def _task_ids_set(task_id: str = "", task: Any = None, args: Any = None, kwargs: Any = None, **_: Any) -> None:
    """A task's log lines carry the request and turn ids its sender had (headers), or its turn id argument."""
    if task is None:
        return
    turn_id = _header(task, TURN_ID_HEADER)
    if not turn_id and task.name in TURN_TASKS:
        turn_id = clean_id((kwargs or {}).get("turn_id") or (args[0] if args else ""))
    _task_tokens[task_id] = [
        (request_id_var, request_id_var.set(_header(task, REQUEST_ID_HEADER))),
        (turn_id_var, turn_id_var.set(turn_id)),
    ]


@task_postrun.connect
def _task_ids_reset(task_id: str = "", **_: Any) -> None:
    for var, token in reversed(_task_tokens.pop(task_id, [])):
        try:
            var.reset(token)
        except ValueError:  # set in another context (a thread pool): just clear it
            var.set("")
