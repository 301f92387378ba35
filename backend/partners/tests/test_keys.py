"""API key life cycle: created with the secret shown once, stored hashed, listed, revoked or expired at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from partners.models import ApiKey
from ratelimits.models import UsageDay
from ratelimits.tests.factories import api_for, make_user

from .factories import make_key

pytestmark = pytest.mark.django_db


def models_status(secret: str) -> int:
    return Client().get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code


def test_creating_a_key_shows_its_secret_once_and_stores_only_a_hash(user) -> None:
    api = api_for(user)

    created = api.post("/api/v1/api-keys", {"name": "My bot"}, format="json")
    listed = api.get("/api/v1/api-keys")

    assert created.status_code == 201
    body = created.json()
    secret = body["secret"]
    assert secret.startswith(body["prefix"]) and body["prefix"].startswith("sk-")
    assert body["status"] == "active" and body["tier"] is None
    assert created["Cache-Control"] == "no-store"
    key = ApiKey.objects.get(id=body["id"])
    assert secret not in {key.secret_hash, key.prefix} and len(key.secret_hash) == 64
    assert [k["name"] for k in listed.json()["data"]] == ["My bot"]
    assert "secret" not in listed.json()["data"][0]
    assert models_status(secret) == 200


def test_a_revoked_key_stops_working_at_once(user) -> None:
    created = make_key(user)
    assert models_status(created.secret) == 200

    response = api_for(user).delete(f"/api/v1/api-keys/{created.key.id}")

    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert models_status(created.secret) == 401


def test_an_expired_key_stops_working(user) -> None:
    created = make_key(user, expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert models_status(created.secret) == 401


def test_a_key_cannot_be_created_already_expired(user) -> None:
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()

    response = api_for(user).post("/api/v1/api-keys", {"name": "Old", "expires_at": past}, format="json")

    assert response.status_code == 400
    assert "expires_at" in response.json()["error"]["fields"]


def test_a_wrong_secret_with_a_real_prefix_is_refused(user) -> None:
    created = make_key(user)

    assert models_status(created.secret[:-4] + "AAAA") == 401


def test_other_users_cannot_see_or_revoke_a_key(user) -> None:
    created = make_key(user)
    mallory = api_for(make_user())

    assert mallory.get("/api/v1/api-keys").json()["data"] == []
    assert mallory.delete(f"/api/v1/api-keys/{created.key.id}").status_code == 404
    assert models_status(created.secret) == 200


def test_a_user_may_hold_only_so_many_live_keys(user, settings) -> None:
    settings.WHALE_API_KEYS_PER_USER = 2
    api = api_for(user)
    for name in ("a", "b"):
        assert api.post("/api/v1/api-keys", {"name": name}, format="json").status_code == 201

    response = api.post("/api/v1/api-keys", {"name": "c"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_keys"


def test_a_key_of_an_inactive_user_does_not_work(user) -> None:
    created = make_key(user)
    user.is_active = False
    user.save()

    assert models_status(created.secret) == 401


def test_a_key_of_a_suspended_user_stops_working_even_if_the_account_is_switched_back_on(user) -> None:
    from accounts.services import user_suspend

    created = make_key(user)
    assert models_status(created.secret) == 200
    user_suspend(user=user, reason="abuse")
    assert models_status(created.secret) == 401

    user.is_active = True  # an operator flips the flag back by hand, but the suspension stands
    user.save(update_fields=["is_active"])
    assert models_status(created.secret) == 401


def test_a_keys_usage_by_day_lists_each_day_newest_first_with_zeros_for_unused_days(user) -> None:
    key = make_key(user).key
    other_key = make_key(user).key
    today = timezone.now().date()
    UsageDay.objects.create(
        user=user,
        api_key_id=key.id,
        date=today - dt.timedelta(days=2),
        turns=3,
        errors=1,
        prompt_tokens=100,
        cached_tokens=64,
        completion_tokens=20,
        reasoning_tokens=8,
    )
    UsageDay.objects.create(user=user, api_key_id=other_key.id, date=today, turns=5, prompt_tokens=9)
    UsageDay.objects.create(user=user, api_key_id=None, date=today, turns=7, prompt_tokens=9)

    response = api_for(user).get(f"/api/v1/api-keys/{key.id}/usage?days=3")

    assert response.status_code == 200
    days = response.json()["data"]
    assert [day["date"] for day in days] == [str(today - dt.timedelta(days=n)) for n in range(3)]
    assert days[0] == {
        "date": str(today),
        "requests": 0,
        "prompt_tokens": 0,
        "cached_tokens": 0,
        "completion_tokens": 0,
        "reasoning_tokens": 0,
        "errors": 0,
    }
    assert days[2] == {
        "date": str(today - dt.timedelta(days=2)),
        "requests": 4,
        "prompt_tokens": 100,
        "cached_tokens": 64,
        "completion_tokens": 20,
        "reasoning_tokens": 8,
        "errors": 1,
    }
    assert len(api_for(user).get(f"/api/v1/api-keys/{key.id}/usage").json()["data"]) == 30


def test_another_users_key_has_no_usage_to_show(user) -> None:
    key = make_key(user).key

    response = api_for(make_user()).get(f"/api/v1/api-keys/{key.id}/usage")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("days", ["0", "91", "-1", "7.5", "week", "9" * 40])
def test_the_usage_window_is_bounded(user, days) -> None:
    key = make_key(user).key

    response = api_for(user).get(f"/api/v1/api-keys/{key.id}/usage", {"days": days})

    assert response.status_code == 400
    assert "days" in response.json()["error"]["fields"]
