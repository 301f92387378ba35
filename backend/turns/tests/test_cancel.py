"""turns.services.cancel: the one cancel, for an app answer and a partner's completion alike."""

from __future__ import annotations

import pytest

from accounts.models import User
from chat.models import Message
from common.redis import get_redis
from partners.models import Completion
from turns import services, streams

from .factories import app_turn, partner_turn
from .send_helpers import send
from .worker_double import emit, take_lease

pytestmark = pytest.mark.django_db


def test_a_turn_no_worker_holds_is_cancelled_and_settled_at_once_whatever_its_origin(user: User) -> None:
    answer, completion = app_turn(user), partner_turn(user)

    assert services.turn_cancel_request(turn_id=answer) is True
    assert services.turn_cancel_request(turn_id=completion) is True

    assert Message.objects.get(id=answer).status == "cancelled"
    assert Completion.objects.get(id=completion).status == "cancelled"
    for turn_id in (answer, completion):
        outcome = streams.turn_outcome(turn_id)
        assert outcome is not None and outcome.terminal["finish_reason"] == "cancelled"


def test_a_running_turn_is_only_asked_to_stop(user: User) -> None:
    completion = partner_turn(user)
    take_lease(completion)
    emit(completion, "started", {"model": "whale-chat"})

    assert services.turn_cancel_request(turn_id=completion) is False

    assert Completion.objects.get(id=completion).status == "queued"  # the worker ends it at its next flush
    assert streams.get_redis().get(streams.keys_for(completion).cancel) == "1"


def test_a_suspension_cancels_the_users_partner_completions_as_well_as_their_answers(
    user: User, other_user: User
) -> None:
    answer, completion, others = app_turn(user), partner_turn(user), partner_turn(other_user)

    services.user_turns_cancel(user_id=user.pk)

    assert Message.objects.get(id=answer).status == "cancelled"
    assert Completion.objects.get(id=completion).status == "cancelled"
    assert Completion.objects.get(id=others).status == "queued"


def test_cancelling_a_turn_no_worker_has_picked_up_ends_it_at_once(api, conversation) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]

    response = api.post(f"/api/v1/turns/{turn_id}/cancel")

    assert response.status_code == 202
    assert response.json()["turn"]["status"] == "cancelled"
    assert get_redis().get(streams.keys_for(turn_id).cancel) == "1"


def test_cancelling_a_running_turn_asks_its_worker_and_keeps_the_partial_text(api, conversation) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    take_lease(turn_id)
    emit(turn_id, "content", {"delta": "half an ans"})

    response = api.post(f"/api/v1/turns/{turn_id}/cancel")

    assert response.json()["turn"]["status"] == "queued"  # the worker owns it and will stop
    assert get_redis().get(streams.keys_for(turn_id).cancel) == "1"
    emit(turn_id, "done", {"status": "cancelled", "finish_reason": "cancelled", "usage": {}, "timings": {}})
    services.turn_settle(turn_id=turn_id)
    turn = Message.objects.get(id=turn_id)
    assert turn.status == "cancelled" and turn.content == "half an ans"
