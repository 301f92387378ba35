"""Suspension: a suspended account is refused everywhere at once, and reinstating lets it back in."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.test import Client
from rest_framework.test import APIClient

from accounts import selectors, services
from accounts.models import User
from chat import sends
from config.asgi import application

from .conftest import bearer
from .factories import PASSWORD, UserFactory


def sign_in(api: APIClient, user: User) -> dict[str, str]:
    response = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_an_access_token_issued_before_suspension_is_refused_at_once(api: APIClient, user: User) -> None:
    tokens = sign_in(api, user)
    assert api.get("/api/v1/me", **bearer(tokens["access"])).status_code == 200

    services.user_suspend(user=user, reason="spam")

    response = api.get("/api/v1/me", **bearer(tokens["access"]))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_suspended"


@pytest.mark.django_db
def test_a_refresh_token_issued_before_suspension_cannot_be_traded(api: APIClient, user: User) -> None:
    tokens = sign_in(api, user)

    services.user_suspend(user=user)

    response = api.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_refresh_token"


@pytest.mark.django_db
def test_a_suspended_user_signing_in_with_the_right_password_is_told_the_account_is_suspended(
    api: APIClient, user: User
) -> None:
    services.user_suspend(user=user)

    response = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "account_suspended"
    assert error["message"].startswith("This account is suspended")
    assert "access" not in response.json() and "refresh" not in response.cookies


@pytest.mark.django_db
def test_a_wrong_password_for_a_suspended_account_reveals_nothing(api: APIClient, user: User) -> None:
    services.user_suspend(user=user)

    response = api.post("/api/v1/auth/login", {"email": user.email, "password": "not-the-password"}, format="json")
    unknown = api.post("/api/v1/auth/login", {"email": "nobody@example.com", "password": PASSWORD}, format="json")

    assert response.status_code == unknown.status_code == 401
    assert response.json() == unknown.json()
    assert response.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.django_db
def test_an_inactive_account_that_is_not_suspended_still_gets_invalid_credentials(api: APIClient, user: User) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.django_db
def test_a_cookie_session_of_a_suspended_staff_user_no_longer_opens_the_admin(client: Client) -> None:
    staff = User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200

    services.user_suspend(user=staff)

    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_reinstating_lets_the_user_sign_in_again(api: APIClient, user: User) -> None:
    services.user_suspend(user=user, reason="mistake")
    services.user_reinstate(user=User.objects.get(pk=user.pk))

    user.refresh_from_db()
    assert user.suspended_at is None and user.suspended_reason == "" and user.is_active
    tokens = sign_in(api, user)
    assert api.get("/api/v1/me", **bearer(tokens["access"])).status_code == 200


@pytest.mark.django_db
def test_the_one_check_refuses_a_suspended_account_even_if_is_active_was_switched_back_on(user: User) -> None:
    assert selectors.user_may_authenticate(user)
    services.user_suspend(user=user)
    user.is_active = True  # e.g. edited by hand in the admin form

    assert not selectors.user_may_authenticate(user)
    assert not selectors.user_may_authenticate(None)


@pytest.mark.django_db
def test_an_access_token_is_refused_when_only_suspended_at_is_set(api: APIClient, user: User) -> None:
    tokens = sign_in(api, user)
    User.objects.filter(pk=user.pk).update(suspended_at="2026-01-01T00:00:00Z")  # is_active left on

    response = api.get("/api/v1/me", **bearer(tokens["access"]))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_suspended"


@pytest.mark.django_db(transaction=True)
async def test_a_websocket_is_refused_on_connect_after_suspension_and_an_open_one_is_closed() -> None:
    user: Any = await sync_to_async(UserFactory)()
    access = await sync_to_async(lambda: services.token_pair_issue(user=user).access)()
    open_socket = WebsocketCommunicator(application, f"/ws/events/?token={access}")
    await open_socket.connect()
    assert (await open_socket.receive_json_from(5))["type"] == "ready"

    await sync_to_async(services.user_suspend)(user=user, reason="abuse")

    assert (await open_socket.receive_json_from(5))["type"] == "account.suspended"
    assert (await open_socket.receive_output(5))["code"] == 4403

    new_socket = WebsocketCommunicator(application, f"/ws/events/?token={access}")
    await new_socket.connect()
    assert (await new_socket.receive_output(5))["code"] == 4401
    turn_socket = WebsocketCommunicator(application, f"/ws/turns/00000000-0000-0000-0000-000000000000/?token={access}")
    await turn_socket.connect()
    assert (await turn_socket.receive_output(5))["code"] == 4401


@pytest.mark.django_db
def test_the_event_stream_over_sse_refuses_a_suspended_users_token(api: APIClient, user: User) -> None:
    tokens = sign_in(api, user)
    services.user_suspend(user=user)

    response = api.get(f"/api/v1/events?token={tokens['access']}")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_suspended"


@pytest.mark.django_db
def test_suspension_stops_the_answers_the_user_is_still_waiting_for(
    user: User, django_capture_on_commit_callbacks: Any
) -> None:

    from chat.models import Conversation, Message

    conversation = Conversation.objects.create(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        turn = sends.turn_send(
            user=user, conversation_id=conversation.id, content="Why?", deepthink=False
        ).assistant_message
    assert turn.status == Message.Status.QUEUED

    with django_capture_on_commit_callbacks(execute=True):
        services.user_suspend(user=user)

    turn.refresh_from_db()
    assert turn.status == Message.Status.CANCELLED


@pytest.mark.django_db(transaction=True)
async def test_an_open_sse_event_stream_ends_after_the_suspension_event() -> None:
    import asyncio

    from django.test import AsyncClient

    user: Any = await sync_to_async(UserFactory)()
    access = await sync_to_async(lambda: services.token_pair_issue(user=user).access)()
    response = await AsyncClient().get("/api/v1/events", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 200
    chunks = response.streaming_content.__aiter__()

    async def read_until(text: str) -> str:
        seen = ""
        while text not in seen:
            chunk = await asyncio.wait_for(chunks.__anext__(), 5)
            seen += chunk.decode() if isinstance(chunk, bytes) else chunk
        return seen

    await read_until("event: ready")
    await sync_to_async(services.user_suspend)(user=user)

    assert "event: account.suspended" in await read_until("account.suspended")
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(chunks.__anext__(), 5)
