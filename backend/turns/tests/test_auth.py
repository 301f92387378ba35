"""turns.auth: the access token a stream is opened with (SSE header or `?token=`, WebSocket), and who it is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.services import user_suspend
from chat.models import Conversation, Message
from config.asgi import application
from turns import consumers
from turns.auth import access_token_expiry, bearer_token, user_from_access_token

from .conftest import access_token, make_user

pytestmark = pytest.mark.django_db


def _expired_token(user: User) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=-1))
    return str(token)


def _oversized_token(user: User) -> str:
    return access_token(user) + "A" * 5000


def _token_signed_elsewhere(user: User) -> str:
    """A well-formed token for this user, signed with a key that is not the server's."""
    return jwt.encode(
        {**AccessToken.for_user(user).payload}, "someone-elses-signing-key-of-32-bytes-or-more", algorithm="HS256"
    )


def _queued_answer(user: User) -> Message:
    conversation = Conversation.objects.create(user=user)
    return Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, status=Message.Status.QUEUED, model="whale-r1"
    )


def test_a_valid_access_token_belongs_to_its_user(user: User) -> None:
    assert user_from_access_token(access_token(user)) == user


@pytest.mark.parametrize("raw", [None, "", "not-a-jwt", "x" * 4097])
def test_a_missing_malformed_or_oversized_token_is_nobody(raw: str | None) -> None:
    assert user_from_access_token(raw) is None
    assert access_token_expiry(raw) is None


def test_an_expired_token_is_nobody_and_has_no_expiry_to_read(user: User) -> None:
    token = _expired_token(user)
    assert user_from_access_token(token) is None
    assert access_token_expiry(token) is None


def test_a_token_signed_with_another_key_is_nobody(user: User) -> None:
    assert user_from_access_token(_token_signed_elsewhere(user)) is None


def test_a_token_issued_before_a_password_change_is_revoked(user: User) -> None:
    token = access_token(user)
    user.set_password("another horse battery staple")
    user.save()
    assert user_from_access_token(token) is None


def test_a_suspended_users_token_is_nobody(user: User) -> None:
    token = access_token(user)
    user_suspend(user=user, reason="spam")
    assert user_from_access_token(token) is None


def test_an_account_marked_suspended_but_left_active_is_nobody_too(user: User) -> None:
    token = access_token(user)
    User.objects.filter(pk=user.pk).update(suspended_at=timezone.now())  # flags edited apart, e.g. in the admin
    assert user_from_access_token(token) is None


def test_the_expiry_is_the_tokens_own(user: User) -> None:
    token = AccessToken.for_user(user)
    assert access_token_expiry(str(token)) == float(token["exp"])


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def", "abc.def"),
        ("bearer  abc.def ", "abc.def"),
        ("Basic abc.def", None),
        ("Bearer ", None),
        ("abc.def", None),
        ("", None),
        (None, None),
    ],
)
def test_only_a_bearer_authorization_carries_a_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_the_events_endpoint_takes_the_token_from_the_query(user: User) -> None:
    turn = _queued_answer(user)
    response = APIClient().get(f"/api/v1/turns/{turn.id}/events", {"token": access_token(user)})
    assert response.status_code == 200
    response.close()


@pytest.mark.parametrize("path", ["/api/v1/turns/{turn}/events", "/api/v1/events"])
@pytest.mark.parametrize("token", [_expired_token, _token_signed_elsewhere, _oversized_token])
def test_a_bad_query_token_on_a_stream_endpoint_is_a_401_in_the_error_shape(user: User, path: str, token: Any) -> None:
    turn = _queued_answer(user)

    response = APIClient().get(path.format(turn=turn.id), {"token": token(user)})

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "authentication_failed"


def test_no_token_on_a_stream_endpoint_is_a_401_not_authenticated(user: User) -> None:
    response = APIClient().get(f"/api/v1/turns/{_queued_answer(user).id}/events")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_suspended_users_query_token_is_refused_as_suspended(user: User) -> None:
    turn = _queued_answer(user)
    token = access_token(user)
    user_suspend(user=user, reason="spam")

    response = APIClient().get(f"/api/v1/turns/{turn.id}/events", {"token": token})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_suspended"


def test_another_users_token_does_not_open_a_turns_stream(user: User) -> None:
    turn = _queued_answer(user)
    response = APIClient().get(f"/api/v1/turns/{turn.id}/events", {"token": access_token(make_user())})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def _close_code(path: str) -> int:
    socket = WebsocketCommunicator(application, path)
    connected, _ = await socket.connect()
    assert connected
    output = await socket.receive_output(5)
    await socket.disconnect()
    assert output["type"] == "websocket.close"
    return int(output.get("code", 1000))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/turns/{turn}/", "/ws/events/"])
@pytest.mark.parametrize("token", [_expired_token, _token_signed_elsewhere])
async def test_a_socket_opened_with_a_bad_token_closes_4401(path: str, token: Any) -> None:
    user = await sync_to_async(make_user)()
    turn = await sync_to_async(_queued_answer)(user)
    raw = await sync_to_async(token)(user)

    code = await _close_code(path.format(turn=turn.id) + f"?token={raw}")

    assert code == consumers.CLOSE_UNAUTHENTICATED


@pytest.mark.django_db(transaction=True)
async def test_a_socket_takes_the_token_from_the_authorization_header() -> None:
    user = await sync_to_async(make_user)()
    raw = await sync_to_async(access_token)(user)
    socket = WebsocketCommunicator(application, "/ws/events/", headers=[(b"authorization", f"Bearer {raw}".encode())])
    connected, _ = await socket.connect()
    assert connected
    assert await socket.receive_json_from(5) == {"type": "ready"}
    await socket.disconnect()
