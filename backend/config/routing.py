"""WebSocket routes; each app contributes its own."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []

try:
    from chat.routing import websocket_urlpatterns as chat_ws
except ImportError:  # chat routing lands with the turns pipeline
    chat_ws = []
websocket_urlpatterns += chat_ws
