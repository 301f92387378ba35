"""WhiteNoise on the event loop: static files are still served, everything else goes on to the app."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from common.staticfiles import AsyncWhiteNoiseMiddleware


def _middleware(tmp_path: Path, settings: Any) -> AsyncWhiteNoiseMiddleware:
    (tmp_path / "admin").mkdir()
    (tmp_path / "admin" / "site.css").write_text("body { color: teal }")
    settings.STATIC_ROOT = tmp_path
    settings.DEBUG = False

    async def app(request: HttpRequest) -> HttpResponse:
        return HttpResponse(f"app saw {request.path}")

    return AsyncWhiteNoiseMiddleware(app)


def test_a_static_file_is_served_and_anything_else_reaches_the_app(tmp_path: Path, settings: Any) -> None:
    middleware = _middleware(tmp_path, settings)
    requests = RequestFactory()

    static = asyncio.run(middleware(requests.get("/static/admin/site.css")))
    other = asyncio.run(middleware(requests.get("/api/v1/models")))

    assert static.status_code == 200
    assert b"".join(static.streaming_content) == b"body { color: teal }"  # type: ignore[attr-defined]
    assert static["Content-Type"].startswith("text/css")
    assert other.content == b"app saw /api/v1/models"


def test_a_sync_stack_still_gets_the_plain_middleware(tmp_path: Path, settings: Any) -> None:
    settings.STATIC_ROOT = tmp_path
    middleware = AsyncWhiteNoiseMiddleware(lambda request: HttpResponse("sync app"))
    assert middleware(RequestFactory().get("/anything")).content == b"sync app"
