"""chat.socket_sends: a `send` or `regenerate` frame on the user's socket answers `sent` with the HTTP send's
202 body, or `refused` with the status and the one error shape the HTTP endpoint would answer with."""

from __future__ import annotations

import time
from typing import Any

import pytest
from turns import services
from turns.tests.conftest import make_user
from turns.tests.send_helpers import send
from turns.tests.worker_double import run_turn

from accounts.models import User
from chat import sends
from chat.models import Conversation, Message
from chat.socket_sends import REQUEST_ID_MAX_CHARS, socket_send
from ratelimits.tests.factories import set_limits

pytestmark = pytest.mark.django_db

HOST = "chat.example.org"


def frame_send(user: User, frame: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return socket_send(user.pk, frame, secure=True, host=HOST, **kwargs)


def refusal(reply: dict[str, Any]) -> tuple[int, str]:
    assert reply["type"] == "refused", reply
    assert set(reply) <= {"type", "request_id", "status", "error", "retry_after"}
    return reply["status"], reply["error"]["code"]


def test_a_send_frame_answers_sent_with_the_http_sends_body(api: Any, user: User) -> None:
    set_limits(user)  # two turns at once
    over_http = send(api, Conversation.objects.create(user=user), content="Why?").json()
    conversation = Conversation.objects.create(user=user)

    reply = frame_send(
        user, {"type": "send", "request_id": "r1", "conversation_id": str(conversation.id), "content": "Why?"}
    )

    assert (reply["type"], reply["request_id"]) == ("sent", "r1")
    assert set(reply) - {"type", "request_id", "rate_limit"} == set(over_http)
    turn_id = reply["assistant_message"]["id"]
    assert reply["stream"] == {
        "events_url": f"/api/v1/turns/{turn_id}/events",
        "websocket_url": f"wss://{HOST}/ws/turns/{turn_id}/",
    }
    assert "RateLimit-Policy" in reply["rate_limit"]
    assert Message.objects.get(id=turn_id).status == Message.Status.QUEUED


def test_a_send_frame_without_a_conversation_starts_one(user: User) -> None:
    reply = frame_send(user, {"type": "send", "conversation_id": None, "content": "Hi"})

    assert reply["type"] == "sent" and reply["request_id"] is None
    assert reply["conversation"]["id"] == str(reply["conversation_id"])
    assert Conversation.objects.filter(user=user, id=reply["conversation_id"]).exists()


def test_a_regenerate_frame_answers_sent_with_the_new_sibling(user: User, conversation: Conversation) -> None:
    created = sends.turn_send(user=user, conversation_id=conversation.id, content="Why?", deepthink=False)
    run_turn(created.assistant_message.id, [], ["Because."])
    services.turn_settle(turn_id=created.assistant_message.id)

    reply = frame_send(user, {"type": "regenerate", "message_id": str(created.assistant_message.id)})

    assert reply["type"] == "sent" and reply["user_message"] is None
    assert (reply["assistant_message"]["sibling_index"], reply["assistant_message"]["sibling_count"]) == (1, 2)


def test_a_refused_frame_carries_its_request_id_status_and_the_error_shape(
    user: User, conversation: Conversation, settings: Any
) -> None:
    settings.WHALE_MAX_MESSAGE_CHARS = 10
    reply = frame_send(
        user, {"type": "send", "request_id": "big", "conversation_id": str(conversation.id), "content": "x" * 11}
    )

    assert refusal(reply) == (400, "message_too_long")
    assert reply["request_id"] == "big" and reply["error"]["message"]
    assert not Message.objects.filter(conversation=conversation).exists()


def test_a_limit_refusal_says_when_to_retry(user: User) -> None:
    set_limits(user, concurrent_turns=1)
    frame_send(user, {"type": "send", "conversation_id": None, "content": "one"})

    reply = frame_send(user, {"type": "send", "conversation_id": None, "content": "two"})

    assert refusal(reply) == (429, "concurrent_turns_exceeded")
    assert reply["retry_after"] >= 1


def test_another_users_conversation_is_refused_404(user: User) -> None:
    elsewhere = Conversation.objects.create(user=make_user())
    reply = frame_send(user, {"type": "send", "conversation_id": str(elsewhere.id), "content": "Hi"})
    assert refusal(reply) == (404, "not_found")


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"type": "send", "conversation_id": "nope", "content": "Hi"}, "conversation_id"),
        ({"type": "send", "conversation_id": None, "content": ""}, "content"),
        ({"type": "regenerate", "message_id": "nope"}, "message_id"),
        ({"type": "send", "request_id": "r" * (REQUEST_ID_MAX_CHARS + 1), "content": "Hi"}, "request_id"),
        ({"type": "send", "request_id": 7, "content": "Hi"}, "request_id"),
    ],
)
def test_a_malformed_frame_is_refused_400_naming_its_field(user: User, frame: dict[str, Any], field: str) -> None:
    reply = frame_send(user, frame)
    assert refusal(reply) == (400, "invalid")
    assert field in reply["error"]["fields"]


def test_a_socket_whose_access_token_has_expired_may_not_send(user: User) -> None:
    reply = frame_send(
        user, {"type": "send", "conversation_id": None, "content": "Hi"}, token_expires_at=time.time() - 1
    )
    assert refusal(reply) == (401, "not_authenticated")
    assert not Conversation.objects.filter(user=user).exists()


def test_a_deleted_account_may_not_send(user: User) -> None:
    user_id = user.pk
    user.delete()
    reply = socket_send(user_id, {"type": "send", "conversation_id": None, "content": "Hi"}, secure=False, host=HOST)
    assert refusal(reply) == (401, "not_authenticated")


def test_an_unverified_email_may_not_send_where_chat_needs_one(user: User, settings: Any) -> None:
    settings.WHALE_REQUIRE_VERIFIED_EMAIL_TO_CHAT = True
    reply = frame_send(user, {"type": "send", "conversation_id": None, "content": "Hi"})
    assert refusal(reply) == (403, "email_not_verified")
