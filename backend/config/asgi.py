"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

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
