"""The dashboard's numbers equal the data they summarise (known turns, exact expectations)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from chat.models import Message
from common import metrics
from common.redis import get_redis
from dashboard import selectors
from inference import protocol
from ratelimits.models import UsageDay

from .factories import at, turn, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def days() -> tuple[date, date]:
    today = timezone.now().astimezone(UTC).date()
    return today - timedelta(days=1), today


@pytest.fixture
def data(days: tuple[date, date]) -> dict[str, Any]:
    """ada: one turn yesterday, one today (both done); bob: one failed and one cancelled today; cy: nothing."""
    yesterday, today = days
    ada, bob, cy = user("ada@example.com"), user("bob@example.com"), user("cy@example.com")
    turn(ada, at(yesterday, 10), prompt_tokens=10, completion_tokens=21, first_token_after=0.5, finished_after=2.5)
    turn(ada, at(today, 1), prompt_tokens=5, completion_tokens=11, first_token_after=1.5, finished_after=3.5)
    turn(bob, at(today, 1, 30), status=Message.Status.FAILED, prompt_tokens=7, finished_after=1)
    turn(
        bob,
        at(today, 2),
        status=Message.Status.CANCELLED,
        prompt_tokens=3,
        completion_tokens=2,
        first_token_after=0.25,
        finished_after=0.5,
    )
    turn(ada, at(yesterday - timedelta(days=7), 9), prompt_tokens=1000, completion_tokens=1000)  # outside 7 days
    return {"ada": ada, "bob": bob, "cy": cy}


def test_daily_active_users_count_distinct_users_who_sent_a_message(data: Any, days: tuple[date, date]) -> None:
    yesterday, today = days
    series = dict(selectors.active_users_daily(selectors.Window.last(7)))
    assert len(series) == 7
    assert (series[yesterday], series[today]) == (1, 2)
    assert sum(series.values()) == 3


def test_weekly_active_users_count_each_user_once_per_week(data: Any, days: tuple[date, date]) -> None:
    yesterday, today = days
    expected: dict[date, set[str]] = {}
    for day, emails in ((yesterday, {"ada"}), (today, {"ada", "bob"})):
        expected.setdefault(day - timedelta(days=day.weekday()), set()).update(emails)

    assert selectors.active_users_weekly(selectors.Window.last(7)) == [
        (week, len(users)) for week, users in sorted(expected.items())
    ]


def test_turns_are_counted_per_hour_by_status(data: Any, days: tuple[date, date]) -> None:
    yesterday, today = days
    series = selectors.turns_by_status(selectors.Window.last(7))
    nonzero = {(status, moment): n for status, points in series.items() for moment, n in points if n}
    assert nonzero == {
        ("done", at(yesterday, 10)): 1,
        ("done", at(today, 1)): 1,
        ("failed", at(today, 1)): 1,
        ("cancelled", at(today, 2)): 1,
    }
    assert len(series["done"]) == 7 * 24


def test_longer_ranges_count_turns_per_day(data: Any, days: tuple[date, date]) -> None:
    yesterday, today = days
    series = selectors.turns_by_status(selectors.Window.last(30))
    done = {moment.date(): n for moment, n in series["done"] if n}
    assert done == {yesterday - timedelta(days=7): 1, yesterday: 1, today: 1}
    assert len(series["done"]) == 30


def test_tokens_in_and_out_are_summed_per_day(data: Any, days: tuple[date, date]) -> None:
    yesterday, today = days
    series = {
        day: (tokens_in, tokens_out)
        for day, tokens_in, tokens_out in selectors.tokens_per_day(selectors.Window.last(7))
    }
    assert series[yesterday] == (10, 21)
    assert series[today] == (5 + 7 + 3, 11 + 0 + 2)


def test_latency_percentiles_cover_turns_that_finished_normally(data: Any, days: tuple[date, date]) -> None:
    yesterday, today = days
    latency = selectors.latency_percentiles(selectors.Window.last(7))
    overall = latency["overall"]
    # first token: 0.5 s and 1.5 s; tokens/s after the first token: 20/2 = 10 and 10/2 = 5
    assert (overall["first_token_p50"], overall["first_token_p99"]) == (0.5, 1.5)
    assert (overall["tokens_per_second_p50"], overall["tokens_per_second_p90"]) == (5.0, 10.0)
    daily = {row["day"]: row for row in latency["daily"]}
    assert daily[yesterday]["first_token_p50"] == 0.5
    assert daily[today]["tokens_per_second_p50"] == 5.0
    assert daily[today - timedelta(days=3)]["first_token_p50"] is None


def test_the_error_rate_is_failed_over_settled_turns(data: Any, days: tuple[date, date]) -> None:
    yesterday, today = days
    series = {day: (failed, settled) for day, failed, settled in selectors.error_rate_daily(selectors.Window.last(7))}
    assert series[yesterday] == (0, 1)
    assert series[today] == (1, 3)
    assert selectors.totals(selectors.Window.last(7))["error_rate"] == 0.25


def test_totals_of_the_window(data: Any) -> None:
    totals = selectors.totals(selectors.Window.last(7))
    assert totals == {
        "users": 3,
        "new_users": 3,
        "suspended_users": 0,
        "active_users": 2,
        "turns": 4,
        "failed": 1,
        "error_rate": 0.25,
        "tokens_in": 25,
        "tokens_out": 34,
    }
    assert selectors.totals(selectors.Window.last(1))["tokens_in"] == 15
    assert selectors.totals(selectors.Window.last(30))["tokens_in"] == 1025


def test_the_cache_hit_rate_is_cached_over_prompt_tokens_per_day_for_the_app_and_partners_apart(
    days: tuple[date, date],
) -> None:
    yesterday, today = days
    ada, bob = user("ada@example.com"), user("bob@example.com")
    key_id = "00000000-0000-0000-0000-00000000000a"
    UsageDay.objects.create(user=ada, date=today, prompt_tokens=100, cached_tokens=56)
    UsageDay.objects.create(user=bob, date=today, prompt_tokens=300, cached_tokens=0)
    UsageDay.objects.create(user=bob, date=today, api_key_id=key_id, prompt_tokens=50, cached_tokens=40)
    UsageDay.objects.create(user=ada, date=yesterday, api_key_id=key_id, prompt_tokens=10, cached_tokens=10)
    UsageDay.objects.create(user=ada, date=today - timedelta(days=9), prompt_tokens=999, cached_tokens=999)

    daily = selectors.cache_hits_daily(selectors.Window.last(7))
    overall = selectors.cache_hits(daily)

    by_day = {row["day"]: row for row in daily}
    assert len(daily) == 7
    assert by_day[today]["app"] == {"prompt_tokens": 400, "cached_tokens": 56, "hit_rate": 0.14}
    assert by_day[today]["partners"] == {"prompt_tokens": 50, "cached_tokens": 40, "hit_rate": 0.8}
    assert by_day[yesterday]["app"] == {"prompt_tokens": 0, "cached_tokens": 0, "hit_rate": None}
    assert overall["partners"]["hit_rate"] == 50 / 60 and overall["all"]["hit_rate"] == 106 / 460


def test_top_users_are_ranked_by_tokens(data: Any) -> None:
    top = selectors.top_users(selectors.Window.last(7))
    assert [(row["email"], row["turns"], row["tokens"]) for row in top] == [
        ("ada@example.com", 2, 10 + 21 + 5 + 11),
        ("bob@example.com", 2, 7 + 3 + 2),
    ]


def test_top_partners_are_ranked_by_tokens_of_their_completions(data: Any) -> None:
    from partners.models import ApiKey, Completion

    big = ApiKey.objects.create(user=data["ada"], name="acme", prefix="wk_acme1", secret_hash="0" * 64)
    small = ApiKey.objects.create(user=data["bob"], name="tiny", prefix="wk_tiny1", secret_hash="1" * 64)
    for tokens in (100, 50):
        Completion.objects.create(
            api_key=big, user=data["ada"], model="whale-chat", prompt_tokens=tokens, completion_tokens=1
        )
    Completion.objects.create(api_key=small, user=data["bob"], model="whale-chat", prompt_tokens=9, completion_tokens=1)

    top = selectors.top_partners(selectors.Window.last(7))

    assert top == [
        {"key": "acme", "prefix": "wk_acme1", "email": "ada@example.com", "requests": 2, "tokens": 152},
        {"key": "tiny", "prefix": "wk_tiny1", "email": "bob@example.com", "requests": 1, "tokens": 10},
    ]


def test_rejections_are_summed_by_limit_and_by_model(days: tuple[date, date]) -> None:
    for _ in range(3):
        metrics.rejection_observed(
            status=429, code="requests_per_minute_exceeded", extra={"limit": "requests_per_minute"}
        )
    metrics.rejection_observed(status=429, code="tokens_per_day_exceeded", extra={"limit": "tokens_per_day"})
    metrics.rejection_observed(status=503, code="server_busy", extra={"model": "whale-r1"})
    metrics.rejection_observed(status=503, code="server_busy", extra={"model": "whale-r1"})
    metrics.rejection_observed(status=503, code="queue_unavailable", extra={})

    found = selectors.rejections(selectors.Window.last(7))

    assert found["by_limit"] == {"requests_per_minute": 3, "tokens_per_day": 1}
    assert found["busy_by_model"] == {"whale-r1": 2}
    assert dict((day, (limited, busy)) for day, limited, busy in found["daily"])[days[1]] == (4, 2)


def test_workers_and_queues_are_read_live_from_heartbeats_and_redis(settings: Any, _private_gpu_queue: str) -> None:
    prefix = settings.WHALE_REDIS_PREFIX
    redis = get_redis()
    seen = datetime.now(UTC).timestamp() - 4
    redis.hset(
        protocol.worker_heartbeat_key(prefix, "gpu-1"),
        mapping={
            "worker_id": "gpu-1",
            "model": "whale-tiny-r1",
            "in_flight": "3",
            "capacity": "64",
            "queues": _private_gpu_queue,
            "last_seen_epoch": f"{seen:.3f}",
        },
    )
    redis.sadd(protocol.workers_index_key(prefix), "gpu-1")
    redis.rpush(_private_gpu_queue, "waiting-1", "waiting-2")

    [worker] = selectors.workers()
    queues = {row["model"]: row for row in selectors.queues()}

    assert (worker["worker_id"], worker["model"], worker["in_flight"], worker["capacity"]) == (
        "gpu-1",
        "whale-tiny-r1",
        3,
        64,
    )
    assert 3.5 <= worker["seconds_since_seen"] < 30
    assert (queues["whale-r1"]["depth"], queues["whale-r1"]["workers"]) == (2, 1)


def test_an_unknown_range_falls_back_to_the_default() -> None:
    assert selectors.window_days("30") == 30
    assert selectors.window_days("31") == selectors.DEFAULT_DAYS
    assert selectors.window_days("x; drop table") == selectors.DEFAULT_DAYS
    assert selectors.window_days(None) == selectors.DEFAULT_DAYS
