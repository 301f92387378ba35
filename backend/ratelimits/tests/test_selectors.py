"""The limits that apply to a user: the assigned tier and its overrides, else the default tier, in one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ratelimits.defaults import DEFAULT_TIER_BY_SLUG
from ratelimits.models import Tier
from ratelimits.selectors import limits_for_user

from .factories import make_user, set_limits

pytestmark = pytest.mark.django_db


def _limits_in_one_query(user):
    with CaptureQueriesContext(connection) as queries:
        limits = limits_for_user(user=user)
    assert len(queries) == 1, [query["sql"] for query in queries]
    return limits


def test_a_user_without_an_assignment_gets_the_default_tier_in_one_query() -> None:
    free = Tier.objects.get(slug="free")
    # Other users on the same tier and on others, with overrides of their own: none of theirs applies.
    set_limits(make_user(), tier="free", turns_per_day=1)
    set_limits(make_user(), tier="pro", turns_per_day=2)

    limits = _limits_in_one_query(make_user())

    assert (limits.tier, limits.priority) == ("free", free.priority)
    assert (limits.turns_per_day, limits.concurrent_turns) == (free.turns_per_day, free.concurrent_turns)


def test_an_assigned_user_gets_the_tier_and_its_overrides_in_one_query() -> None:
    user = make_user()
    set_limits(make_user(), tier="pro", turns_per_day=2)
    set_limits(user, tier="pro", turns_per_day=7, files_per_day=3)
    pro = Tier.objects.get(slug="pro")

    limits = _limits_in_one_query(user)

    assert (limits.tier, limits.priority) == ("pro", pro.priority)
    assert (limits.turns_per_day, limits.files_per_day) == (7, 3)
    assert limits.requests_per_minute == pro.requests_per_minute  # not overridden: the tier's


def test_an_assignment_to_the_default_tier_still_applies_its_overrides() -> None:
    user = make_user()
    set_limits(user, tier="free", turns_per_day=9)

    assert _limits_in_one_query(user).turns_per_day == 9


def test_staff_get_the_staff_tier_and_a_missing_tier_row_its_built_in_defaults() -> None:
    Tier.objects.filter(slug="staff").delete()

    limits = _limits_in_one_query(make_user(is_staff=True))

    assert limits.tier == "staff"
    assert limits.turns_per_day == DEFAULT_TIER_BY_SLUG["staff"]["turns_per_day"]
