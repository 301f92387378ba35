"""HTTP routes of the turns app, under /api/v1/ (the app's sends and stop are chat's: chat/urls.py)."""

from __future__ import annotations

from django.urls import path

from . import api, sse

urlpatterns = [
    path("models", api.ModelListView.as_view(), name="models"),
    path("turns/<uuid:turn_id>/events", sse.TurnEventsView.as_view(), name="turns-events"),
    path("events", sse.UserEventsView.as_view(), name="user-events"),
]
