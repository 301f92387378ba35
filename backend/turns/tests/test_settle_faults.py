"""Settling a turn when Postgres or Redis fails at each step: a retry always reaches the one right end state.

The database failures are real: the seam below terminates this process's own Postgres backend
(pg_terminate_backend) just before the write, so the write itself raises OperationalError from
psycopg, as when Postgres restarts. Redis failures are a ConnectionError at the one Redis call of
the step. The end state: the answer saved once, the day's usage equal to the answer's usage, the
slot free and the reserved tokens replaced by the used ones, once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
import redis
from django import db
from django.conf import settings
from django.db import OperationalError, connection

from accounts.models import User
from chat import sends
from chat import turn_store as answer_store
from chat.models import Conversation, Message
from partners.models import Completion
from partners.params import CompletionParams
from partners.services import completion_start
from partners.tests.factories import make_key
from ratelimits import services as ratelimit_services
from ratelimits import store
from ratelimits.models import UsageDay
from ratelimits.selectors import limits_for_api_key, limits_for_user
from ratelimits.tests.factories import set_limits
from turns import services

from .worker_double import run_turn

pytestmark = pytest.mark.django_db(transaction=True)

USED_TOKENS = 7 + 11  # what worker_double.run_turn reports


def _admin_connection() -> psycopg.Connection[Any]:
    params = connection.get_connection_params()
    for name in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(name, None)
    return psycopg.connect(**params, autocommit=True)


def _terminate_own_backend() -> None:
    """Ends this thread's Postgres session from another connection, as a server restart would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with _admin_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def _fail_once(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, fault: Callable[[], None]) -> list[int]:
    """Runs `fault` before the first call of target.name (then the real call happens and fails)."""
    real = getattr(target, name)
    calls: list[int] = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            fault()
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)
    return calls


def _redis_down() -> None:
    raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def _retry() -> None:
    """What the finalize task's retry starts with (Celery's Django fixup): broken connections are dropped."""
    db.close_old_connections()
    for conn in db.connections.all():
        if conn.connection is not None and conn.errors_occurred:
            conn.close()


@pytest.fixture
def user(transactional_db: Any) -> User:
    user = User.objects.create_user(email="ada@example.com", password="correct horse battery staple")
    set_limits(user, tokens_per_day=100_000)
    return user


def _finished_app_turn(user: User) -> str:
    conversation = Conversation.objects.create(user=user)
    created = sends.turn_send(user=user, conversation_id=conversation.id, content="Why?", deepthink=True)
    turn_id = str(created.assistant_message.id)
    run_turn(turn_id, ["Let me think."], ["Blue."])
    return turn_id


def _assert_settled_once(user: User, turn_id: str) -> None:
    message = Message.objects.get(id=turn_id)
    assert (message.status, message.content, message.completion_tokens) == ("done", "Blue.", 11)
    row = UsageDay.objects.get(user=user, api_key_id=None)
    assert (row.turns, row.reasoning_turns, row.prompt_tokens, row.completion_tokens) == (1, 1, 7, 11)
    counters = store.read(limits_for_user(user=user).subject)
    assert (counters.tokens_today, counters.in_flight, counters.turns_today) == (USED_TOKENS, 0, 1)
    assert store.reservation(turn_id) is None


def test_postgres_failing_at_the_usage_write_leaves_nothing_half_done_and_the_retry_settles_once(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    turn_id = _finished_app_turn(user)
    _fail_once(monkeypatch, ratelimit_services, "usage_record", _terminate_own_backend)

    with pytest.raises(OperationalError):
        services.turn_settle(turn_id=turn_id)

    _retry()
    # The message's update went with the failed transaction, and Redis was not touched yet.
    assert Message.objects.get(id=turn_id).status == "queued"
    assert not UsageDay.objects.filter(user=user).exists()
    assert store.read(limits_for_user(user=user).subject).in_flight == 1
    assert store.reservation(turn_id) is not None

    assert services.turn_settle(turn_id=turn_id) is True
    assert services.turn_settle(turn_id=turn_id) is False  # and again: nothing more

    _assert_settled_once(user, turn_id)


def test_postgres_failing_at_the_message_update_is_retried_the_same_way(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    turn_id = _finished_app_turn(user)
    _fail_once(monkeypatch, answer_store, "_message_fields", _terminate_own_backend)

    with pytest.raises(OperationalError):
        services.turn_settle(turn_id=turn_id)
    _retry()
    assert store.reservation(turn_id) is not None
    services.turn_settle(turn_id=turn_id)

    _assert_settled_once(user, turn_id)


def test_redis_failing_at_the_release_keeps_the_saved_answer_and_the_retry_releases_once(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    turn_id = _finished_app_turn(user)
    _fail_once(monkeypatch, store, "settle", _redis_down)

    with pytest.raises(redis.ConnectionError):
        services.turn_settle(turn_id=turn_id)

    # The database already has everything; only the Redis counters still hold the reservation.
    assert Message.objects.get(id=turn_id).status == "done"
    assert UsageDay.objects.get(user=user, api_key_id=None).completion_tokens == 11
    assert store.read(limits_for_user(user=user).subject).in_flight == 1

    assert services.turn_settle(turn_id=turn_id) is False  # already saved: only the release runs
    _assert_settled_once(user, turn_id)


def test_redis_failing_before_anything_is_written_changes_nothing(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    turn_id = _finished_app_turn(user)
    _fail_once(monkeypatch, store, "reservation", _redis_down)

    with pytest.raises(redis.ConnectionError):
        services.turn_settle(turn_id=turn_id)
    assert Message.objects.get(id=turn_id).status == "queued"

    services.turn_settle(turn_id=turn_id)
    _assert_settled_once(user, turn_id)


def test_a_turn_whose_reservation_is_gone_still_records_its_usage_from_its_row(user: User) -> None:
    """Redis restarted without persistence (or the hold lapsed): the answer's own row says whose and when."""
    turn_id = _finished_app_turn(user)
    store.get_redis().delete(store.reservation_key(turn_id))

    assert services.turn_settle(turn_id=turn_id) is True

    row = UsageDay.objects.get(user=user, api_key_id=None)
    message = Message.objects.get(id=turn_id)
    assert (row.turns, row.reasoning_turns, row.prompt_tokens, row.completion_tokens) == (1, 1, 7, 11)
    assert row.date == message.queued_at.date()


def test_a_partner_completion_failing_at_its_usage_write_is_retried_to_the_same_end(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key(user).key
    started = completion_start(
        api_key=key,
        params=CompletionParams(
            model="whale-chat", messages=[{"role": "user", "content": "Hi"}], stream=True, max_tokens=50
        ),
    )
    turn_id = str(started.completion.id)
    run_turn(turn_id, [], ["Hello."])
    _fail_once(monkeypatch, ratelimit_services, "usage_record", _terminate_own_backend)

    with pytest.raises(OperationalError):
        services.turn_settle(turn_id=turn_id)
    _retry()
    assert Completion.objects.get(id=turn_id).status == "queued"
    assert services.turn_settle(turn_id=turn_id) is True
    services.turn_settle(turn_id=turn_id)

    assert Completion.objects.get(id=turn_id).completion_tokens == 11
    row = UsageDay.objects.get(api_key_id=key.id)
    assert (row.turns, row.prompt_tokens, row.completion_tokens) == (1, 7, 11)
    counters = store.read(limits_for_api_key(api_key=key).subject)
    assert (counters.tokens_today, counters.in_flight) == (USED_TOKENS, 0)


def test_the_pool_replaces_a_connection_postgres_ended_instead_of_handing_it_out() -> None:
    """One restart must not fail the next request on every pooled connection (psycopg_pool's check).

    A pool of its own, built by Django from our settings the way the default one is, so what other
    tests left in the shared pool does not matter."""
    if not settings.DATABASES["default"].get("OPTIONS", {}).get("pool"):
        pytest.skip("the connection pool is off (DB_POOL_MAX_SIZE=0)")
    default = db.connections["default"]
    private = type(default)(copy.deepcopy(default.settings_dict), alias="pool-check")
    db.connections["pool-check"] = private  # Django looks its connections up by alias
    try:
        pool = private.pool
        pool.open(wait=True)
        held = [pool.getconn(timeout=10) for _ in range(2)]
        pids = [conn.execute("SELECT pg_backend_pid()").fetchone()[0] for conn in held]
        for conn in held:
            pool.putconn(conn)  # idle in the pool
        with _admin_connection() as admin:  # what a Postgres restart does to them
            admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [pids])

        for _ in range(3):  # the next requests' checkouts
            with private.cursor() as cursor:
                cursor.execute("SELECT 1")
                assert cursor.fetchone() == (1,)
            private.close()
    finally:
        private.close()
        private.close_pool()
        del db.connections["pool-check"]
