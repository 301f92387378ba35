"""Email verification codes: hashed at rest, single use, expiring, dead after too many wrong tries, resendable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import EmailCode, User

from .conftest import last_code
from .factories import UserFactory

pytestmark = pytest.mark.django_db
VERIFY = "/api/v1/auth/verify-email"
RESEND = "/api/v1/auth/verify-email/resend"


@pytest.fixture
def unverified(db: None) -> User:
    return UserFactory(email_verified_at=None)


def _send_code(client: APIClient, committed, user: User) -> str:
    assert committed(client.post, RESEND).status_code == 202
    return last_code(user.email)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_only_a_hash_of_the_code_is_stored(unverified: User, signed_in, committed) -> None:
    code = _send_code(signed_in(unverified), committed, unverified)

    stored = EmailCode.objects.get(user=unverified)
    assert code not in stored.code_hash
    assert len(stored.code_hash) == 64


def test_the_right_code_verifies_the_email_once(unverified: User, signed_in, committed) -> None:
    client = signed_in(unverified)
    code = _send_code(client, committed, unverified)

    response = client.post(VERIFY, {"code": code}, format="json")

    assert response.status_code == 200
    unverified.refresh_from_db()
    assert unverified.email_verified
    assert EmailCode.objects.get(user=unverified).used_at is not None


def test_a_wrong_code_is_refused_and_counted(unverified: User, signed_in, committed) -> None:
    client = signed_in(unverified)
    code = _send_code(client, committed, unverified)

    response = client.post(VERIFY, {"code": _wrong(code)}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"
    assert EmailCode.objects.get(user=unverified).attempts == 1
    unverified.refresh_from_db()
    assert not unverified.email_verified


@override_settings(WHALE_EMAIL_CODE_MAX_ATTEMPTS=3)
def test_a_code_is_dead_after_too_many_wrong_tries(unverified: User, signed_in, committed) -> None:
    client = signed_in(unverified)
    code = _send_code(client, committed, unverified)
    for _ in range(3):
        assert client.post(VERIFY, {"code": _wrong(code)}, format="json").status_code == 400

    response = client.post(VERIFY, {"code": code}, format="json")

    assert response.status_code == 400
    unverified.refresh_from_db()
    assert not unverified.email_verified


def test_an_expired_code_is_refused(unverified: User, signed_in, committed) -> None:
    client = signed_in(unverified)
    code = _send_code(client, committed, unverified)
    EmailCode.objects.filter(user=unverified).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client.post(VERIFY, {"code": code}, format="json").status_code == 400


def test_a_resent_code_replaces_the_previous_one(unverified: User, signed_in, committed) -> None:
    client = signed_in(unverified)
    first = _send_code(client, committed, unverified)
    second = _send_code(client, committed, unverified)
    if first == second:  # one chance in a million
        pytest.skip("the two random codes happen to be equal")

    assert client.post(VERIFY, {"code": first}, format="json").status_code == 400
    assert client.post(VERIFY, {"code": second}, format="json").status_code == 200


def test_resending_is_limited_per_hour(unverified: User, signed_in, committed) -> None:
    client = signed_in(unverified)
    for _ in range(5):
        assert committed(client.post, RESEND).status_code == 202

    response = committed(client.post, RESEND)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_attempts"
    assert int(response["Retry-After"]) > 0
    assert len(mail.outbox) == 5


def test_a_verified_user_gets_no_new_code(user: User, signed_in, committed) -> None:
    assert committed(signed_in(user).post, RESEND).status_code == 202
    assert mail.outbox == []


def test_another_users_code_does_not_verify_me(unverified: User, signed_in, committed) -> None:
    someone = UserFactory(email_verified_at=None)
    their_code = _send_code(signed_in(someone), committed, someone)

    assert signed_in(unverified).post(VERIFY, {"code": their_code}, format="json").status_code == 400
    unverified.refresh_from_db()
    assert not unverified.email_verified


def test_verifying_needs_authentication(api: APIClient) -> None:
    response = api.post(VERIFY, {"code": "123456"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert api.post(RESEND).status_code == 401
