"""WebSocket routes of the turns app."""

from __future__ import annotations

from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/turns/<uuid:turn_id>/", consumers.TurnConsumer.as_asgi()),
    path("ws/events/", consumers.UserEventsConsumer.as_asgi()),
]
