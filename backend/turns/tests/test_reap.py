"""turns.services.reap: the one reaper settles lost app answers and partners' completions in one pass."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import User
from chat.models import Message
from partners.models import Completion
from turns import services, streams

from .factories import app_turn, partner_turn
from .worker_double import emit, take_lease

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
