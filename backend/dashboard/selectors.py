"""The numbers on the admin dashboard, computed from the data they summarise.

Turns are assistant messages (chat.Message) and their turns.Turn: its status, token counts and timings. Active users
are the users who sent a message. Rejections come from the per-day counts common.metrics keeps in
Redis; live worker status and queue depth from Redis at the moment of reading. The prefix cache's
hit rate comes from the usage per day (ratelimits.UsageDay), where every settled turn adds the
engine's own count of cached prompt tokens.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncHour, TruncWeek
from django.utils import timezone

from accounts.models import User
from chat.models import Message
from common import metrics
from ratelimits.models import UsageDay

DEFAULT_DAYS = 7
TOP_LIMIT = 10
TERMINAL = (Message.Status.DONE, Message.Status.CANCELLED, Message.Status.FAILED)


@dataclass(frozen=True)
class Window:
    """The last `days` UTC days up to and including today: [start, end)."""

    days: int
    start: datetime
    end: datetime

    @classmethod
    def last(cls, days: int, *, now: datetime | None = None) -> Window:
        today = (now or timezone.now()).astimezone(UTC).date()
        first = today - timedelta(days=days - 1)
        return cls(
            days=days,
            start=datetime.combine(first, time.min, tzinfo=UTC),
            end=datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC),
        )

    @property
    def dates(self) -> list[date]:
        first = self.start.date()
        return [first + timedelta(days=n) for n in range(self.days)]

    @property
    def hourly(self) -> bool:
        return self.days <= 7


def window_days(raw: object) -> int:
    """The range a client asked for, if it is one we offer; else the default."""
    try:
        days = int(str(raw))
    except (TypeError, ValueError):
        return DEFAULT_DAYS
    return days if days in settings.WHALE_DASHBOARD_RANGES else DEFAULT_DAYS


def _turns(window: Window) -> QuerySet[Message]:
    return Message.objects.filter(role=Message.Role.ASSISTANT, created_at__gte=window.start, created_at__lt=window.end)


def _percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (a value that occurred), None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def active_users_daily(window: Window) -> list[tuple[date, int]]:
    rows = (
        Message.objects.filter(role=Message.Role.USER, created_at__gte=window.start, created_at__lt=window.end)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(users=Count("conversation__user", distinct=True))
    )
    found = {row["day"]: row["users"] for row in rows}
    return [(day, found.get(day, 0)) for day in window.dates]


def active_users_weekly(window: Window) -> list[tuple[date, int]]:
    """Distinct users per ISO week (Monday first) that overlaps the window."""
    rows = (
        Message.objects.filter(role=Message.Role.USER, created_at__gte=window.start, created_at__lt=window.end)
        .annotate(week=TruncWeek("created_at", tzinfo=UTC))
        .values("week")
        .annotate(users=Count("conversation__user", distinct=True))
        .order_by("week")
    )
    return [(_as_date(row["week"]), row["users"]) for row in rows]


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def turns_by_status(window: Window) -> dict[str, list[tuple[datetime, int]]]:
    """Turns created per hour (ranges of up to 7 days) or per day, by status, zero-filled."""
    trunc = TruncHour("created_at", tzinfo=UTC) if window.hourly else TruncDate("created_at", tzinfo=UTC)
    rows = _turns(window).annotate(bucket=trunc).values("bucket", status=F("turn__status")).annotate(n=Count("id"))
    buckets = _buckets(window)
    counts: dict[str, dict[datetime, int]] = {status: {} for status in Message.Status.values}
    for row in rows:
        bucket = row["bucket"]
        if not isinstance(bucket, datetime):
            bucket = datetime.combine(bucket, time.min, tzinfo=UTC)
        counts[row["status"]][bucket] = row["n"]
    return {status: [(b, found.get(b, 0)) for b in buckets] for status, found in counts.items()}


def tokens_per_day(window: Window) -> list[tuple[date, int, int]]:
    """(day, tokens in, tokens out): prompt tokens and completion tokens (reasoning included) of turns."""
    rows = (
        _turns(window)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(tokens_in=Sum("turn__prompt_tokens"), tokens_out=Sum("turn__completion_tokens"))
    )
    found = {row["day"]: (row["tokens_in"] or 0, row["tokens_out"] or 0) for row in rows}
    return [(day, *found.get(day, (0, 0))) for day in window.dates]


def _hits(prompt_tokens: int | None, cached_tokens: int | None) -> dict[str, Any]:
    prompt, cached = prompt_tokens or 0, cached_tokens or 0
    return {"prompt_tokens": prompt, "cached_tokens": cached, "hit_rate": cached / prompt if prompt else None}


def cache_hits_daily(window: Window) -> list[dict[str, Any]]:
    """Per UTC day, for app turns and for partner completions apart: prompt tokens, the cached part
    of them (the engine's prefix cache), and their ratio (None on a day without prompts)."""
    app, partner = Q(api_key_id__isnull=True), Q(api_key_id__isnull=False)
    rows = (
        UsageDay.objects.filter(date__gte=window.dates[0], date__lte=window.dates[-1])
        .values("date")
        .annotate(
            app_prompt=Sum("prompt_tokens", filter=app),
            app_cached=Sum("cached_tokens", filter=app),
            partner_prompt=Sum("prompt_tokens", filter=partner),
            partner_cached=Sum("cached_tokens", filter=partner),
        )
    )
    found = {row["date"]: row for row in rows}
    empty: dict[str, Any] = {}
    return [
        {
            "day": day,
            "app": _hits(found.get(day, empty).get("app_prompt"), found.get(day, empty).get("app_cached")),
            "partners": _hits(found.get(day, empty).get("partner_prompt"), found.get(day, empty).get("partner_cached")),
        }
        for day in window.dates
    ]


def cache_hits(daily: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole window's hit rate, app and partners apart and together, from `cache_hits_daily`."""
    sums = {
        source: (sum(d[source]["prompt_tokens"] for d in daily), sum(d[source]["cached_tokens"] for d in daily))
        for source in ("app", "partners")
    }
    both = (sum(prompt for prompt, _ in sums.values()), sum(cached for _, cached in sums.values()))
    return {**{source: _hits(*pair) for source, pair in sums.items()}, "all": _hits(*both)}


def _speeds(turns: Iterable[dict[str, Any]]) -> tuple[list[float], list[float]]:
    first_token: list[float] = []
    per_second: list[float] = []
    for turn in turns:
        if turn["queued_at"] and turn["first_token_at"]:
            first_token.append((turn["first_token_at"] - turn["queued_at"]).total_seconds())
        if turn["first_token_at"] and turn["finished_at"] and turn["completion_tokens"] > 1:
            seconds = (turn["finished_at"] - turn["first_token_at"]).total_seconds()
            if seconds > 0:
                per_second.append((turn["completion_tokens"] - 1) / seconds)
    return first_token, per_second


def _buckets(window: Window) -> list[datetime]:
    """The window's hours (ranges of up to 7 days) or days, as the turns chart has them."""
    step = timedelta(hours=1) if window.hourly else timedelta(days=1)
    buckets = []
    moment = window.start
    while moment < window.end:
        buckets.append(moment)
        moment += step
    return buckets


def _speed_percentiles(turns: list[dict[str, Any]]) -> dict[str, float | None]:
    first_token, per_second = _speeds(turns)
    return {
        **{f"first_token_p{p}": _percentile(first_token, p) for p in (50, 90, 99)},
        **{f"tokens_per_second_p{p}": _percentile(per_second, p) for p in (50, 90, 99)},
    }


def latency_percentiles(window: Window) -> dict[str, Any]:
    """First-token latency (seconds from queueing) and tokens/s, p50/p90/p99 per day, per chart bucket (hour or
    day, as the turns chart) and over the window, over turns that finished normally (their saved timings)."""
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in _turns(window)
        .filter(turn__status=Message.Status.DONE)
        .values(
            "created_at",
            queued_at=F("turn__queued_at"),
            first_token_at=F("turn__first_token_at"),
            finished_at=F("turn__finished_at"),
            completion_tokens=F("turn__completion_tokens"),
        )
    ]
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    by_bucket: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        created = row["created_at"].astimezone(UTC)
        by_day[created.date()].append(row)
        bucket = created.replace(minute=0, second=0, microsecond=0)
        by_bucket[bucket if window.hourly else bucket.replace(hour=0)].append(row)
    daily = [{"day": day, **_speed_percentiles(by_day.get(day, []))} for day in window.dates]
    series = [{"bucket": bucket, **_speed_percentiles(by_bucket.get(bucket, []))} for bucket in _buckets(window)]
    return {"daily": daily, "series": series, "overall": _speed_percentiles(rows)}


def error_rate_daily(window: Window) -> list[tuple[date, int, int]]:
    """(day, failed turns, settled turns) per day; cancelled turns count as settled, not as errors."""
    rows = (
        _turns(window)
        .filter(turn__status__in=TERMINAL)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(settled=Count("id"), failed=Count("id", filter=Q(turn__status=Message.Status.FAILED)))
    )
    found = {row["day"]: (row["failed"], row["settled"]) for row in rows}
    return [(day, *found.get(day, (0, 0))) for day in window.dates]


def top_users(window: Window, limit: int = TOP_LIMIT) -> list[dict[str, Any]]:
    """Users by tokens (prompt plus completion) of their turns in the window."""
    rows = (
        _turns(window)
        .values(user_id=F("conversation__user_id"), email=F("conversation__user__email"))
        .annotate(turns=Count("id"), tokens=Sum(F("turn__prompt_tokens") + F("turn__completion_tokens")))
        .order_by("-tokens", "email")[:limit]
    )
    return [{**row, "tokens": row["tokens"] or 0} for row in rows]


def top_partners(window: Window, limit: int = TOP_LIMIT) -> list[dict[str, Any]] | None:
    """API keys by tokens of their partner completions; None while the partner API is not installed."""
    try:
        from partners.models import Completion
    except ImportError:
        return None
    rows = (
        Completion.objects.filter(created_at__gte=window.start, created_at__lt=window.end)
        .values(key=F("api_key__name"), prefix=F("api_key__prefix"), email=F("user__email"))
        .annotate(requests=Count("id"), tokens=Sum(F("turn__prompt_tokens") + F("turn__completion_tokens")))
        .order_by("-tokens", "prefix")[:limit]
    )
    return [{**row, "tokens": row["tokens"] or 0} for row in rows]


def rejections(window: Window) -> dict[str, Any]:
    """Rate-limit rejections by limit and busy rejections by model: totals and per day."""
    by_day = metrics.rejections_by_day(since=window.dates[0], until=window.dates[-1])
    limits: dict[str, int] = defaultdict(int)
    busy: dict[str, int] = defaultdict(int)
    daily = []
    for day in window.dates:
        counts = by_day.get(day, {})
        rate_limited = busy_today = 0
        for field, n in counts.items():
            kind, _, name = field.partition(":")
            if kind == "rate_limit":
                limits[name] += n
                rate_limited += n
            elif kind == "busy":
                busy[name] += n
                busy_today += n
        daily.append((day, rate_limited, busy_today))
    return {"by_limit": dict(sorted(limits.items())), "busy_by_model": dict(sorted(busy.items())), "daily": daily}


def queues() -> list[dict[str, Any]]:
    """Each model's GPU queue right now: waiting turns and live workers serving it."""
    from turns.metrics import queue_depth

    from serving.registry import model_list
    from serving.workers import workers_alive

    workers = workers_alive()
    rows = []
    for spec in model_list():
        serving = [w for w in workers if spec.queue in str(w.get("queues", "")).split(",")]
        try:
            depth: int | None = queue_depth(spec.queue)
        except Exception:  # noqa: BLE001 - Redis down: show the model without a depth
            depth = None
        rows.append(
            {"model": spec.name, "queue": spec.queue, "enabled": spec.enabled, "depth": depth, "workers": len(serving)}
        )
    return rows


def workers() -> list[dict[str, Any]]:
    """Live GPU workers from their heartbeats: model, turns in flight of capacity, seconds since last seen."""
    from serving.workers import workers_alive

    now = timezone.now().timestamp()
    rows = []
    for beat in workers_alive():
        try:
            age: float | None = max(0.0, now - float(beat.get("last_seen_epoch") or 0))
        except ValueError:
            age = None
        rows.append(
            {
                "worker_id": beat.get("worker_id", ""),
                "host": beat.get("host", ""),
                "model": beat.get("model", ""),
                "engine": beat.get("engine", ""),
                "in_flight": int(beat.get("in_flight") or 0),
                "capacity": int(beat.get("capacity") or 0),
                "queues": beat.get("queues", ""),
                "last_seen": beat.get("last_seen", ""),
                "seconds_since_seen": age,
            }
        )
    return sorted(rows, key=lambda row: str(row["worker_id"]))


def totals(window: Window) -> dict[str, Any]:
    turns = _turns(window).aggregate(
        turns=Count("id"),
        failed=Count("id", filter=Q(turn__status=Message.Status.FAILED)),
        settled=Count("id", filter=Q(turn__status__in=TERMINAL)),
        tokens_in=Sum("turn__prompt_tokens"),
        tokens_out=Sum("turn__completion_tokens"),
    )
    return {
        "users": User.objects.count(),
        "new_users": User.objects.filter(date_joined__gte=window.start, date_joined__lt=window.end).count(),
        "suspended_users": User.objects.filter(suspended_at__isnull=False).count(),
        "active_users": Message.objects.filter(
            role=Message.Role.USER, created_at__gte=window.start, created_at__lt=window.end
        )
        .values("conversation__user")
        .distinct()
        .count(),
        "turns": turns["turns"],
        "failed": turns["failed"],
        "error_rate": (turns["failed"] / turns["settled"]) if turns["settled"] else 0.0,
        "tokens_in": turns["tokens_in"] or 0,
        "tokens_out": turns["tokens_out"] or 0,
    }


def dashboard(window: Window) -> dict[str, Any]:
    cache_daily = cache_hits_daily(window)
    return {
        "days": window.days,
        "start": window.start,
        "end": window.end,
        "totals": totals(window),
        "active_users_daily": active_users_daily(window),
        "active_users_weekly": active_users_weekly(window),
        "turns_by_status": turns_by_status(window),
        "tokens_per_day": tokens_per_day(window),
        "latency": latency_percentiles(window),
        "error_rate_daily": error_rate_daily(window),
        "cache_hits_daily": cache_daily,
        "cache_hits": cache_hits(cache_daily),
        "top_users": top_users(window),
        "top_partners": top_partners(window),
        "rejections": rejections(window),
        "queues": queues(),
        "workers": workers(),
    }


def model_setting_overrides() -> dict[str, dict[str, Any]]:
    """Staff's switches over the model registry by model name (read through serving.registry, set in apps.py)."""
    from .models import ModelSetting

    rows = ModelSetting.objects.values("name", "enabled", "display_name", "description")
    return {row["name"]: dict(row) for row in rows}
