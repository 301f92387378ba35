"""POST /api/v1/messages: a new conversation together with its first accepted message, or nothing at all."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from chat.models import Conversation, Message
from common import events
from ratelimits.tests.factories import set_limits

from .conftest import access_token
from .worker_double import run_turn

pytestmark = pytest.mark.django_db


def start(api: APIClient, **body: Any) -> Any:
    return api.post("/api/v1/messages", {"deepthink": True, **body}, format="json")


def assert_nothing_written(user: User) -> None:
    assert not Conversation.objects.filter(user=user).exists()
    assert not Message.objects.filter(conversation__user=user).exists()


def test_the_first_message_creates_the_conversation_and_queues_its_answer(api, user, gpu_queue) -> None:
    response = start(api, content="Why is the sky blue?")

    assert response.status_code == 202, response.content
    body = response.json()
    conversation = Conversation.objects.get(user=user)
    assert body["conversation_id"] == str(conversation.id)
    assert body["conversation"]["id"] == str(conversation.id)
    assert body["conversation"]["title"] == "Why is the sky blue?"
    assert body["conversation"]["current_message_id"] == body["assistant_message"]["id"]
    assert body["conversation"]["is_generating"] is True
    assert "messages" not in body["conversation"]
    assert body["user_message"]["content"] == "Why is the sky blue?"
    assert body["user_message"]["parent_id"] is None
    assert body["assistant_message"]["status"] == "queued"
    assert body["stream"]["events_url"] == f"/api/v1/turns/{body['assistant_message']['id']}/events"
    assert "RateLimit" in response.headers
    # What GET /conversations/{id} says, without its messages.
    detail = api.get(f"/api/v1/conversations/{conversation.id}").json()
    assert {key: value for key, value in detail.items() if key != "messages"} == body["conversation"]
    assert [m["id"] for m in detail["messages"]] == [body["user_message"]["id"], body["assistant_message"]["id"]]


def test_the_new_conversation_is_announced_to_the_users_devices_after_commit(
    api, user, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(events.publisher, "publish", lambda group, message: sent.append((group, message)))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = start(api, content="hello")
        assert sent == [], "nothing leaves before the commit"
    for callback in callbacks:
        callback()

    conversation_id = response.json()["conversation_id"]
    types = [message["event"]["type"] for group, message in sent if group == f"user.{user.id}"]
    assert types[0] == "conversation.created"
    assert "turn.queued" in types
    created = sent[0][1]["event"]
    assert created["conversation_id"] == conversation_id and created["title"] == "hello"


def test_a_message_over_the_plans_length_is_a_400_with_the_limit_and_writes_nothing(api, user) -> None:
    set_limits(user, max_message_chars=8_000)

    response = start(api, content="x" * 8_001)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "message_too_long"
    assert error["fields"]["content"] == ["A message can have at most 8000 characters."]
    assert (error["limit"], error["limit_value"]) == ("max_message_chars", 8_000)
    assert_nothing_written(user)


def test_a_message_over_the_servers_length_is_the_same_400(api, user, settings) -> None:
    settings.WHALE_MAX_MESSAGE_CHARS = 10
    set_limits(user, max_message_chars=8_000)

    response = start(api, content="x" * 11)

    error = response.json()["error"]
    assert response.status_code == 400
    assert (error["code"], error["limit"], error["limit_value"]) == ("message_too_long", "max_message_chars", 10)
    assert error["fields"]["content"] == ["A message can have at most 10 characters."]
    assert_nothing_written(user)


@pytest.mark.parametrize("content", ["", "   \n"])
def test_an_empty_first_message_is_a_400_and_writes_nothing(api, user, content) -> None:
    response = start(api, content=content)
    assert response.status_code == 400
    assert "content" in response.json()["error"]["fields"]
    assert_nothing_written(user)


def test_a_first_message_takes_no_parent(api, user) -> None:
    response = start(api, content="hi", parent_id=None)
    assert response.status_code == 400
    assert "parent_id" in response.json()["error"]["fields"]
    assert_nothing_written(user)


def test_a_message_sent_as_soon_as_the_last_answer_ends_is_not_refused_for_that_answer(api, user) -> None:
    set_limits(user, concurrent_turns=1)
    first = start(api, content="one")
    # Its stream ends (the client sees `done`); the backend worker has not settled it yet.
    run_turn(first.json()["assistant_message"]["id"], [], ["Done."])

    second = start(api, content="two")

    assert second.status_code == 202, second.json()
    assert start(api, content="three").status_code == 429  # the second one is running: one at a time still holds


def test_a_refused_first_message_says_which_limit_and_when_it_resets_and_writes_nothing(api, user) -> None:
    set_limits(user, concurrent_turns=1)
    first = start(api, content="one")
    assert first.status_code == 202

    with CaptureQueriesContext(connection) as queries:
        response = start(api, content="two")

    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "concurrent_turns_exceeded"
    assert (error["limit"], error["limit_value"]) == ("concurrent_turns", 1)
    assert error["retry_after"] >= 1 and response.headers["Retry-After"] == str(error["retry_after"])
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert Conversation.objects.filter(user=user).count() == 1
    assert Message.objects.filter(conversation__user=user).count() == 2


def test_over_the_minutes_requests_the_429_names_the_limit(api, user) -> None:
    set_limits(user, requests_per_minute=1)
    assert start(api, content="one").status_code == 202

    response = start(api, content="two")

    error = response.json()["error"]
    assert response.status_code == 429
    assert (error["code"], error["limit"], error["limit_value"]) == (
        "requests_per_minute_exceeded",
        "requests_per_minute",
        1,
    )
    assert 1 <= error["retry_after"] <= 60
    assert Conversation.objects.filter(user=user).count() == 1


def test_a_suspended_account_gets_403_and_nothing_is_written(api, user) -> None:
    from accounts.services import user_suspend

    user_suspend(user=user, reason="spam")

    response = start(api, content="hello")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "account_suspended"
    assert error["message"].startswith("This account is suspended")
    assert_nothing_written(user)


def test_a_full_queue_is_a_503_server_busy_and_writes_nothing(api, user, settings, gpu_queue) -> None:
    settings.WHALE_MODELS = {name: {**spec, "max_waiting": 0} for name, spec in settings.WHALE_MODELS.items()}

    response = start(api, content="hello")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "server_busy"
    assert int(response.headers["Retry-After"]) >= 1
    assert_nothing_written(user)


def test_an_unreachable_queue_is_a_503_and_writes_nothing(api, user, monkeypatch) -> None:
    from kombu.exceptions import OperationalError

    from config.celery import app as celery_app

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("broker down")

    monkeypatch.setattr(celery_app, "send_task", broker_down)

    response = start(api, content="hello")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "queue_unavailable"
    assert_nothing_written(user)


def test_the_first_message_needs_an_account(user) -> None:
    response = start(APIClient(), content="hello")
    assert response.status_code == 401
    assert_nothing_written(user)


def test_a_refused_send_to_an_existing_conversation_writes_no_message(api, user, conversation) -> None:
    set_limits(user, requests_per_minute=1)
    other = Conversation.objects.create(user=user)
    assert start(api, content="one").status_code == 202

    with CaptureQueriesContext(connection) as queries:
        response = api.post(f"/api/v1/conversations/{other.id}/messages", {"content": "two"}, format="json")

    assert response.status_code == 429
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert not Message.objects.filter(conversation=other).exists()


def test_a_second_client_sees_the_new_conversation_in_its_list(api, user) -> None:
    start(api, content="hello")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
    listed = client.get("/api/v1/conversations").json()["results"]
    assert [c["title"] for c in listed] == ["hello"]
