"""Shared pytest fixtures: real Redis under this run's key prefix, cleaned after each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _private_gpu_queue(settings: Any) -> Iterator[str]:
    """Each test run queues turns to its own Redis list, so concurrent runs and workers never share one."""
    from ratelimits.admission import forget_learned_capacity
    from serving.registry import forget_staff_overrides

    queue = f"{settings.WHALE_REDIS_PREFIX}:gpu"
    settings.WHALE_MODELS = {
        "whale-r1": {"display_name": "DeepThink (R1)", "queue": queue, "reasoning": True},
        "whale-chat": {"display_name": "Chat", "queue": queue, "reasoning": False},
    }
    forget_staff_overrides()  # a test's disabled model must not outlive its rolled-back rows
    forget_learned_capacity()
    yield queue
    forget_staff_overrides()
    forget_learned_capacity()


@pytest.fixture(autouse=True)
def _clean_redis_keys() -> Iterator[None]:
    yield
    from django.conf import settings

    from common.redis import get_redis

    client = get_redis()
    keys = list(client.scan_iter(match=f"{settings.WHALE_REDIS_PREFIX}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Closes every connection and pool this process holds before pytest-django drops the test database."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    with django_db_blocker.unblock():
        # Async tests' sync_to_async calls run in asgiref's one shared thread, which keeps its connection.
        SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)
        for connection in connections.all():
            close_pool = getattr(connection, "close_pool", None)
            if close_pool is not None:
                close_pool()
