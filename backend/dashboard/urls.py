"""Staff-only dashboard data under /admin/ (mounted before the admin's own URLs)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("dashboard.json", views.dashboard_json, name="dashboard-json"),
]
