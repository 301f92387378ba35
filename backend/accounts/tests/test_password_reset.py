"""Password reset by emailed code: never reveals whether an address has an account; signs everyone out."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import EmailCode, User
from accounts.services import token_pair_issue

from .conftest import last_code
from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
RESET = "/api/v1/auth/password/reset"
CONFIRM = "/api/v1/auth/password/reset/confirm"


def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(api: APIClient, user: User, committed) -> None:
    known = committed(api.post, RESET, {"email": user.email}, format="json")
    unknown = committed(api.post, RESET, {"email": "nobody@example.com"}, format="json")

    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert [message.to for message in mail.outbox] == [[user.email]]


def test_the_answer_stays_202_when_the_account_asked_too_often(api: APIClient, user: User, committed) -> None:
    for _ in range(7):
        assert committed(api.post, RESET, {"email": user.email}, format="json").status_code == 202
    assert len(mail.outbox) == 5


def test_a_reset_code_sets_the_new_password_and_signs_every_session_out(api: APIClient, user: User, committed) -> None:
    session = token_pair_issue(user=user)
    committed(api.post, RESET, {"email": user.email}, format="json")

    response = api.post(
        CONFIRM, {"email": user.email, "code": last_code(user.email), "new_password": "a-New-password-9"}, format="json"
    )

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password("a-New-password-9")
    assert api.post("/api/v1/auth/refresh", {"refresh": session.refresh}, format="json").status_code == 401
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {session.access}").status_code == 401


def test_a_reset_code_works_only_once(api: APIClient, user: User, committed) -> None:
    committed(api.post, RESET, {"email": user.email}, format="json")
    body = {"email": user.email, "code": last_code(user.email), "new_password": "a-New-password-9"}
    assert api.post(CONFIRM, body, format="json").status_code == 204

    response = api.post(CONFIRM, {**body, "new_password": "another-Password-8"}, format="json")

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password("a-New-password-9")


def test_a_wrong_code_and_an_unknown_email_get_the_same_answer(api: APIClient, user: User, committed) -> None:
    committed(api.post, RESET, {"email": user.email}, format="json")
    code = last_code(user.email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    wrong_code = api.post(
        CONFIRM, {"email": user.email, "code": wrong, "new_password": "a-New-password-9"}, format="json"
    )
    unknown = api.post(
        CONFIRM, {"email": "nobody@example.com", "code": code, "new_password": "a-New-password-9"}, format="json"
    )

    assert wrong_code.status_code == unknown.status_code == 400
    assert wrong_code.json() == unknown.json()
    assert wrong_code.json()["error"]["code"] == "invalid_code"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_weak_new_password_is_refused_without_using_up_the_code(api: APIClient, user: User, committed) -> None:
    committed(api.post, RESET, {"email": user.email}, format="json")
    code = last_code(user.email)

    response = api.post(CONFIRM, {"email": user.email, "code": code, "new_password": "password"}, format="json")

    assert response.status_code == 400
    assert "new_password" in response.json()["error"]["fields"]
    assert EmailCode.objects.get(user=user).attempts == 0
    assert (
        api.post(
            CONFIRM, {"email": user.email, "code": code, "new_password": "a-New-password-9"}, format="json"
        ).status_code
        == 204
    )


def test_a_reset_proves_the_email_address(api: APIClient, committed) -> None:
    unverified = UserFactory(email_verified_at=None)
    committed(api.post, RESET, {"email": unverified.email}, format="json")

    api.post(
        CONFIRM,
        {"email": unverified.email, "code": last_code(unverified.email), "new_password": "a-New-password-9"},
        format="json",
    )

    unverified.refresh_from_db()
    assert unverified.email_verified
