"""Turns end to end through the API: a turn settled, cancelled and reaped, and what an account's or a
conversation's deletion stops. The send's own tests are in test_send.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from chat.models import Conversation, Message
from chat.services import conversation_title_save
from common.redis import get_redis
from inference import protocol
from turns import services, streams

from .conftest import access_token
from .send_helpers import clear_queue, queued_tasks, send, task_payload
from .worker_double import emit, run_turn, take_lease

pytestmark = pytest.mark.django_db


def test_deleting_a_conversation_stops_its_running_answer_and_no_other(
    api, conversation, other_user, django_capture_on_commit_callbacks
) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    bystander = APIClient()
    bystander.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(other_user)}")
    elsewhere = Conversation.objects.create(user=other_user)
    other_turn = send(bystander, elsewhere, content="q").json()["assistant_message"]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/conversations/{conversation.id}").status_code == 204

    assert get_redis().exists(streams.keys_for(turn_id).cancel), "the worker is told to stop"
    assert not get_redis().exists(streams.keys_for(other_turn).cancel)


def test_deleting_the_account_stops_its_running_answers(api, conversation, django_capture_on_commit_callbacks) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/me/delete", {"password": "correct horse battery staple"}, format="json")

    assert response.status_code == 204
    assert get_redis().exists(streams.keys_for(turn_id).cancel)


def test_finalize_saves_the_answer_exactly_once(api, conversation) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    run_turn(turn_id, ["Let me ", "think."], ["The ", "answer."])

    assert services.turn_settle(turn_id=turn_id) is True
    assert services.turn_settle(turn_id=turn_id) is False

    turn = Message.objects.get(id=turn_id)
    assert turn.status == "done"
    assert turn.reasoning_content == "Let me think."
    assert turn.content == "The answer."
    assert (turn.prompt_tokens, turn.completion_tokens, turn.reasoning_tokens) == (7, 11, 5)
    assert turn.started_at and turn.first_token_at and turn.finished_at


def test_finalize_waits_for_a_terminal_event(api, conversation) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    take_lease(turn_id)
    emit(turn_id, "started", {"model": "whale-r1", "started_at": timezone.now().isoformat()})
    emit(turn_id, "content", {"delta": "partial"})
    assert services.turn_settle(turn_id=turn_id) is False
    assert Message.objects.get(id=turn_id).status == "queued"


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


def test_a_started_turn_is_marked_streaming_once_and_announced_to_the_users_devices(
    api, conversation, monkeypatch
) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    published: list[tuple[object, str, dict]] = []
    monkeypatch.setattr(
        "common.events.user_event_publish",
        lambda *, user_id, event_type, payload: published.append((user_id, event_type, payload)),
    )

    assert services.turn_mark_started(turn_id=turn_id, started_at=None) is True
    assert services.turn_mark_started(turn_id=turn_id, started_at=None) is False  # delivered twice

    assert Message.objects.get(id=turn_id).status == "streaming"
    assert published == [
        (conversation.user_id, "turn.started", {"conversation_id": str(conversation.id), "turn_id": turn_id})
    ]


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


def test_the_first_answer_queues_a_title_and_the_title_is_saved(
    api, conversation, gpu_queue, django_capture_on_commit_callbacks
) -> None:
    turn_id = send(api, conversation, content="Why is the sky blue?").json()["assistant_message"]["id"]
    clear_queue(gpu_queue)
    run_turn(turn_id, [], ["Scattering."])
    with django_capture_on_commit_callbacks(execute=True):
        services.turn_settle(turn_id=turn_id)

    tasks = queued_tasks(gpu_queue)
    assert [t["headers"]["task"] for t in tasks] == [protocol.TASK_GENERATE_TITLE]
    assert task_payload(tasks[0])["conversation_id"] == str(conversation.id)

    assert conversation_title_save(
        conversation_id=conversation.id, user_id=conversation.user_id, title="  Blue   sky  "
    )
    conversation.refresh_from_db()
    assert conversation.title == "Blue sky"
