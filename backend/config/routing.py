"""WebSocket routes; each app contributes its own. A socket on no route is refused (close code 4404 before
the handshake completes: HTTP 403 to the client), not an exception in the ASGI app that the server logs as
its own error."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import re_path
from turns.routing import websocket_urlpatterns as turns_ws

NO_ROUTE_CLOSE_CODE = 4404


class NoRouteConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.close(code=NO_ROUTE_CLOSE_CODE)


websocket_urlpatterns = [*turns_ws, re_path(r"", NoRouteConsumer.as_asgi())]
