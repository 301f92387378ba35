"""A 200 MB upload is refused at the ASGI edge: without reading the body when declared, at the limit when chunked."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from config.asgi import application
from files.asgi import request_limit

MIB = 1024 * 1024
CHUNK = b"\0" * MIB


class Client:
    """Sends a body in 1 MiB messages and counts how much of it the application asked for."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0
        self.messages: list[dict[str, Any]] = []
        self.empty_body_sent = False

    async def receive(self) -> dict[str, Any]:
        if self.total == 0 and not self.empty_body_sent:
            self.empty_body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if self.sent >= self.total:
            await asyncio.Event().wait()  # a client that stays connected, waiting for the answer
            return {"type": "http.disconnect"}
        size = min(MIB, self.total - self.sent)
        self.sent += size
        return {"type": "http.request", "body": CHUNK[:size], "more_body": self.sent < self.total}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.messages if m["type"] == "http.response.start")

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"))


def scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/files",
        "raw_path": b"/api/v1/files",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"multipart/form-data; boundary=x"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


async def test_a_declared_200_mb_upload_is_refused_before_any_of_it_is_read() -> None:
    client = Client(200 * MIB)
    await application(scope([(b"content-length", str(200 * MIB).encode())]), client.receive, client.send)
    assert client.status == 413
    assert client.body["error"]["code"] == "file_too_large"
    assert client.body["error"]["limit_value"] == request_limit()
    assert client.sent == 0


async def test_a_chunked_200_mb_upload_is_cut_off_at_the_limit() -> None:
    client = Client(200 * MIB)
    await application(scope([(b"transfer-encoding", b"chunked")]), client.receive, client.send)
    assert client.status == 413
    assert client.body["error"]["code"] == "file_too_large"
    assert request_limit() < client.sent <= request_limit() + MIB  # stopped at the first message past the limit
    assert len([m for m in client.messages if m["type"] == "http.response.start"]) == 1  # Django did not answer too


async def test_other_paths_are_passed_through_untouched() -> None:
    client = Client(0)
    other = scope([(b"content-length", str(200 * MIB).encode())]) | {"path": "/api/v1/nothing-here", "method": "GET"}
    await application(other, client.receive, client.send)
    assert client.status == 404
