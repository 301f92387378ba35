"""Priority, live: a real GPU worker (simulated engine, one turn at a time) starts waiting turns by tier, not arrival."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from turns.streams import keys_for
from turns.tests.stack import GpuWorker, gpu_worker, quiet_before_flush  # noqa: F401 (a fixture)

from chat import sends
from chat.models import Conversation
from common.redis import get_redis
from inference import protocol

from .factories import make_user, set_limits

pytestmark = [pytest.mark.stack, pytest.mark.django_db, pytest.mark.usefixtures("quiet_before_flush")]

# One turn at a time, each about 3 s long: the first keeps the worker busy while the rest queue up.
ENGINE = {
    "WHALE_SIM_FIRST_TOKEN_SECONDS": "0.01",
    "WHALE_SIM_INTER_TOKEN_SECONDS": "0.03",
    "WHALE_SIM_TOKENS": "100",
    "WHALE_SIM_REASONING_TOKENS": "0",
}


def _queue() -> str:
    return f"{django_settings.WHALE_REDIS_PREFIX}:gpu-priority"


@pytest.fixture(scope="module")
def one_at_a_time() -> Iterator[GpuWorker]:
    with gpu_worker(_queue(), engine="simulated", concurrency=1, engine_env=ENGINE) as worker:
        yield worker


def sender(tier: str) -> Any:
    """A user of `tier` ready to send (made beforehand: creating a user hashes a password, which is slow)."""
    user = make_user()
    set_limits(user, tier=tier)
    conversation = Conversation.objects.create(user=user)

    def send() -> str:
        created = sends.turn_send(user=user, conversation_id=conversation.id, content="Hi", deepthink=False)
        return str(created.assistant_message.id)

    return send


def waiting_in_redis() -> int:
    from ratelimits.admission import waiting_total

    return waiting_total(_queue())


def started_at(turn_id: str) -> str | None:
    for entry_id, fields in get_redis().xrange(keys_for(turn_id).events):
        if fields.get("type") == protocol.EVENT_STARTED:
            return str(entry_id)
    return None


def finished(turn_id: str) -> bool:
    return any(f.get("type") in protocol.TERMINAL_EVENTS for _i, f in get_redis().xrange(keys_for(turn_id).events))


def wait_until(predicate: Any, timeout: float, worker: GpuWorker) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_busy_worker_next_takes_staff_then_pro_then_free_in_arrival_order(one_at_a_time, settings: Any) -> None:
    settings.WHALE_MODELS = {name: {**spec, "queue": _queue()} for name, spec in settings.WHALE_MODELS.items()}
    senders = {
        name: sender(tier)
        for name, tier in [
            ("busy", "free"),
            ("early", "free"),
            ("free_a", "free"),
            ("free_b", "free"),
            ("pro", "pro"),
            ("staff", "staff"),
        ]
    }
    turns = {"busy": senders["busy"]()}
    assert wait_until(lambda: started_at(turns["busy"]) is not None, 20, one_at_a_time), one_at_a_time.log_tail()
    # Celery may reserve one task beyond the one it runs; priority orders what still waits in Redis.
    turns["early"] = senders["early"]()
    early_reserved = wait_until(lambda: waiting_in_redis() == 0, 1.0, one_at_a_time)
    for name in ("free_a", "free_b", "pro", "staff"):
        turns[name] = senders[name]()
    assert started_at(turns["busy"]) and not finished(turns["busy"]), "the busy turn ended before all were queued"

    assert wait_until(lambda: all(finished(t) for t in turns.values()), 60, one_at_a_time), one_at_a_time.log_tail()

    def stream_time(name: str) -> tuple[int, int]:
        ms, seq = str(started_at(turns[name])).split("-")
        return int(ms), int(seq)

    order = sorted(["early", "free_a", "free_b", "pro", "staff"], key=stream_time)
    if early_reserved:
        assert order == ["early", "staff", "pro", "free_a", "free_b"]
    else:
        assert order == ["staff", "pro", "early", "free_a", "free_b"]
