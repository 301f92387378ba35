"""Failed sign-ins are limited per account and per IP in Redis, and unknown emails look like wrong passwords."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import User

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/auth/login"


def _login(api: APIClient, email: str, password: str, ip: str = "203.0.113.7", **extra: str):
    return api.post(LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip, **extra)


@override_settings(WHALE_LOGIN_MAX_FAILURES_PER_ACCOUNT=3, WHALE_LOGIN_LOCKOUT_SECONDS=600)
def test_an_account_is_locked_after_too_many_failures_even_for_the_right_password(api: APIClient, user: User) -> None:
    for _ in range(3):
        assert _login(api, user.email, "wrong-password").status_code == 401

    response = _login(api, user.email, PASSWORD)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_attempts"
    assert 590 <= int(response["Retry-After"]) <= 600
    assert response.json()["error"]["retry_after"] == int(response["Retry-After"])


@override_settings(WHALE_LOGIN_MAX_FAILURES_PER_ACCOUNT=3)
def test_the_account_limit_holds_across_ips_and_spares_other_accounts(api: APIClient, user: User) -> None:
    other = UserFactory()
    for index in range(3):
        _login(api, user.email, "wrong-password", ip=f"198.51.100.{index}")

    assert _login(api, user.email, PASSWORD, ip="192.0.2.99").status_code == 429
    assert _login(api, other.email, PASSWORD, ip="192.0.2.99").status_code == 200


@override_settings(WHALE_LOGIN_MAX_FAILURES_PER_ACCOUNT=100, WHALE_LOGIN_MAX_FAILURES_PER_IP=4)
def test_an_ip_is_locked_after_too_many_failures_across_accounts(api: APIClient, user: User) -> None:
    for index in range(4):
        assert _login(api, f"nobody{index}@example.com", "wrong-password").status_code == 401

    response = _login(api, user.email, PASSWORD)

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert _login(api, user.email, PASSWORD, ip="203.0.113.8").status_code == 200


@override_settings(WHALE_LOGIN_MAX_FAILURES_PER_ACCOUNT=3)
def test_a_successful_login_clears_the_account_failures(api: APIClient, user: User) -> None:
    for _ in range(2):
        _login(api, user.email, "wrong-password")
    assert _login(api, user.email, PASSWORD).status_code == 200

    for _ in range(2):
        assert _login(api, user.email, "wrong-password").status_code == 401
    assert _login(api, user.email, PASSWORD).status_code == 200


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(api: APIClient, user: User) -> None:
    wrong_password = _login(api, user.email, "wrong-password")
    unknown_email = _login(api, "nobody@example.com", "wrong-password")

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.json()["error"]["code"] == "invalid_credentials"


def test_an_unknown_email_still_runs_the_password_hasher(api: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = User.set_password

    def spy(self: User, raw_password: str | None) -> None:
        calls.append(str(raw_password))
        original(self, raw_password)

    monkeypatch.setattr(User, "set_password", spy)

    assert _login(api, "nobody@example.com", "some-password").status_code == 401
    assert calls == ["some-password"]


def test_an_inactive_account_cannot_log_in_and_looks_like_a_wrong_password(api: APIClient) -> None:
    inactive = UserFactory(is_active=False)

    response = _login(api, inactive.email, PASSWORD)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_the_email_is_matched_whatever_its_case(api: APIClient, user: User) -> None:
    assert _login(api, f"  {user.email.upper()} ", PASSWORD).status_code == 200


@override_settings(WHALE_LOGIN_MAX_FAILURES_PER_ACCOUNT=100, WHALE_LOGIN_MAX_FAILURES_PER_IP=2)
def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(api: APIClient, user: User) -> None:
    for index in range(2):
        _login(api, "nobody@example.com", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{index}")

    # The forged header does not give a fresh IP: REMOTE_ADDR is what counts.
    assert _login(api, user.email, PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


@override_settings(
    WHALE_LOGIN_MAX_FAILURES_PER_ACCOUNT=100, WHALE_LOGIN_MAX_FAILURES_PER_IP=2, WHALE_TRUSTED_PROXY_COUNT=1
)
def test_with_one_trusted_proxy_the_address_it_appended_counts(api: APIClient, user: User) -> None:
    for _ in range(2):
        _login(api, "nobody@example.com", "wrong", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.0.1")

    assert _login(api, user.email, PASSWORD, HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 429
    assert _login(api, user.email, PASSWORD, HTTP_X_FORWARDED_FOR="10.0.0.1, 10.0.0.2").status_code == 200


@override_settings(WHALE_LOGIN_MAX_FAILURES_PER_ACCOUNT=2)
def test_wrong_current_passwords_count_towards_the_lockout(api: APIClient, user: User, signed_in) -> None:
    client = signed_in(user)
    for _ in range(2):
        response = client.post(
            "/api/v1/me/password", {"current_password": "nope", "new_password": "brand-New-pass-1"}, format="json"
        )
        assert response.status_code == 400

    assert _login(api, user.email, PASSWORD).status_code == 429
