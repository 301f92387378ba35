"""App API routes of the partners app, under /api/v1/ (the partner API itself is in v1_urls, under /v1/)."""

from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("api-keys", api.ApiKeysView.as_view(), name="api-keys"),
    path("api-keys/<uuid:key_id>", api.ApiKeyView.as_view(), name="api-key"),
    path("api-keys/<uuid:key_id>/usage", api.ApiKeyUsageView.as_view(), name="api-key-usage"),
    path("usage.csv", api.UsageExportView.as_view(), name="usage-export"),
]
