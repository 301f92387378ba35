"""turns.prepare_stream: the prepare step's lease on a turn (one holder, renewed while it runs), its events,
and handing the turn over to the GPU queue or ending it, only while the lease is still its own."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from accounts.models import User
from common.redis import get_redis
from inference import protocol
from turns import services, streams
from turns.prepare_stream import PrepareLease, already_prepared

from .factories import app_turn
from .worker_double import emit, take_lease

RENEW_EVERY = 0.05  # seconds; the real step renews every protocol.LEASE_RENEW_SECONDS


def _events(turn_id: object) -> list[tuple[str, dict[str, Any]]]:
    entries = get_redis().xrange(streams.keys_for(turn_id).events)
    return [protocol.decode_event(fields) for _id, fields in entries]  # type: ignore[union-attr]


def _lease(turn_id: object) -> tuple[str | None, int]:
    key = streams.keys_for(turn_id).lease
    return get_redis().get(key), int(get_redis().ttl(key))  # type: ignore[return-value,arg-type]


@pytest.fixture
def quick_renewals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "LEASE_RENEW_SECONDS", RENEW_EVERY)


def test_the_lease_has_one_holder_and_a_second_one_is_refused() -> None:
    turn_id = uuid.uuid4()
    first, second = PrepareLease(str(turn_id)), PrepareLease(str(turn_id))

    assert first.take() is True
    assert second.take() is False
    assert take_lease(turn_id, "a-gpu-worker") is False  # nor can a GPU worker take it meanwhile
    owner, ttl = _lease(turn_id)
    assert owner == first.owner and 0 < ttl <= protocol.LEASE_TTL_SECONDS


def test_the_lease_is_renewed_while_the_step_runs_and_no_longer_after(quick_renewals: None) -> None:
    turn_id = str(uuid.uuid4())
    lease = PrepareLease(turn_id)
    assert lease.take()
    key = streams.keys_for(turn_id).lease

    with lease:
        get_redis().expire(key, 2)
        time.sleep(RENEW_EVERY * 10)
        assert _lease(turn_id)[1] > 2

    get_redis().expire(key, 2)
    time.sleep(RENEW_EVERY * 10)
    assert _lease(turn_id)[1] <= 2


def test_a_lease_that_lapsed_to_another_holder_is_not_renewed_for_it(quick_renewals: None) -> None:
    turn_id = str(uuid.uuid4())
    lease = PrepareLease(turn_id)
    assert lease.take()

    with lease:
        get_redis().set(streams.keys_for(turn_id).lease, "a-gpu-worker", ex=2)
        time.sleep(RENEW_EVERY * 10)

    owner, ttl = _lease(turn_id)
    assert owner == "a-gpu-worker" and ttl <= 2


def test_the_hand_over_writes_queued_after_the_steps_events_then_frees_the_lease() -> None:
    turn_id = str(uuid.uuid4())
    lease = PrepareLease(turn_id)
    assert lease.take()
    lease.write("search", {"query": "sky"})
    lease.write("notice", {"notice": {"code": "search_unavailable"}})

    assert lease.hand_over({"position": 3}) is True

    assert _events(turn_id) == [
        ("search", {"query": "sky"}),
        ("notice", {"notice": {"code": "search_unavailable"}}),
        ("queued", {"position": 3}),
    ]
    assert _lease(turn_id)[0] is None
    assert take_lease(turn_id, "a-gpu-worker")  # the GPU worker can take the turn now


def test_a_step_that_lost_its_lease_can_neither_hand_over_nor_end_the_turn() -> None:
    turn_id = str(uuid.uuid4())
    lease = PrepareLease(turn_id)
    assert lease.take()
    get_redis().set(streams.keys_for(turn_id).lease, "the-reaper-or-a-second-delivery")

    assert lease.hand_over({"position": 1}) is False
    assert lease.end(protocol.EVENT_ERROR, {"code": "prepare_failed", "message": "boom"}) is False

    assert _events(turn_id) == []
    assert _lease(turn_id)[0] == "the-reaper-or-a-second-delivery"


def test_ending_writes_the_terminal_event_and_lets_the_stream_expire() -> None:
    turn_id = str(uuid.uuid4())
    lease = PrepareLease(turn_id)
    assert lease.take()
    error = {"code": "prepare_failed", "message": "boom"}

    assert lease.end(protocol.EVENT_ERROR, error) is True

    assert _events(turn_id) == [("error", error)]
    assert 0 < get_redis().ttl(streams.keys_for(turn_id).events) <= protocol.STREAM_TTL_SECONDS


@pytest.mark.django_db
def test_the_step_sees_a_cancel_asked_while_it_holds_the_turn(user: User) -> None:
    turn_id = app_turn(user)
    lease = PrepareLease(str(turn_id))
    assert lease.take()
    assert lease.cancelled() is False

    assert services.turn_cancel_request(turn_id=turn_id) is False  # the step holds it: it is only asked

    assert lease.cancelled() is True


def test_a_stream_with_the_steps_events_or_an_end_was_prepared_already() -> None:
    waiting, searched, ended = (str(uuid.uuid4()) for _ in range(3))
    for turn_id in (waiting, searched, ended):
        emit(turn_id, "queued", {"position": 1})
    emit(searched, "search", {"query": "sky"})  # type: ignore[arg-type]  # the prepare step's own event
    emit(ended, "done", {"status": "cancelled"})

    assert already_prepared(waiting) is False
    assert already_prepared(searched) is True
    assert already_prepared(ended) is True
