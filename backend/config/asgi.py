"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application does, with our handler

from common.inline_middleware import InlineMiddlewareASGIHandler  # noqa: E402

django_asgi_app = InlineMiddlewareASGIHandler()  # Django's middlewares on the event loop (no thread hops)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from files.asgi import UploadSizeGuard  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Uploads over the largest file limit are refused before Django spools their bodies (files/asgi.py).
        "http": UploadSizeGuard(django_asgi_app),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
