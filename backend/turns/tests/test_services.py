from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from chat.models import Conversation, Message
from chat.services import conversation_title_save
from common.redis import get_redis
from inference import protocol
from turns import services, streams

from .conftest import access_token, make_user
from .worker_double import emit, run_turn, take_lease

pytestmark = pytest.mark.django_db


def queued_tasks(queue: str) -> list[dict[str, Any]]:
    """The Celery messages waiting in a queue (kombu's Redis transport keeps one list per priority step)."""
    from ratelimits.admission import PRIORITY_STEPS, priority_queue_name

    lists = [priority_queue_name(queue, step) for step in PRIORITY_STEPS]
    return [json.loads(raw) for name in lists for raw in get_redis().lrange(name, 0, -1)]


def clear_queue(queue: str) -> None:
    from ratelimits.admission import PRIORITY_STEPS, priority_queue_name

    get_redis().delete(*[priority_queue_name(queue, step) for step in PRIORITY_STEPS])


def task_payload(message: dict[str, Any]) -> dict[str, Any]:
    import base64

    body = json.loads(base64.b64decode(message["body"]))
    return body[0][0]


def send(api: APIClient, conversation: Conversation, **body: Any) -> Any:
    return api.post(f"/api/v1/conversations/{conversation.id}/messages", {"deepthink": True, **body}, format="json")


def test_sending_a_message_saves_both_messages_and_queues_the_turn(api, conversation, gpu_queue) -> None:
    response = send(api, conversation, content="Why is the sky blue?")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["user_message"]["content"] == "Why is the sky blue?"
    assistant = body["assistant_message"]
    assert assistant["status"] == "queued"
    assert assistant["model"] == "whale-r1"
    assert assistant["deepthink"] is True
    assert body["stream"]["events_url"] == f"/api/v1/turns/{assistant['id']}/events"
    assert body["stream"]["websocket_url"].endswith(f"/ws/turns/{assistant['id']}/")

    tasks = queued_tasks(gpu_queue)
    assert len(tasks) == 1
    assert tasks[0]["headers"]["task"] == protocol.TASK_GENERATE_TURN
    payload = task_payload(tasks[0])
    assert payload["turn_id"] == assistant["id"]
    assert payload["reasoning"] is True
    assert payload["messages"] == [{"role": "user", "content": "Why is the sky blue?"}]
    assert payload["sampling"]["temperature"] == 0.6 and payload["sampling"]["top_p"] == 0.95

    events = get_redis().xrange(streams.keys_for(assistant["id"]).events)
    assert [fields["type"] for _id, fields in events] == ["queued"]
    conversation.refresh_from_db()
    assert str(conversation.current_message_id) == assistant["id"]
    assert conversation.title == "Why is the sky blue?"


def test_the_queued_task_names_its_turn_without_a_copy_of_the_question_in_its_headers(
    api, conversation, gpu_queue
) -> None:
    response = send(api, conversation, content="My private question about my health")

    headers = queued_tasks(gpu_queue)[0]["headers"]
    assert headers["argsrepr"] == f"(turn {response.json()['assistant_message']['id']})"
    assert "private question" not in json.dumps(headers)


def test_deepthink_off_picks_the_chat_model(api, conversation, gpu_queue) -> None:
    response = send(api, conversation, content="hi", deepthink=False)
    assert response.json()["assistant_message"]["model"] == "whale-chat"
    assert task_payload(queued_tasks(gpu_queue)[0])["reasoning"] is False


def test_earlier_reasoning_is_not_sent_back_to_the_model(api, conversation, gpu_queue) -> None:
    first = send(api, conversation, content="Why is the sky blue?").json()
    run_turn(first["assistant_message"]["id"], ["Think about light."], ["Scattering."])
    assert services.turn_settle(turn_id=first["assistant_message"]["id"])
    clear_queue(gpu_queue)

    send(api, conversation, content="And the sunset?")

    payload = task_payload(queued_tasks(gpu_queue)[0])
    assert payload["messages"] == [
        {"role": "user", "content": "Why is the sky blue?"},
        {"role": "assistant", "content": "Scattering."},
        {"role": "user", "content": "And the sunset?"},
    ]


def test_a_second_message_while_an_answer_is_generating_is_a_conflict(api, conversation) -> None:
    send(api, conversation, content="one")
    response = send(api, conversation, content="two")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "turn_in_progress"
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_a_new_message_right_after_an_answer_ended_is_taken_before_the_answer_is_saved(api, conversation) -> None:
    first = send(api, conversation, content="one").json()
    turn_id = first["assistant_message"]["id"]
    run_turn(turn_id, ["Hmm."], ["Done."])  # the stream ended; the backend worker has not saved it yet
    assert Message.objects.get(id=turn_id).status == "queued"

    response = send(api, conversation, content="two")

    assert response.status_code == 202
    answer = Message.objects.get(id=turn_id)
    assert (answer.status, answer.content) == ("done", "Done.")


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


def test_empty_and_overlong_messages_are_rejected(api, conversation, settings) -> None:
    settings.WHALE_MAX_MESSAGE_CHARS = 10
    assert send(api, conversation, content="   ").status_code == 400
    response = send(api, conversation, content="x" * 11)
    assert response.status_code == 400
    assert "content" in response.json()["error"]["fields"]
    assert not Message.objects.exists()


def test_another_users_conversation_is_not_found(conversation) -> None:
    intruder = make_user("eve@example.com")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(intruder)}")
    response = send(client, conversation, content="hello")
    assert response.status_code == 404
    assert not Message.objects.exists()


def test_redis_down_when_sending_is_a_503_and_leaves_no_half_written_turn(api, conversation, monkeypatch) -> None:
    import redis

    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    monkeypatch.setattr(streams, "get_redis", lambda: dead)

    response = send(api, conversation, content="hello")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "queue_unavailable"
    assert not Message.objects.filter(conversation=conversation).exists()
    conversation.refresh_from_db()
    assert conversation.current_message_id is None


@pytest.mark.parametrize(
    "body",
    [
        {"content": "hi", "deepthink": "yes"},
        {"content": "hi", "deepthink": 1},
        {"content": 12, "deepthink": True},
        {"content": "\ud800", "deepthink": True},
    ],
)
def test_a_send_takes_json_types_as_they_are_or_refuses_with_400(api, conversation, body) -> None:
    raw = json.dumps(body)  # escapes the lone surrogate, as a browser's JSON.stringify does
    response = api.post(f"/api/v1/conversations/{conversation.id}/messages", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert not Message.objects.filter(conversation=conversation).exists()


def test_an_edited_question_makes_a_sibling_branch(api, conversation) -> None:
    first = send(api, conversation, content="Why is the sky blue?").json()
    run_turn(first["assistant_message"]["id"], [], ["Scattering."])
    services.turn_settle(turn_id=first["assistant_message"]["id"])

    edited = send(api, conversation, content="Why is the sea blue?", parent_id=None)

    assert edited.status_code == 202
    user_message = edited.json()["user_message"]
    assert user_message["parent_id"] is None
    assert user_message["sibling_count"] == 2 and user_message["sibling_index"] == 1


def test_a_follow_up_costs_a_fixed_number_of_queries_however_long_the_conversation(
    api, conversation, django_assert_max_num_queries
) -> None:
    """Every send locks the conversation and reads its tree once; siblings come from that tree, not a query each."""
    for n in range(3):
        sent = send(api, conversation, content=f"Question {n}").json()
        run_turn(sent["assistant_message"]["id"], [], [f"Answer {n}."])
        services.turn_settle(turn_id=sent["assistant_message"]["id"])

    # user, lock, tree, two inserts, the tier (two reads without an assignment), conversation update,
    # the earlier questions' files (one read, turns/earlier_files.py), begin and commit
    with django_assert_max_num_queries(11):
        response = send(api, conversation, content="And one more?")

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["user_message"]["sibling_count"], body["assistant_message"]["sibling_count"]) == (1, 1)
    assert body["user_message"]["parent_id"] == sent["assistant_message"]["id"]


def test_regenerate_makes_a_sibling_answer(api, conversation, gpu_queue) -> None:
    first = send(api, conversation, content="Why is the sky blue?").json()
    answer_id = first["assistant_message"]["id"]
    run_turn(answer_id, ["hmm"], ["Scattering."])
    services.turn_settle(turn_id=answer_id)
    clear_queue(gpu_queue)

    response = api.post(f"/api/v1/messages/{answer_id}/regenerate", {}, format="json")

    assert response.status_code == 202, response.content
    again = response.json()["assistant_message"]
    assert again["parent_id"] == first["user_message"]["id"]
    assert again["sibling_count"] == 2 and again["sibling_index"] == 1
    assert again["deepthink"] is True
    assert task_payload(queued_tasks(gpu_queue)[0])["messages"] == [{"role": "user", "content": "Why is the sky blue?"}]


def test_only_answers_can_be_regenerated(api, conversation) -> None:
    first = send(api, conversation, content="q").json()
    response = api.post(f"/api/v1/messages/{first['user_message']['id']}/regenerate", {}, format="json")
    assert response.status_code == 400


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


def test_a_failed_turn_can_be_regenerated(api, conversation) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    emit(turn_id, "error", {"code": "engine_error", "message": "boom"})
    services.turn_settle(turn_id=turn_id)
    assert Message.objects.get(id=turn_id).status == "failed"

    response = api.post(f"/api/v1/messages/{turn_id}/regenerate", {}, format="json")
    assert response.status_code == 202


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


def test_models_lists_what_clients_may_pick(api) -> None:
    response = api.get("/api/v1/models")
    assert response.status_code == 200
    ids = {model["id"]: model for model in response.json()["data"]}
    assert ids["whale-r1"]["reasoning"] is True
    assert ids["whale-chat"]["reasoning"] is False
    assert ids["whale-r1"]["available"] is False  # no worker heartbeat in this test
