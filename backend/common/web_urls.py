"""Serves the Expo web build (mobile/dist) at / with a single-page-app fallback."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import re_path

PLACEHOLDER = """<!doctype html><html><head><meta charset="utf-8"><title>Whale</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>Whale is running</h1>
<p>The web chat has not been built yet (<code>make web</code> builds it into mobile/dist).</p>
<p>API docs: <a href="/api/docs/">/api/docs/</a> &middot; Admin: <a href="/admin/">/admin/</a></p>
</body></html>"""


def web_app(request: HttpRequest, path: str = "") -> HttpResponseBase:
    root: Path = settings.WEB_BUILD_DIR
    if not (root / "index.html").exists():
        return HttpResponse(PLACEHOLDER)
    if path:
        candidate = (root / path).resolve()
        if root.resolve() in candidate.parents and candidate.is_file():
            content_type, _ = mimetypes.guess_type(str(candidate))
            return FileResponse(candidate.open("rb"), content_type=content_type or "application/octet-stream")
        if path.startswith(("api/", "ws/", "admin/", "static/")):
            raise Http404
    return FileResponse((root / "index.html").open("rb"), content_type="text/html")


urlpatterns = [
    re_path(r"^(?P<path>(?!api/|ws/|admin/|static/).*)$", web_app, name="web"),
]
