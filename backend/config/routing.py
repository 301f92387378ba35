"""WebSocket routes; each app contributes its own."""

from __future__ import annotations

from turns.routing import websocket_urlpatterns as turns_ws

websocket_urlpatterns = [*turns_ws]
