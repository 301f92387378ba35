"""Search turns per day: the tiers' seeded allowance, overrides, the Redis counter, and the usage panel."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from ratelimits.models import Tier
from ratelimits.search import search_turn_give_back, search_turn_take, search_turns_today
from ratelimits.selectors import limits_for_user

from .factories import api_for, limits, set_limits

NOON = 1_796_212_800.0  # 2026-12-02 12:00 UTC


@pytest.mark.django_db
def test_the_seeded_tiers_have_a_search_allowance() -> None:
    assert dict(Tier.objects.values_list("slug", "search_turns_per_day")) == {
        "free": 50,
        "pro": 500,
        "partner": None,
        "staff": None,
    }


@pytest.mark.django_db
def test_a_users_override_wins_over_the_tier(user: User) -> None:
    set_limits(user, "free", search_turns_per_day=3)
    assert limits_for_user(user=user).search_turns_per_day == 3
    set_limits(user, "pro", search_turns_per_day=None)
    assert limits_for_user(user=user).search_turns_per_day == 500


def test_search_turns_are_taken_until_the_days_allowance_is_spent() -> None:
    subject = limits(search_turns_per_day=2)

    assert [search_turn_take(limits=subject, now=NOON) for _ in range(3)] == [True, True, False]
    assert search_turns_today(subject.subject, now=NOON) == 2
    # The next UTC day starts again.
    assert search_turn_take(limits=subject, now=NOON + 86_400)


def test_a_search_turn_given_back_frees_its_place_and_never_goes_negative() -> None:
    subject = limits(search_turns_per_day=1)
    assert search_turn_take(limits=subject, now=NOON)
    search_turn_give_back(subject=subject.subject, now=NOON)
    search_turn_give_back(subject=subject.subject, now=NOON)
    assert search_turns_today(subject.subject, now=NOON) == 0
    assert search_turn_take(limits=subject, now=NOON)


def test_unlimited_search_is_never_refused() -> None:
    subject = limits(search_turns_per_day=None)
    assert all(search_turn_take(limits=subject, now=NOON) for _ in range(20))


@pytest.mark.django_db
def test_the_usage_panel_shows_the_search_allowance(user: User, settings: Any) -> None:
    set_limits(user, "free")
    body = api_for(user).get("/api/v1/me/usage").json()
    assert body["limits"]["search_turns_per_day"] == 50
    assert body["settled"]["search_turns"] == 0
