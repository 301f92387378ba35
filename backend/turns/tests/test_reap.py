"""turns.services.reap: the one reaper settles lost app answers and partners' completions in one pass."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from chat.models import Conversation, Message
from common.redis import get_redis
from partners.models import Completion
from turns import services, streams

from .factories import app_turn, partner_turn
from .send_helpers import send
from .worker_double import emit, run_turn, take_lease

pytestmark = pytest.mark.django_db


def _lose_the_worker(turn_id: object) -> None:
    take_lease(turn_id)
    emit(turn_id, "started", {"model": "whale-chat"})
    streams.get_redis().delete(streams.keys_for(turn_id).lease)


def test_one_pass_settles_an_answer_and_a_completion_whose_workers_vanished(user: User) -> None:
    answer, completion = app_turn(user), partner_turn(user)
    a_minute_ago = timezone.now() - dt.timedelta(minutes=1)
    Message.objects.filter(id=answer).update(queued_at=a_minute_ago)
    Completion.objects.filter(id=completion).update(created_at=a_minute_ago)
    _lose_the_worker(answer)
    _lose_the_worker(completion)

    assert services.turns_reap() == 2

    assert Message.objects.get(id=answer).error_code == "worker_lost"
    assert Completion.objects.get(id=completion).error_code == "worker_lost"
    assert services.turns_reap() == 0


def test_a_completion_past_its_deadline_is_settled_even_though_it_never_started(user: User, settings) -> None:
    completion = partner_turn(user)
    Completion.objects.filter(id=completion).update(
        created_at=timezone.now() - dt.timedelta(seconds=settings.WHALE_TURN_DEADLINE_SECONDS + 1)
    )

    assert services.turns_reap() == 1
    assert Completion.objects.get(id=completion).error_code == "deadline_exceeded"


def test_the_reaper_fails_a_turn_whose_worker_vanished(api, conversation) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    emit(turn_id, "started", {"model": "whale-r1", "started_at": timezone.now().isoformat()})
    services.turn_mark_started(turn_id=turn_id, started_at=None)
    Message.objects.filter(id=turn_id).update(started_at=timezone.now() - timedelta(seconds=60))

    assert services.turns_reap() == 1

    turn = Message.objects.get(id=turn_id)
    assert turn.status == "failed"
    assert turn.error_code == "worker_lost"
    assert Message.objects.filter(conversation=conversation, role="user").count() == 1


def test_the_reaper_leaves_a_turn_with_a_live_worker_alone(api, conversation) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    take_lease(turn_id)
    services.turn_mark_started(turn_id=turn_id, started_at=None)
    Message.objects.filter(id=turn_id).update(started_at=timezone.now() - timedelta(seconds=60))

    assert services.turns_reap() == 0
    assert Message.objects.get(id=turn_id).status == "streaming"


def test_the_reaper_fails_a_queued_turn_past_its_deadline(api, conversation, settings) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    Message.objects.filter(id=turn_id).update(queued_at=timezone.now() - timedelta(seconds=3600))
    settings.WHALE_TURN_DEADLINE_SECONDS = 60

    assert services.turns_reap() == 1
    assert Message.objects.get(id=turn_id).error_code == "deadline_exceeded"


def test_one_reaper_pass_settles_what_ended_fails_what_is_lost_and_leaves_the_rest(api, user, settings) -> None:
    """Many active turns in one pass: the reaper looks at each one's last event and lease only."""
    user.is_staff = True  # the staff tier: no limit on turns in flight
    user.save()
    turns = {}
    for name in ("ended", "live", "lost", "waiting", "vanished"):
        conversation = Conversation.objects.create(user=user)
        turns[name] = send(api, conversation, content=name).json()["assistant_message"]["id"]
    run_turn(turns["ended"], ["Hmm."], ["Done."])  # its finalize task never came
    take_lease(turns["live"])
    emit(turns["live"], "started", {"model": "whale-r1", "started_at": timezone.now().isoformat()})
    for n in range(300):
        emit(turns["live"], "content", {"delta": f"{n} "})
    emit(turns["lost"], "started", {"model": "whale-r1", "started_at": timezone.now().isoformat()})
    get_redis().delete(streams.keys_for(turns["vanished"]).events)  # Redis lost it
    long_ago = timezone.now() - timedelta(seconds=60)
    Message.objects.filter(id__in=[turns["live"], turns["lost"], turns["vanished"]]).update(
        queued_at=long_ago, started_at=long_ago
    )

    assert services.turns_reap() == 3

    status = {name: Message.objects.get(id=turn_id) for name, turn_id in turns.items()}
    assert status["ended"].status == "done" and status["ended"].content == "Done."
    assert status["live"].status == "queued"  # a worker holds it: left alone
    assert (status["lost"].status, status["lost"].error_code) == ("failed", "worker_lost")
    assert status["waiting"].status == "queued"  # queued a moment ago: still waiting for a worker
    assert (status["vanished"].status, status["vanished"].error_code) == ("failed", "stream_lost")
