"""URL map: app API under /api/v1/, partner APIs under /v1/ and /anthropic/, schema and docs, health, admin, and the web build at /."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from common import views as common_views
from common.metrics import metrics_view
from partners import anthropic as partners_anthropic
from partners import v1 as partners_v1

urlpatterns = [
    path("healthz", common_views.healthz, name="healthz"),
    path("readyz", common_views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", include("dashboard.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/", include("chat.urls")),
    path("api/v1/", include("turns.urls")),
    path("api/v1/", include("ratelimits.urls")),
    path("api/v1/", include("partners.urls")),
    path("api/v1/", include("files.urls")),
    path("v1/", include("partners.v1_urls")),
    path("anthropic/", include("partners.anthropic_urls")),
    # Any other API path is a JSON 404 in every mode (with DEBUG on Django would render its HTML page).
    re_path(r"^api(?:/.*)?$", common_views.api_not_found),
    re_path(r"^v1$", partners_v1.not_found),
    re_path(r"^anthropic$", partners_anthropic.not_found),
    path("", include("common.web_urls")),
]

handler400 = "common.views.bad_request"
handler404 = "common.views.not_found"
handler500 = "common.views.server_error"
