"""Limits on the app API: each one refuses with its own code and the rate-limit headers; settling is exactly once."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import override_settings
from turns import services, streams
from turns.tests.worker_double import run_turn

from chat.models import Conversation, Message
from common.redis import get_redis
from config.celery import app as celery_app
from ratelimits import store
from ratelimits.admission import priority_queue_name
from ratelimits.models import UsageDay
from ratelimits.selectors import limits_for_user

from .factories import api_for, make_user, set_limits

pytestmark = pytest.mark.django_db


def send(user: Any, content: str = "Why is the sky blue?", deepthink: bool = True) -> Any:
    conversation = Conversation.objects.create(user=user)
    return api_for(user).post(
        f"/api/v1/conversations/{conversation.id}/messages", {"content": content, "deepthink": deepthink}, format="json"
    )


def policy_names(response: Any) -> list[str]:
    return [part.split(";")[0].strip().strip('"') for part in response["RateLimit-Policy"].split(",")]


def test_an_admitted_message_carries_the_ratelimit_headers(user) -> None:
    set_limits(user, requests_per_minute=5, turns_per_day=10, tokens_per_day=100_000)

    response = send(user)

    assert response.status_code == 202, response.content
    assert policy_names(response) == ["minute", "day", "deepthink", "tokens", "concurrent"]
    assert '"minute";q=5;w=60' in response["RateLimit-Policy"]
    assert '"minute";r=4;' in response["RateLimit"]
    assert '"day";r=9;' in response["RateLimit"]


@pytest.mark.parametrize(
    ("limit", "value", "allowed"),
    [
        ("requests_per_minute", 2, 2),
        ("turns_per_day", 3, 3),
        ("concurrent_turns", 1, 1),
    ],
)
def test_each_limit_refuses_the_request_over_it_with_its_own_code(user, limit, value, allowed) -> None:
    set_limits(user, **{limit: value})

    statuses = [send(user).status_code for _ in range(allowed)]
    refused = send(user)

    assert statuses == [202] * allowed
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == f"{limit}_exceeded"
    assert error["limit"] == limit
    assert int(refused["Retry-After"]) >= 1
    assert error["retry_after"] == int(refused["Retry-After"])
    assert "RateLimit" in refused and "RateLimit-Policy" in refused


def test_the_daily_limit_retry_after_points_at_midnight(user) -> None:
    set_limits(user, turns_per_day=1)
    send(user)

    refused = send(user)

    counters = store.read(limits_for_user(user=user).subject)
    assert abs(int(refused["Retry-After"]) - counters.seconds_to_next_day) <= 2


def test_a_refused_request_takes_nothing(user) -> None:
    set_limits(user, turns_per_day=1)
    send(user)
    send(user)
    send(user)

    counters = store.read(limits_for_user(user=user).subject)
    assert counters.turns_today == 1
    assert counters.requests_this_minute == 1
    assert Message.objects.filter(role=Message.Role.ASSISTANT).count() == 1


def test_the_token_allowance_caps_the_answer_and_then_refuses(user, gpu_queue) -> None:
    set_limits(user, tokens_per_day=300)

    first = send(user, content="hi")
    second = send(user, content="hi")

    assert first.status_code == 202
    free_list = priority_queue_name(gpu_queue, limits_for_user(user=user).priority)
    task = json.loads(get_redis().lrange(free_list, 0, -1)[0])

    sampling = json.loads(base64.b64decode(task["body"]))[0][0]["sampling"]
    assert 16 <= sampling["max_tokens"] < 300  # what was left of the day's tokens after the prompt
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "tokens_per_day_exceeded"


def test_the_concurrency_slot_frees_when_the_turn_ends(user) -> None:
    set_limits(user, concurrent_turns=1)
    turn_id = send(user).json()["assistant_message"]["id"]
    assert send(user).status_code == 429

    run_turn(turn_id, ["Hmm."], ["Blue."])
    services.turn_settle(turn_id=turn_id)

    assert send(user).status_code == 202


def test_a_message_longer_than_the_tier_allows_is_a_400(user) -> None:
    set_limits(user, max_message_chars=10)

    response = send(user, content="x" * 11)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "message_too_long"
    assert "content" in response.json()["error"]["fields"]


def test_a_conversation_longer_than_the_tier_context_is_a_400(user) -> None:
    set_limits(user, max_context_tokens=50)

    response = send(user, content="word " * 100)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"


@override_settings(WHALE_DEEPTHINK_FALLBACK=False)
def test_a_spent_deepthink_allowance_refuses_deepthink_when_fallback_is_off(user) -> None:
    set_limits(user, reasoning_turns_per_day=1)
    assert send(user).status_code == 202

    refused = send(user)
    chat = send(user, deepthink=False)

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "reasoning_turns_per_day_exceeded"
    assert chat.status_code == 202


@override_settings(WHALE_DEEPTHINK_FALLBACK=True)
def test_a_spent_deepthink_allowance_falls_back_to_the_chat_model_and_says_so(user) -> None:
    set_limits(user, reasoning_turns_per_day=1)
    send(user)

    response = send(user)

    assert response.status_code == 202
    body = response.json()
    assert body["fallback"] == {"from": "whale-r1", "to": "whale-chat", "reason": "reasoning_turns_per_day_exceeded"}
    assert body["assistant_message"]["model"] == "whale-chat"
    assert body["assistant_message"]["deepthink"] is False
    queued = get_redis().xrange(streams.keys_for(body["assistant_message"]["id"]).events)[0][1]
    assert json.loads(queued["data"])["fallback"]["to"] == "whale-chat"


def test_settling_charges_what_the_turn_used_exactly_once(user) -> None:
    set_limits(user, tokens_per_day=100_000)
    turn_id = send(user).json()["assistant_message"]["id"]
    subject = limits_for_user(user=user).subject
    reserved = store.read(subject).tokens_today
    assert reserved > 18

    run_turn(turn_id, ["Let me think."], ["Blue."])  # the double reports 7 prompt + 11 completion tokens
    assert services.turn_settle(turn_id=turn_id)
    services.turn_settle(turn_id=turn_id)
    services.turn_settle(turn_id=turn_id)

    counters = store.read(subject)
    assert counters.tokens_today == 18
    assert counters.in_flight == 0
    row = UsageDay.objects.get(user=user, api_key_id=None)
    assert (row.turns, row.reasoning_turns, row.prompt_tokens, row.completion_tokens) == (1, 1, 7, 11)


def test_a_turn_that_fails_on_our_side_gives_its_turn_back(user) -> None:
    set_limits(user, turns_per_day=1)
    turn_id = send(user).json()["assistant_message"]["id"]
    from turns.tests.worker_double import emit, take_lease

    take_lease(turn_id)
    emit(turn_id, "error", {"code": "engine_failed", "message": "Boom."})
    services.turn_settle(turn_id=turn_id)

    assert store.read(limits_for_user(user=user).subject).turns_today == 0
    assert send(user).status_code == 202


def test_the_days_usage_counts_cached_prompt_tokens_and_errors_of_app_turns(user) -> None:
    from turns.tests.worker_double import emit, take_lease

    set_limits(user)
    cached_id, failed_id = (send(user).json()["assistant_message"]["id"] for _ in range(2))
    take_lease(cached_id)
    emit(
        cached_id,
        "done",
        {"status": "done", "usage": {"prompt_tokens": 40, "completion_tokens": 3, "cached_tokens": 32}},
    )
    take_lease(failed_id)
    emit(failed_id, "error", {"code": "engine_failed", "message": "Boom."})

    assert services.turn_settle(turn_id=cached_id) and services.turn_settle(turn_id=failed_id)

    row = UsageDay.objects.get(user=user, api_key_id=None)
    assert (row.turns, row.prompt_tokens, row.cached_tokens, row.errors) == (1, 40, 32, 1)


def test_a_send_that_cannot_be_queued_gives_everything_back(user, monkeypatch) -> None:
    set_limits(user, turns_per_day=1)
    from kombu.exceptions import OperationalError

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("broker down")

    monkeypatch.setattr(celery_app, "send_task", broken)
    response = send(user)

    assert response.status_code == 503
    counters = store.read(limits_for_user(user=user).subject)
    assert (counters.turns_today, counters.tokens_today, counters.in_flight, counters.requests_this_minute) == (
        0,
        0,
        0,
        1,
    )


def test_staff_users_get_the_staff_tier_and_others_free(db) -> None:
    assert limits_for_user(user=make_user(is_staff=True)).tier == "staff"
    assert limits_for_user(user=make_user()).tier == "free"


def test_a_user_override_beats_the_tier(user) -> None:
    set_limits(user, tier="pro", turns_per_day=7)

    limits = limits_for_user(user=user)

    assert limits.tier == "pro" and limits.priority == 3
    assert limits.turns_per_day == 7
    assert limits.requests_per_minute == 60


def test_me_usage_shows_todays_usage_limits_and_what_is_left(user) -> None:
    set_limits(user, turns_per_day=5)
    send(user)

    response = api_for(user).get("/api/v1/me/usage")

    assert response.status_code == 200
    body = response.json()
    assert body["tier"] == "free"
    assert body["limits"]["turns_per_day"] == 5
    assert body["usage"]["turns_today"] == 1
    assert body["remaining"]["turns_today"] == 4
    assert body["usage"]["in_flight"] == 1
    assert "RateLimit" in response


def test_me_usage_needs_a_signed_in_user(db) -> None:
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/me/usage")
    assert response.status_code == 401


def test_usage_of_a_day_already_begun_is_added_in_one_query_inside_the_settles_transaction(user) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from ratelimits.services import usage_record

    today = timezone.now().date()
    usage_record(user_id=str(user.id), api_key_id=None, date=today, turns=1, prompt_tokens=10)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        usage_record(user_id=str(user.id), api_key_id=None, date=today, turns=1, prompt_tokens=5)

    # One upsert, no savepoint around it.
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["INSERT"]
    row = UsageDay.objects.get(user=user, date=today, api_key_id=None)
    assert (row.turns, row.prompt_tokens) == (2, 15)


@pytest.mark.django_db(transaction=True)  # its foreign key is checked at the commit
def test_usage_of_a_user_deleted_meanwhile_is_dropped_with_a_warning(caplog) -> None:
    import uuid

    from django.utils import timezone

    from ratelimits.services import usage_record

    usage_record(user_id=str(uuid.uuid4()), api_key_id=None, date=timezone.now().date(), turns=1)

    assert not UsageDay.objects.exists()
    assert "not recorded" in caplog.text
