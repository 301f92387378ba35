"""Completions on the turn pipeline without a GPU: queued like app turns, settled exactly once, reaped, exported."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.utils import timezone
from turns import services as turn_services
from turns.tests.worker_double import emit, run_turn, take_lease

from common.redis import get_redis
from partners import services
from partners.models import Completion
from partners.params import CompletionParams
from ratelimits import store
from ratelimits.admission import PRIORITY_STEPS, priority_queue_name
from ratelimits.models import UsageDay
from ratelimits.selectors import limits_for_api_key

from .factories import make_key

pytestmark = pytest.mark.django_db


def start(key, **kwargs):
    defaults = {
        "model": "deepseek-chat",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "stream": False,
        "max_tokens": 50,
        "temperature": 0.2,
    }
    return services.completion_start(api_key=key, params=CompletionParams(**{**defaults, **kwargs}))


def queued_payloads(queue: str) -> list[dict]:
    raws = [raw for step in PRIORITY_STEPS for raw in get_redis().lrange(priority_queue_name(queue, step), 0, -1)]
    return [json.loads(base64.b64decode(json.loads(raw)["body"]))[0][0] for raw in raws]


def test_a_completion_is_queued_as_a_turn_task_at_the_keys_priority(user, gpu_queue) -> None:
    key = make_key(user).key

    started = start(key)

    (payload,) = queued_payloads(gpu_queue)
    assert payload["turn_id"] == str(started.completion.id)
    assert payload["model"] == "whale-chat" and payload["reasoning"] is False
    assert payload["messages"][0] == {"role": "system", "content": "Be brief."}
    assert payload["sampling"]["max_tokens"] == 50 and payload["sampling"]["temperature"] == 0.2
    assert get_redis().llen(priority_queue_name(gpu_queue, 3)) == 1  # the partner tier's priority step


def test_finishing_a_completion_settles_it_and_its_usage_exactly_once(user) -> None:
    key = make_key(user).key
    completion_id = start(key).completion.id
    run_turn(completion_id, ["Hmm."], ["Hello."])

    assert turn_services.turn_settle(turn_id=completion_id)
    turn_services.turn_settle(turn_id=completion_id)

    completion = Completion.objects.get(id=completion_id)
    assert completion.status == "done" and completion.completion_tokens == 11
    row = UsageDay.objects.get(api_key_id=key.id)
    assert (row.turns, row.prompt_tokens, row.completion_tokens) == (1, 7, 11)
    counters = store.read(limits_for_api_key(api_key=key).subject)
    assert counters.tokens_today == 18 and counters.in_flight == 0


def test_aborting_a_completion_no_worker_took_ends_it_at_once(user) -> None:
    key = make_key(user).key
    completion_id = start(key).completion.id

    services.completion_cancel(turn_id=completion_id)

    assert Completion.objects.get(id=completion_id).status == "cancelled"
    assert store.read(limits_for_api_key(api_key=key).subject).in_flight == 0


def test_the_reaper_ends_a_completion_whose_worker_vanished(user) -> None:
    key = make_key(user).key
    completion_id = start(key).completion.id
    take_lease(completion_id)
    emit(completion_id, "started", {"model": "whale-chat"})
    get_redis().delete(f"{get_redis_prefix()}:turn:{completion_id}:lease")  # the worker died; its lease lapsed
    Completion.objects.filter(id=completion_id).update(created_at=timezone.now() - dt.timedelta(minutes=1))

    assert turn_services.turns_reap() == 1

    completion = Completion.objects.get(id=completion_id)
    assert completion.status == "failed" and completion.error_code == "worker_lost"
    counters = store.read(limits_for_api_key(api_key=key).subject)
    assert counters.in_flight == 0 and counters.turns_today == 0


def test_the_reaper_leaves_a_running_completion_alone(user) -> None:
    key = make_key(user).key
    completion_id = start(key).completion.id
    take_lease(completion_id)
    emit(completion_id, "started", {"model": "whale-chat"})
    Completion.objects.filter(id=completion_id).update(created_at=timezone.now() - dt.timedelta(minutes=1))

    assert turn_services.turns_reap() == 0
    assert Completion.objects.get(id=completion_id).status == "queued"


def get_redis_prefix() -> str:
    from django.conf import settings

    return settings.WHALE_REDIS_PREFIX


def test_usage_exports_as_csv_per_day_and_source(user) -> None:
    key = make_key(user, name="=cmd()").key
    today = timezone.now().date()
    UsageDay.objects.create(user=user, date=today, api_key_id=None, turns=2, prompt_tokens=10, completion_tokens=5)
    UsageDay.objects.create(user=user, date=today, api_key_id=key.id, turns=1, completion_tokens=7)
    from ratelimits.tests.factories import api_for

    response = api_for(user).get(f"/api/v1/usage.csv?since={today}&until={today}")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("date,source,key_prefix,key_name,turns")
    assert lines[1] == f"{today},app,,,2,0,10,5,0,15,0,0" or lines[2] == f"{today},app,,,2,0,10,5,0,15,0,0"
    key_line = next(line for line in lines if ",api_key," in line)
    assert f"sk-{key.prefix}" in key_line and "'=cmd()" in key_line  # no formula for a spreadsheet to run


def test_the_usage_export_ends_with_cached_tokens_and_errors(user) -> None:
    from ratelimits.tests.factories import api_for

    key = make_key(user).key
    today = timezone.now().date()
    UsageDay.objects.create(user=user, date=today, api_key_id=key.id, prompt_tokens=40, cached_tokens=32, errors=2)

    lines = api_for(user).get(f"/api/v1/usage.csv?since={today}&until={today}").content.decode().splitlines()

    assert lines[0].endswith(",total_tokens,cached_tokens,errors")
    assert lines[1].endswith(",40,32,2")


def test_a_settled_completion_adds_its_cached_tokens_and_a_failed_one_an_error_to_the_keys_day(user) -> None:
    key = make_key(user).key
    cached_id, failed_id = start(key).completion.id, start(key).completion.id
    take_lease(cached_id)
    emit(
        cached_id,
        "done",
        {"status": "done", "usage": {"prompt_tokens": 40, "completion_tokens": 3, "cached_tokens": 32}},
    )
    take_lease(failed_id)
    emit(failed_id, "error", {"code": "engine_failed", "message": "Boom."})

    assert turn_services.turn_settle(turn_id=cached_id) and turn_services.turn_settle(turn_id=failed_id)

    assert Completion.objects.get(id=cached_id).cached_tokens == 32
    row = UsageDay.objects.get(api_key_id=key.id)
    assert (row.turns, row.prompt_tokens, row.cached_tokens, row.completion_tokens, row.errors) == (1, 40, 32, 3, 1)


def test_usage_export_refuses_a_backwards_or_huge_range(user) -> None:
    from ratelimits.tests.factories import api_for

    api = api_for(user)
    assert api.get("/api/v1/usage.csv?since=2026-02-01&until=2026-01-01").status_code == 400
    assert api.get("/api/v1/usage.csv?since=2020-01-01&until=2026-01-01").status_code == 400
    assert api.get("/api/v1/usage.csv?since=yesterday").status_code == 400
