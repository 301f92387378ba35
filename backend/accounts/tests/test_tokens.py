"""Refresh tokens: single use, revoked on logout, and carried in an HttpOnly cookie for web clients."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.api import REFRESH_COOKIE
from accounts.models import User
from accounts.services import token_pair_issue

from .factories import PASSWORD

pytestmark = pytest.mark.django_db
WEB = {"HTTP_X_WHALE_CLIENT": "web"}


def test_a_refresh_token_can_be_used_only_once(api: APIClient, user: User) -> None:
    pair = token_pair_issue(user=user)

    first = api.post("/api/v1/auth/refresh", {"refresh": pair.refresh}, format="json")
    second = api.post("/api/v1/auth/refresh", {"refresh": pair.refresh}, format="json")

    assert first.status_code == 200
    assert second.status_code == 401
    assert second.json()["error"]["code"] == "invalid_refresh_token"


def test_an_access_token_is_not_a_refresh_token(api: APIClient, user: User) -> None:
    pair = token_pair_issue(user=user)

    assert api.post("/api/v1/auth/refresh", {"refresh": pair.access}, format="json").status_code == 401


def test_garbage_is_not_a_refresh_token(api: APIClient) -> None:
    response = api.post("/api/v1/auth/refresh", {"refresh": "not-a-token"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_refresh_token"


def test_refresh_without_a_token_is_unauthenticated(api: APIClient) -> None:
    response = api.post("/api/v1/auth/refresh", {}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_refresh_token"


def test_logout_without_a_token_has_nothing_to_revoke_and_clears_the_cookie(api: APIClient) -> None:
    response = api.post("/api/v1/auth/logout", {}, format="json", **WEB)

    assert response.status_code == 204
    assert response.cookies[REFRESH_COOKIE].value == ""


def test_the_refresh_token_of_a_deactivated_user_is_refused(api: APIClient, user: User) -> None:
    pair = token_pair_issue(user=user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert api.post("/api/v1/auth/refresh", {"refresh": pair.refresh}, format="json").status_code == 401


def test_logout_revokes_only_that_session(api: APIClient, user: User) -> None:
    phone, laptop = token_pair_issue(user=user), token_pair_issue(user=user)

    assert api.post("/api/v1/auth/logout", {"refresh": phone.refresh}, format="json").status_code == 204

    assert api.post("/api/v1/auth/refresh", {"refresh": phone.refresh}, format="json").status_code == 401
    assert api.post("/api/v1/auth/refresh", {"refresh": laptop.refresh}, format="json").status_code == 200


def test_logging_out_twice_is_fine(api: APIClient, user: User) -> None:
    pair = token_pair_issue(user=user)
    api.post("/api/v1/auth/logout", {"refresh": pair.refresh}, format="json")

    assert api.post("/api/v1/auth/logout", {"refresh": pair.refresh}, format="json").status_code == 204


def test_a_stale_access_token_does_not_block_login_or_refresh(api: APIClient, user: User) -> None:
    api.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")

    assert api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json").status_code == 200


def test_a_web_login_puts_the_refresh_token_in_a_strict_http_only_cookie(api: APIClient, user: User) -> None:
    with override_settings(DEBUG=False):
        response = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json", **WEB)

    assert response.status_code == 200
    assert "refresh" not in response.json() and response.json()["access"]
    cookie = response.cookies[REFRESH_COOKIE]
    assert cookie.value
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["secure"] is True
    assert cookie["path"] == "/api/v1/auth/"
    assert int(cookie["max-age"]) > 0


def test_the_web_cookie_is_not_secure_in_debug_so_http_localhost_works(api: APIClient, user: User) -> None:
    with override_settings(DEBUG=True):
        response = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json", **WEB)

    assert response.cookies[REFRESH_COOKIE]["secure"] == ""


def test_a_web_register_also_uses_the_cookie(api: APIClient, committed) -> None:
    response = committed(
        api.post,
        "/api/v1/auth/register",
        {"email": "web@example.com", "password": "a-Web-password-1"},
        format="json",
        **WEB,
    )

    assert response.status_code == 201
    assert "refresh" not in response.json()
    assert response.cookies[REFRESH_COOKIE].value


def test_a_web_client_refreshes_and_logs_out_with_the_cookie(api: APIClient, user: User) -> None:
    login = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json", **WEB)
    first_cookie = login.cookies[REFRESH_COOKIE].value

    refreshed = api.post("/api/v1/auth/refresh", {}, format="json", **WEB)  # the client sends the cookie back

    assert refreshed.status_code == 200
    assert "refresh" not in refreshed.json()
    second_cookie = refreshed.cookies[REFRESH_COOKIE].value
    assert second_cookie and second_cookie != first_cookie
    assert api.post("/api/v1/auth/refresh", {"refresh": first_cookie}, format="json").status_code == 401

    logout = api.post("/api/v1/auth/logout", {}, format="json", **WEB)

    assert logout.status_code == 204
    assert logout.cookies[REFRESH_COOKIE].value == ""
    assert logout.cookies[REFRESH_COOKIE]["max-age"] == 0
    assert api.post("/api/v1/auth/refresh", {"refresh": second_cookie}, format="json").status_code == 401


def test_the_cookie_is_only_read_for_web_clients(api: APIClient, user: User) -> None:
    api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json", **WEB)

    # Without the header (which a cross-site form cannot send) the cookie is ignored.
    assert api.post("/api/v1/auth/refresh", {}, format="json").status_code == 401


def test_a_web_password_change_moves_the_new_refresh_token_into_the_cookie(
    api: APIClient, user: User, signed_in
) -> None:
    response = signed_in(user).post(
        "/api/v1/me/password",
        {"current_password": PASSWORD, "new_password": "brand-New-pass-1"},
        format="json",
        **WEB,
    )

    assert response.status_code == 200
    assert "refresh" not in response.json()
    assert response.cookies[REFRESH_COOKIE].value
