from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_healthz_says_the_process_is_alive(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_and_redis(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_when_redis_is_unreachable(client: Client, settings, monkeypatch) -> None:
    import redis

    from common import views

    monkeypatch.setattr(
        views, "get_redis", lambda: redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error")


def test_unknown_api_path_is_a_json_404(client: Client) -> None:
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_readyz_answers_within_its_budget_when_the_database_does_not(client: Client, settings, monkeypatch) -> None:
    """WHALE_READY_TIMEOUT_SECONDS bounds the probe, not the pool's own (longer) wait for a connection."""
    import threading
    import time

    from common import views

    released = threading.Event()

    def stuck(*, timeout: float) -> None:
        released.wait(10)  # a database that accepts the connection and never answers

    monkeypatch.setattr(views, "database_ping", stuck)
    settings.WHALE_READY_TIMEOUT_SECONDS = 0.5
    started = time.monotonic()
    try:
        response = client.get("/readyz")
    finally:
        released.set()

    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "error: no answer within 0.5 s", "redis": "ok"}


@pytest.mark.django_db
def test_readyz_waits_for_a_pooled_connection_only_as_long_as_its_budget(settings) -> None:
    import time

    from django.db import connection
    from psycopg_pool import PoolTimeout

    from common.db import database_ping

    pool = connection.pool
    if pool is None:
        pytest.skip("no connection pool")
    held = []
    try:
        while True:  # every connection busy, as in a burst (this test's own transaction holds one)
            held.append(pool.getconn(timeout=2))
    except PoolTimeout:
        pass
    started = time.monotonic()
    try:
        with pytest.raises(PoolTimeout):
            database_ping(timeout=0.3)
    finally:
        for conn in held:
            pool.putconn(conn)
    assert time.monotonic() - started < 1.5
