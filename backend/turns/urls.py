"""HTTP routes of the turns app, under /api/v1/."""

from __future__ import annotations

from django.urls import path

from . import api, sse

urlpatterns = [
    path("models", api.ModelListView.as_view(), name="models"),
    path("messages", api.FirstMessageView.as_view(), name="messages-send-first"),
    path("conversations/<uuid:conversation_id>/messages", api.SendMessageView.as_view(), name="messages-send"),
    path("messages/<uuid:message_id>/regenerate", api.RegenerateView.as_view(), name="messages-regenerate"),
    path("turns/<uuid:turn_id>/cancel", api.CancelView.as_view(), name="turns-cancel"),
    path("turns/<uuid:turn_id>/events", sse.TurnEventsView.as_view(), name="turns-events"),
    path("events", sse.UserEventsView.as_view(), name="user-events"),
]
