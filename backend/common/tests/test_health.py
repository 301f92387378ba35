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
