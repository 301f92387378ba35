"""HTTP routes of the ratelimits app, under /api/v1/."""

from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("me/usage", api.MeUsageView.as_view(), name="me-usage"),
]
