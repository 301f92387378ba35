"""Structured JSON logs whose lines carry the request id and turn id in effect, on both sides of the queue.

Pure Python (the backend imports it too). The ids live in context variables: the backend's
middleware sets the request id, the turn code sets the turn id, and asyncio tasks and
`asyncio.to_thread` copy them, so a line logged anywhere under a turn names it.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("whale_request_id", default="")
turn_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("whale_turn_id", default="")

# Celery message headers that carry the ids across the queue (both directions).
REQUEST_ID_HEADER = "whale_request_id"
TURN_ID_HEADER = "whale_turn_id"

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# LogRecord attributes that are not extra fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def clean_id(value: object) -> str:
    """An id safe to log and echo back (a client may send any header): else empty."""
    text = str(value or "")
    return text if _VALID_ID.match(text) else ""


def current_ids() -> dict[str, str]:
    return {
        key: value for key, value in (("request_id", request_id_var.get()), ("turn_id", turn_id_var.get())) if value
    }


def current_headers() -> dict[str, str]:
    """The ids as Celery message headers, for a task sent on behalf of the current turn."""
    headers = {}
    if request_id_var.get():
        headers[REQUEST_ID_HEADER] = request_id_var.get()
    if turn_id_var.get():
        headers[TURN_ID_HEADER] = turn_id_var.get()
    return headers


@contextlib.contextmanager
def log_context(*, request_id: str | None = None, turn_id: str | None = None) -> Iterator[None]:
    """Sets the ids for the block (None leaves one as it is)."""
    tokens = []
    if request_id is not None:
        tokens.append((request_id_var, request_id_var.set(clean_id(request_id))))
    if turn_id is not None:
        tokens.append((turn_id_var, turn_id_var.set(clean_id(turn_id))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids in effect, extra fields, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(current_ids())
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(*, level: str = "INFO", json_format: bool = True) -> None:
    """Root logging for a process that has no Django settings (the GPU worker)."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if json_format else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
