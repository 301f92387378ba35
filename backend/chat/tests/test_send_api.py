"""chat.send_api: the send endpoints' own answers: the 202 body's links and headers, who may send, and the
cancel endpoint."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from turns import services
from turns.tests.conftest import access_token, make_user
from turns.tests.send_helpers import send
from turns.tests.worker_double import run_turn

from chat.models import Message

pytestmark = pytest.mark.django_db


def test_the_202_links_the_turns_streams_on_the_host_it_was_sent_to(api, conversation) -> None:
    url = f"/api/v1/conversations/{conversation.id}/messages"
    plain = api.post(url, {"content": "q"}, format="json", HTTP_HOST="localhost:8000").json()
    turn_id = plain["assistant_message"]["id"]
    run_turn(turn_id, [], ["a"])
    services.turn_settle(turn_id=turn_id)

    secure = api.post(url, {"content": "q"}, format="json", HTTP_HOST="localhost:8443", secure=True).json()

    assert plain["stream"]["websocket_url"] == f"ws://localhost:8000/ws/turns/{turn_id}/"
    assert plain["stream"]["events_url"] == f"/api/v1/turns/{turn_id}/events"
    assert secure["stream"]["websocket_url"] == f"wss://localhost:8443/ws/turns/{secure['assistant_message']['id']}/"


def test_the_202_carries_the_limits_it_passed_as_headers(api, conversation) -> None:
    response = send(api, conversation, content="q")
    assert response.status_code == 202
    assert response.headers["RateLimit-Policy"] and response.headers["RateLimit"]


def test_a_first_messages_202_shows_its_new_conversation_generating(api, user) -> None:
    body = api.post("/api/v1/messages", {"content": "Why?"}, format="json").json()
    assert body["conversation"]["id"] == body["conversation_id"]
    assert body["conversation"]["is_generating"] is True


@pytest.mark.parametrize(
    "path",
    ["/api/v1/messages", "/api/v1/conversations/{conversation}/messages", "/api/v1/messages/{answer}/regenerate"],
)
def test_an_unverified_email_may_not_send_where_chat_needs_one(api, user, conversation, settings, path) -> None:
    answer = Message.objects.create(conversation=conversation, role=Message.Role.ASSISTANT, model="whale-r1")
    settings.WHALE_REQUIRE_VERIFIED_EMAIL_TO_CHAT = True

    response = api.post(path.format(conversation=conversation.id, answer=answer.id), {"content": "q"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "email_not_verified"


def test_an_unverified_email_may_still_stop_an_answer(api, conversation, settings) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    settings.WHALE_REQUIRE_VERIFIED_EMAIL_TO_CHAT = True

    response = api.post(f"/api/v1/turns/{turn_id}/cancel")

    assert response.status_code == 202
    assert response.json()["turn"]["status"] == "cancelled"


def test_another_users_turn_cannot_be_cancelled(api, conversation) -> None:
    turn_id = send(api, conversation, content="q").json()["assistant_message"]["id"]
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(make_user())}")

    response = stranger.post(f"/api/v1/turns/{turn_id}/cancel")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Message.objects.get(id=turn_id).status == "queued"


@pytest.mark.parametrize("method, path", [("get", "/api/v1/models"), ("post", "/api/v1/messages")])
def test_the_endpoints_need_a_signed_in_user(method: str, path: str) -> None:
    response = getattr(APIClient(), method)(path, {"content": "q"} if method == "post" else None, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
