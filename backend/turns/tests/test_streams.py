"""turns.streams: the backend's writes to a turn's stream (queue positions, the cancel key) and its keys."""

from __future__ import annotations

import uuid

from django.conf import settings

from common.redis import get_redis
from inference import protocol
from ratelimits.admission import position_key
from turns import streams


def _events(turn_id: str) -> list[tuple[str, dict[str, object]]]:
    raw = get_redis().xrange(streams.keys_for(turn_id).events)
    return [protocol.decode_event(fields) for _id, fields in raw]  # type: ignore[union-attr]


def _queued(turn_id: str) -> None:
    get_redis().xadd(streams.keys_for(turn_id).events, {"type": "queued", "data": "{}"})


def test_keys_are_under_this_deployments_prefix() -> None:
    turn_id = str(uuid.uuid4())
    keys = streams.keys_for(turn_id)
    assert keys.events.startswith(settings.WHALE_REDIS_PREFIX)
    assert turn_id in keys.events and turn_id in keys.cancel and turn_id in keys.lease


def test_a_new_turns_queued_event_expires_with_its_stream_and_says_its_fallback() -> None:
    turn_id = str(uuid.uuid4())
    fallback = {"from": "whale-r1", "to": "whale-chat", "reason": "reasoning_turns_per_day_exceeded"}
    streams.queued_write(turn_id, 4, fallback, on_gpu_queue=True)
    assert _events(turn_id) == [("queued", {"position": 4, "fallback": fallback})]
    ttl = get_redis().ttl(streams.keys_for(turn_id).events)
    assert (
        settings.WHALE_TURN_DEADLINE_SECONDS < ttl <= settings.WHALE_TURN_DEADLINE_SECONDS + protocol.STREAM_TTL_SECONDS
    )
    assert get_redis().get(position_key(turn_id)) == "4"  # the beat task publishes only a changed position


def test_a_turn_queued_for_its_prepare_step_has_no_gpu_queue_position_yet() -> None:
    turn_id = str(uuid.uuid4())
    streams.queued_write(turn_id, 0, None, on_gpu_queue=False)
    assert _events(turn_id) == [("queued", {"position": 0})]
    assert get_redis().get(position_key(turn_id)) is None


def test_a_new_position_is_published_once() -> None:
    turn_id = str(uuid.uuid4())
    _queued(turn_id)
    assert streams.queue_position_publish(turn_id, 3) is True
    assert streams.queue_position_publish(turn_id, 3) is False  # unchanged: nothing new for the client
    assert streams.queue_position_publish(turn_id, 2) is True
    events = _events(turn_id)
    assert [event_type for event_type, _data in events] == ["queued", "queued", "queued"]
    assert [data.get("position") for _type, data in events[1:]] == [3, 2]
    assert get_redis().get(position_key(turn_id)) == "2"


def test_no_position_once_a_worker_holds_the_lease() -> None:
    turn_id = str(uuid.uuid4())
    _queued(turn_id)
    get_redis().set(streams.keys_for(turn_id).lease, "worker-1")
    assert streams.queue_position_publish(turn_id, 0) is False
    assert len(_events(turn_id)) == 1


def test_no_position_for_a_turn_without_a_stream() -> None:
    turn_id = str(uuid.uuid4())
    assert streams.queue_position_publish(turn_id, 1) is False
    assert not get_redis().exists(streams.keys_for(turn_id).events)


def test_cancel_sets_the_key_the_worker_checks_at_each_flush() -> None:
    turn_id = str(uuid.uuid4())
    streams.request_cancel(turn_id)
    key = streams.keys_for(turn_id).cancel
    assert get_redis().get(key) == "1"
    assert 0 < get_redis().ttl(key) <= protocol.STREAM_TTL_SECONDS
