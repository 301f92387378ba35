from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.contrib import admin

        # The admin's home page is the operators' dashboard (dashboard.views.dashboard_callback fills it).
        admin.site.index_template = "dashboard/index.html"
