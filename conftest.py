"""Shared pytest fixtures: real Redis, with this run's keys removed after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _clean_redis_keys() -> Iterator[None]:
    yield
    from django.conf import settings

    from common.redis import get_redis

    client = get_redis()
    keys = list(client.scan_iter(match=f"{settings.WHALE_REDIS_PREFIX}:*", count=1000))
    if keys:
        client.delete(*keys)
