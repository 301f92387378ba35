"""The admin's home page (filled by unfold's DASHBOARD_CALLBACK) and the same numbers as JSON for staff."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, JsonResponse

from common.exceptions import error_body

from . import selectors

STATUS_COLOURS = {
    "done": "#22c55e",
    "failed": "#ef4444",
    "cancelled": "#a3a3a3",
    "queued": "#f59e0b",
    "streaming": "#3b82f6",
}


def _options(*, stacked: bool = False) -> str:
    """Chart.js options for every chart: legends, y ticks and side-by-side (or stacked) bars."""
    axis: dict[str, Any] = {"ticks": {"color": "#9ca3af", "maxTicksLimit": 12}, "grid": {"display": False}}
    values: dict[str, Any] = {
        "beginAtZero": True,
        "ticks": {"color": "#9ca3af"},
        "grid": {"color": "rgba(156,163,175,0.2)"},
    }
    if stacked:
        axis["stacked"] = values["stacked"] = True
    return json.dumps(
        {
            "animation": False,
            "responsive": True,
            "maintainAspectRatio": False,
            "datasets": {
                "bar": {"borderRadius": 3, "maxBarThickness": 14, "grouped": True},
                "line": {"borderWidth": 2, "pointStyle": False},
            },
            "plugins": {
                "legend": {
                    "display": True,
                    "align": "end",
                    "position": "top",
                    "labels": {"boxHeight": 6, "boxWidth": 6, "color": "#9ca3af", "usePointStyle": True},
                },
                "tooltip": {"enabled": True},
            },
            "scales": {"x": axis, "y": values},
        }
    )


CHART_OPTIONS = _options()
STACKED_CHART_OPTIONS = _options(stacked=True)
PERCENTILE_COLOURS = {50: "#3b82f6", 90: "#f59e0b", 99: "#ef4444"}
# Latency has no value where no turn finished (not zero): draw each value as a point and join them across
# the gaps, else a lone busy hour or day (a fresh install) shows nothing at all.
SPARSE_LINE: dict[str, Any] = {"pointStyle": "circle", "pointRadius": 3, "spanGaps": True}


def _label(value: date | datetime, *, hourly: bool = False) -> str:
    if isinstance(value, datetime):
        return value.strftime("%m-%d %H:00" if hourly else "%m-%d")
    return value.strftime("%m-%d")


def _chart(labels: list[str], datasets: list[dict[str, Any]]) -> str:
    return json.dumps({"labels": labels, "datasets": datasets}, cls=DjangoJSONEncoder)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def charts(data: dict[str, Any], *, hourly: bool) -> dict[str, str]:
    """Chart.js data (as JSON for unfold's chart components) for each chart on the page."""
    days = [_label(day) for day, _ in data["active_users_daily"]]
    by_status = data["turns_by_status"]
    buckets = [_label(moment, hourly=hourly) for moment, _ in next(iter(by_status.values()))]
    latency = data["latency"]["series"]
    latency_labels = [_label(row["bucket"], hourly=hourly) for row in latency]
    rejections = data["rejections"]["daily"]
    return {
        "active_users": _chart(
            days,
            [
                {
                    "label": "Daily active users",
                    "data": [n for _, n in data["active_users_daily"]],
                    "borderColor": "#6366f1",
                }
            ],
        ),
        "active_users_weekly": _chart(
            [f"week of {_label(week)}" for week, _ in data["active_users_weekly"]],
            [
                {
                    "label": "Weekly active users",
                    "data": [n for _, n in data["active_users_weekly"]],
                    "backgroundColor": "#6366f1",
                }
            ],
        ),
        "turns": _chart(
            buckets,
            [
                {"label": status, "data": [n for _, n in series], "backgroundColor": STATUS_COLOURS.get(status)}
                for status, series in by_status.items()
                if any(n for _, n in series)
            ],
        ),
        "tokens": _chart(
            days,
            [
                {"label": "Tokens in", "data": [n for _, n, _ in data["tokens_per_day"]], "backgroundColor": "#0ea5e9"},
                {
                    "label": "Tokens out",
                    "data": [n for _, _, n in data["tokens_per_day"]],
                    "backgroundColor": "#a855f7",
                },
            ],
        ),
        "first_token": _chart(
            latency_labels,
            [
                {
                    "label": f"p{p} first token (s)",
                    "data": [_round(row[f"first_token_p{p}"]) for row in latency],
                    "borderColor": PERCENTILE_COLOURS[p],
                    **SPARSE_LINE,
                }
                for p in (50, 90, 99)
            ],
        ),
        "tokens_per_second": _chart(
            latency_labels,
            [
                {
                    "label": f"p{p} tokens/s",
                    "data": [_round(row[f"tokens_per_second_p{p}"], 1) for row in latency],
                    "borderColor": PERCENTILE_COLOURS[p],
                    **SPARSE_LINE,
                }
                for p in (50, 90)
            ],
        ),
        "error_rate": _chart(
            days,
            [
                {
                    "label": "Error rate (%)",
                    "data": [
                        round(100 * failed / settled, 2) if settled else 0
                        for _, failed, settled in data["error_rate_daily"]
                    ],
                    "borderColor": "#ef4444",
                }
            ],
        ),
        "rejections": _chart(
            days,
            [
                {"label": "Rate-limited", "data": [n for _, n, _ in rejections], "backgroundColor": "#f97316"},
                {"label": "Busy", "data": [n for _, _, n in rejections], "backgroundColor": "#e11d48"},
            ],
        ),
    }


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """unfold calls this for the admin index (staff only: the admin checks before it gets here)."""
    window = selectors.Window.last(selectors.window_days(request.GET.get("days")))
    data = selectors.dashboard(window)
    context.update(
        {
            "dashboard": data,
            "charts": charts(data, hourly=window.hourly),
            "ranges": settings.WHALE_DASHBOARD_RANGES,
            "chart_options": CHART_OPTIONS,
            "stacked_chart_options": STACKED_CHART_OPTIONS,
            "hourly": window.hourly,
        }
    )
    return context


def dashboard_json(request: HttpRequest) -> JsonResponse:
    """GET /admin/dashboard.json?days=N: the dashboard's numbers. 401 signed out, 403 for non-staff."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return JsonResponse(error_body("not_authenticated", "Sign in to the admin first."), status=401)
    if not (user.is_active and user.is_staff):
        return JsonResponse(error_body("permission_denied", "Only staff may see the dashboard."), status=403)
    window = selectors.Window.last(selectors.window_days(request.GET.get("days")))
    data = selectors.dashboard(window)
    data["turns_by_status"] = {
        status: [(moment.isoformat(), n) for moment, n in series] for status, series in data["turns_by_status"].items()
    }
    return JsonResponse(json.loads(json.dumps(data, cls=DjangoJSONEncoder)))
