"""Admission on the GPU queue: busy rejection with a Retry-After estimate, priority order, and capacity."""

from __future__ import annotations

from typing import Any

import pytest

from chat.models import Conversation
from common.redis import get_redis
from inference import protocol
from inference.celery_app import app as gpu_celery
from ratelimits import admission

from .factories import api_for, make_user, set_limits

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_queue(settings: Any, gpu_queue: str) -> str:
    """Both models on this run's queue, with room for two waiting turns."""
    for spec in settings.WHALE_MODELS.values():
        spec["max_waiting"] = 2
        spec["capacity"] = 1
    return gpu_queue


def send(user: Any, deepthink: bool = False) -> Any:
    conversation = Conversation.objects.create(user=user)
    return api_for(user).post(
        f"/api/v1/conversations/{conversation.id}/messages", {"content": "Hi", "deepthink": deepthink}, format="json"
    )


def test_a_full_queue_answers_503_server_busy_with_a_retry_after(small_queue, settings) -> None:
    settings.WHALE_TURN_SECONDS_ESTIMATE = 20
    user = make_user()
    set_limits(user)
    assert [send(user).status_code for _ in range(2)] == [202, 202]

    busy = send(user)

    assert busy.status_code == 503
    assert busy.json()["error"]["code"] == "server_busy"
    assert busy["Retry-After"] == "60"  # two ahead plus this one, one at a time, 20 s each
    assert busy.json()["error"]["retry_after"] == 60


def test_a_busy_rejection_takes_nothing_from_the_users_limits(small_queue) -> None:
    user = make_user()
    set_limits(user, turns_per_day=3)
    send(user)
    send(user)
    for _ in range(5):
        assert send(user).status_code == 503

    from ratelimits import store
    from ratelimits.selectors import limits_for_user

    assert store.read(limits_for_user(user=user).subject).turns_today == 2


def test_waiting_free_turns_do_not_make_a_higher_tier_busy(small_queue) -> None:
    free, pro = make_user(), make_user()
    set_limits(free, tier="free")
    set_limits(pro, tier="pro")
    send(free)
    send(free)
    assert send(free).status_code == 503

    response = send(pro)

    assert response.status_code == 202
    assert response.json()["queue_position"] == 0  # nobody of its priority or higher waits


def test_a_worker_takes_the_higher_tier_first_whatever_the_arrival_order(gpu_queue) -> None:
    free, pro, staff = make_user(), make_user(), make_user()
    set_limits(free, tier="free")
    set_limits(pro, tier="pro")
    set_limits(staff, tier="staff")
    order = [send(free), send(free), send(pro), send(staff), send(pro)]
    turn_ids = [r.json()["assistant_message"]["id"] for r in order]

    # The GPU worker's own Celery app, reading the queue through kombu's Redis transport as it does.
    taken = []
    with gpu_celery.connection_for_read() as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(gpu_queue, no_ack=True)) is not None:
            taken.append(message.decode()[0][0]["turn_id"])

    assert taken == [turn_ids[3], turn_ids[2], turn_ids[4], turn_ids[0], turn_ids[1]]


def test_the_queued_event_says_how_many_wait_ahead(gpu_queue) -> None:
    user = make_user()
    set_limits(user)
    send(user)
    second = send(user).json()

    assert second["queue_position"] == 1
    raw = get_redis().xrange(f"{get_redis_prefix()}:turn:{second['assistant_message']['id']}:events")[0][1]
    assert protocol.decode_event(raw) == ("queued", {"position": 1})


def get_redis_prefix() -> str:
    from django.conf import settings

    return settings.WHALE_REDIS_PREFIX


def test_capacity_is_learned_from_worker_heartbeats(gpu_queue, settings) -> None:
    settings.WHALE_MODEL_CAPACITY = 32
    prefix = settings.WHALE_REDIS_PREFIX
    client = get_redis()
    for worker_id, capacity in (("w1", "3"), ("w2", "5")):
        client.hset(
            protocol.worker_heartbeat_key(prefix, worker_id),
            mapping={"worker_id": worker_id, "capacity": capacity, "queues": gpu_queue},
        )
        client.sadd(protocol.workers_index_key(prefix), worker_id)

    assert admission.model_capacity("whale-chat", gpu_queue) == 8
    assert admission.max_waiting("whale-chat", gpu_queue) == 8 * settings.WHALE_QUEUE_WAITING_FACTOR


def test_without_heartbeats_capacity_comes_from_settings(gpu_queue, settings) -> None:
    settings.WHALE_MODEL_CAPACITY = 12
    assert admission.model_capacity("whale-chat", gpu_queue) == 12


def queued_positions(turn_id: str) -> list[int]:
    from turns.streams import keys_for

    events = [protocol.decode_event(fields) for _id, fields in get_redis().xrange(keys_for(turn_id).events)]
    return [data["position"] for kind, data in events if kind == "queued"]


def test_waiting_turns_stream_their_new_place_as_the_queue_moves(gpu_queue) -> None:
    from turns.streams import keys_for

    free, pro = make_user(), make_user()
    set_limits(free, tier="free")
    set_limits(pro, tier="pro")
    first, second, third = (send(free).json()["assistant_message"]["id"] for _ in range(3))
    assert admission.queue_positions_publish() == 0  # nothing moved yet
    with gpu_celery.connection_for_read() as connection:
        assert connection.default_channel.basic_get(gpu_queue, no_ack=True) is not None  # a worker takes `first`
    get_redis().set(keys_for(first).lease, "worker-1")
    pro_turn = send(pro).json()["assistant_message"]["id"]  # jumps ahead of the free turns

    assert admission.queue_positions_publish() == 0  # second: 0 ahead (1 - 1 + 1 pro), third: 2 (unchanged)
    assert queued_positions(second) == [1]
    assert queued_positions(third) == [2]
    with gpu_celery.connection_for_read() as connection:
        connection.default_channel.basic_get(gpu_queue, no_ack=True)  # the pro turn is taken next
    get_redis().set(keys_for(pro_turn).lease, "worker-1")

    assert admission.queue_positions_publish() == 2
    assert queued_positions(first) == [0]
    assert queued_positions(pro_turn) == [0]
    assert queued_positions(second) == [1, 0]
    assert queued_positions(third) == [2, 1]
