"""The test stack's own guard: a stack test's leftovers settle before its database is flushed."""

from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings

from common.redis import get_redis
from config.celery import app as backend_celery
from inference import protocol

from .stack import (
    UNACKED_KEY,
    backend_worker,
    forget_unacked,
    purge_run_queues,
    run_tasks_in_flight,
    serving,
    wait_until_quiet,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _notify(name: str, *args: object) -> None:
    backend_celery.send_task(name, args=list(args), queue=settings.WHALE_BACKEND_QUEUE)


def test_a_queued_task_is_in_flight_until_a_worker_has_run_it() -> None:
    _notify(protocol.TASK_SAVE_TITLE, str(uuid.uuid4()), str(uuid.uuid4()), "A title")
    assert run_tasks_in_flight() == 0  # no worker of this run serves the queue: it waits for nobody

    with serving(settings.WHALE_BACKEND_QUEUE):
        assert run_tasks_in_flight() == 1
        assert not wait_until_quiet(timeout=0.5)

    with backend_worker():
        assert wait_until_quiet(timeout=20)
    assert run_tasks_in_flight() == 0
    assert get_redis().llen(settings.WHALE_BACKEND_QUEUE) == 0


def test_what_nobody_serves_is_dropped() -> None:
    _notify(protocol.TASK_SAVE_TITLE, str(uuid.uuid4()), str(uuid.uuid4()), "A title")
    purge_run_queues()
    assert get_redis().llen(settings.WHALE_BACKEND_QUEUE) == 0


def test_a_notice_waiting_to_come_back_keeps_the_run_from_being_quiet() -> None:
    with backend_worker():
        # No such turn: the notice comes back every 250 ms (held by the worker, unacknowledged, between tries).
        _notify(protocol.TASK_TURN_STARTED, str(uuid.uuid4()), None)
        assert not wait_until_quiet(timeout=2)
    purge_run_queues()
    assert wait_until_quiet(timeout=5)


def test_what_a_killed_worker_took_is_not_in_flight_once_it_is_gone() -> None:
    queue = f"{settings.WHALE_REDIS_PREFIX}:gone"
    message = json.dumps([{"body": ""}, "", queue])
    get_redis().hset(UNACKED_KEY, "tag-of-a-killed-worker", message)
    assert run_tasks_in_flight() == 1

    forget_unacked(queue)
    assert run_tasks_in_flight() == 0
