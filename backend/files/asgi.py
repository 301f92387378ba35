"""Cuts an oversized upload off at the ASGI edge, before Django spools the whole body to disk.

Django's ASGI handler reads the entire request body into a temporary file before any view or upload
handler runs, so a 200 MB upload would be received in full just to be refused. For POST /api/v1/files
this wrapper refuses a declared Content-Length over the largest per-kind limit without reading the
body, and stops a body without one (chunked) at that limit: it answers 413 itself and tells Django
the client went away. The per-kind limits are then enforced by files.uploads while Django parses.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from . import kinds
from .errors import mib

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

UPLOAD_PATH = "/api/v1/files"
# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def request_limit() -> int:
    return kinds.largest_limit() + MULTIPART_OVERHEAD


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "file_too_large",
                "message": f"The file is too large: files may be at most {mib(kinds.largest_limit())}.",
                "limit": "request_bytes",
                "limit_value": limit,
            }
        }
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class UploadSizeGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") != UPLOAD_PATH:
            await self.app(scope, receive, send)
            return
        limit = request_limit()
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        state = {"seen": 0, "refused": False}

        async def guarded_receive() -> Message:
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > limit:
                    state["refused"] = True
                    await _refuse(send, limit)
                    return {"type": "http.disconnect"}  # Django drops the request without answering
            return message

        await self.app(scope, guarded_receive, send)
