"""The single-page-app fallback of the Expo web build (mobile/dist): any other path is the app's index.html."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import re_path

from .staticfiles import REVALIDATE

PLACEHOLDER = """<!doctype html><html><head><meta charset="utf-8"><title>Whale</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>Whale is running</h1>
<p>The web chat has not been built yet (<code>make web</code> builds it into mobile/dist).</p>
<p>API docs: <a href="/api/docs/">/api/docs/</a> &middot; Admin: <a href="/admin/">/admin/</a></p>
</body></html>"""


def web_app(request: HttpRequest, path: str = "") -> HttpResponseBase:
    """The app's own routes (/c/<id>, /settings, ...): index.html, revalidated on every visit. The build's
    files themselves, index.html at / included, are served by WhiteNoise (common.staticfiles)."""
    root: Path = settings.WEB_BUILD_DIR
    if not (root / "index.html").exists():
        return HttpResponse(PLACEHOLDER)
    if path.startswith(("api/", "ws/", "admin/", "static/")):
        raise Http404
    response = FileResponse((root / "index.html").open("rb"), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = REVALIDATE
    return response


urlpatterns = [
    re_path(r"^(?P<path>(?!api/|ws/|admin/|static/).*)$", web_app, name="web"),
]
