"""Limits a partner sets for each of its end users: per minute and per day, 429 in either dialect's shape,
set through the keys API and the admin, with usage by end user in the admin. Real Redis and Postgres."""

from __future__ import annotations

import json
import time
import types
from typing import Any

import pytest
from django.test import Client
from turns import services as turn_services
from turns.tests.worker_double import run_turn

from common.errors import RateLimited
from partners import services
from partners.end_users import end_user_subject
from partners.models import ApiKey
from partners.params import CompletionParams
from ratelimits import store
from ratelimits.selectors import limits_for_api_key
from ratelimits.tests.factories import api_for, make_user

from .factories import make_key
from .test_services import queued_payloads

pytestmark = pytest.mark.django_db


def start(key: ApiKey, end_user: str = "", **params: Any) -> Any:
    defaults: dict[str, Any] = {
        "model": "whale-chat",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 50,
    }
    return services.completion_start(
        api_key=key, params=CompletionParams(**{**defaults, **params, "end_user": end_user})
    )


def post_v1(secret: str, **body: Any) -> Any:
    body = {"model": "whale-chat", "messages": [{"role": "user", "content": "Hi"}], "stream": True, **body}
    return Client().post(
        "/v1/chat/completions", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )


def test_an_end_users_requests_per_minute_are_limited_apart_from_other_end_users(user, monkeypatch) -> None:
    # The counters' clock held in the middle of a minute, so the window cannot roll over mid-test.
    frozen = time.time() // 60 * 60 + 30
    monkeypatch.setattr(store, "time", types.SimpleNamespace(time=lambda: frozen))
    created = make_key(user, end_user_requests_per_minute=1)
    start(created.key, "alice")

    refused = post_v1(created.secret, user="alice")

    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["type"] == "rate_limit_error" and error["code"] == "end_user_requests_per_minute_exceeded"
    assert int(refused["Retry-After"]) == 30
    start(created.key, "bob")
    start(created.key)  # no end user: the key's own limits only
    # The refused request gave back what the key's admission had taken for it.
    assert store.read(limits_for_api_key(api_key=created.key).subject).in_flight == 3


def test_an_end_user_limit_is_a_429_in_anthropics_shape_too(user) -> None:
    created = make_key(user, end_user_requests_per_minute=0)
    body = {"model": "whale-chat", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]}

    refused = Client().post(
        "/anthropic/v1/messages",
        json.dumps({**body, "metadata": {"user_id": "alice"}}),
        content_type="application/json",
        HTTP_X_API_KEY=created.secret,
    )

    assert refused.status_code == 429
    assert refused.json() == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Too many requests this minute for this end user (`user`)."},
    }
    assert int(refused["Retry-After"]) >= 1


def test_an_end_users_tokens_per_day_cap_the_answer_then_refuse_until_midnight(user, gpu_queue) -> None:
    key = make_key(user, end_user_tokens_per_day=40).key
    subject = end_user_subject(api_key_id=key.id, end_user="alice")

    first = start(key, "alice", max_tokens=500)
    (payload,) = queued_payloads(gpu_queue)
    assert payload["sampling"]["max_tokens"] <= 40 - first.admitted.prompt_tokens_estimate
    run_turn(first.completion.id, ["Hmm."], ["Hello."])  # the double reports 7 + 11 tokens
    assert turn_services.turn_settle(turn_id=first.completion.id)
    assert store.read(subject).tokens_today == 18  # the reservation settled to what was used

    with pytest.raises(RateLimited) as refused:
        start(key, "alice", max_tokens=500, messages=[{"role": "user", "content": "Tell me more. " * 20}])

    assert refused.value.code == "end_user_tokens_per_day_exceeded"  # a 429 in both dialects, not a 402
    assert refused.value.retry_after > 60
    start(key, "bob", max_tokens=5)


def test_a_partner_sets_and_lifts_its_end_user_limits_through_the_keys_api(user) -> None:
    api = api_for(user)

    created = api.post("/api/v1/api-keys", {"name": "Bot", "end_user_tokens_per_day": 5000}, format="json").json()
    changed = api.patch(
        f"/api/v1/api-keys/{created['id']}",
        {"end_user_requests_per_minute": 10, "end_user_tokens_per_day": None},
        format="json",
    )

    assert created["end_user_tokens_per_day"] == 5000 and created["end_user_requests_per_minute"] is None
    assert changed.status_code == 200
    assert changed.json()["end_user_requests_per_minute"] == 10 and changed.json()["end_user_tokens_per_day"] is None
    key = ApiKey.objects.get(id=created["id"])
    assert (key.end_user_requests_per_minute, key.end_user_tokens_per_day, key.name) == (10, None, "Bot")


@pytest.mark.parametrize(
    "body",
    [{"end_user_requests_per_minute": -1}, {"end_user_tokens_per_day": 2**31}, {"end_user_tokens_per_day": "many"}],
)
def test_end_user_limits_must_be_whole_numbers_in_range(user, body) -> None:
    key = make_key(user).key

    response = api_for(user).patch(f"/api/v1/api-keys/{key.id}", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == set(body)


def test_another_users_key_cannot_be_changed(user) -> None:
    key = make_key(user).key

    response = api_for(make_user()).patch(f"/api/v1/api-keys/{key.id}", {"name": "Mine"}, format="json")

    assert response.status_code == 404
    assert ApiKey.objects.get(id=key.id).name == "test key"


def test_the_admin_shows_a_keys_usage_by_end_user_and_sets_its_limits(user) -> None:
    from accounts.models import User

    admin = User.objects.create_superuser(email="root@example.com", password="correct horse battery staple")
    client = Client()
    client.force_login(admin)
    key = make_key(user).key
    for end_user in ("alice", "alice", "bob", ""):
        completion = start(key, end_user).completion
        run_turn(completion.id, [], ["Hello."])
        turn_services.turn_settle(turn_id=completion.id)

    page = client.get(f"/admin/partners/apikey/{key.pk}/change/").content.decode()

    assert "Busiest end users" in page and "End user tokens per day" in page
    assert "<tr><td>alice</td><td>2</td><td>14</td><td>22</td><td>0</td></tr>" in page
    assert "<tr><td>bob</td><td>1</td><td>7</td><td>11</td><td>0</td></tr>" in page
