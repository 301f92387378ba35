"""chat.sends: the app's send and regenerate, through their endpoints."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient
from turns import services, streams
from turns.tests.conftest import access_token, make_user
from turns.tests.send_helpers import clear_queue, queued_tasks, send, task_payload
from turns.tests.worker_double import emit, run_turn

from chat import sends
from chat.models import Conversation, Message
from common.errors import NotFound, ValidationFailed
from common.redis import get_redis
from inference import protocol
from ratelimits.tests.factories import set_limits

pytestmark = pytest.mark.django_db


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

    # user, begin, lock, tree, the tier and its overrides (one read), one write (the turn, both messages and the
    # conversation's current message), commit; no files read for a branch without any (turns/earlier_files.py)
    with django_assert_max_num_queries(7):
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


def test_a_failed_turn_can_be_regenerated(api, conversation) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    emit(turn_id, "error", {"code": "engine_error", "message": "boom"})
    services.turn_settle(turn_id=turn_id)
    assert Message.objects.get(id=turn_id).status == "failed"

    response = api.post(f"/api/v1/messages/{turn_id}/regenerate", {}, format="json")
    assert response.status_code == 202


def test_a_question_under_a_message_of_another_conversation_is_refused_and_writes_nothing(user, conversation) -> None:
    elsewhere = _answered(user, Conversation.objects.create(user=user))

    with pytest.raises(ValidationFailed) as refused:
        sends.turn_send(
            user=user,
            conversation_id=conversation.id,
            content="Then?",
            deepthink=False,
            parent_id=elsewhere.assistant_message.id,
        )

    assert refused.value.fields == {"parent_id": ["No such message in this conversation."]}
    assert not Message.objects.filter(conversation=conversation).exists()


def test_a_question_cannot_hang_under_another_question(user, conversation) -> None:
    first = _answered(user, conversation)

    with pytest.raises(ValidationFailed) as refused:
        sends.turn_send(
            user=user,
            conversation_id=conversation.id,
            content="Then?",
            deepthink=False,
            parent_id=first.user_message.id,
        )

    assert "parent_id" in refused.value.fields
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_another_users_answer_cannot_be_regenerated(user, conversation, other_user) -> None:
    answer = _answered(user, conversation).assistant_message

    with pytest.raises(NotFound):
        sends.turn_regenerate(user=other_user, message_id=answer.id)

    assert Message.objects.filter(conversation=conversation).count() == 2


def test_a_regenerated_answer_may_change_its_deepthink(user, conversation) -> None:
    created = sends.turn_send(user=user, conversation_id=conversation.id, content="Why?", deepthink=True)
    run_turn(created.assistant_message.id, ["Hm."], ["Because."])
    services.turn_settle(turn_id=created.assistant_message.id)

    again = sends.turn_regenerate(user=user, message_id=created.assistant_message.id, deepthink=False)

    assert (again.assistant_message.model, again.assistant_message.deepthink) == ("whale-chat", False)
    assert again.user_message is None
    assert again.sibling_ids == {again.assistant_message.id: [created.assistant_message.id, again.assistant_message.id]}


def test_a_send_that_cannot_be_queued_gives_its_turn_back_to_the_limits(api, user, conversation, monkeypatch) -> None:
    import redis

    set_limits(user, concurrent_turns=1)
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    with monkeypatch.context() as patched:
        patched.setattr(streams, "get_redis", lambda: dead)
        assert send(api, conversation, content="lost").status_code == 503

    response = send(api, conversation, content="again")

    assert response.status_code == 202, response.content  # not 429 concurrent_turns_exceeded


def _answered(user, conversation) -> sends.TurnCreated:
    created = sends.turn_send(user=user, conversation_id=conversation.id, content="Why?", deepthink=False)
    run_turn(created.assistant_message.id, [], ["Because."])
    services.turn_settle(turn_id=created.assistant_message.id)
    return created
