"""Every input is limited, and every refusal comes in the one error shape with per-field messages."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User

from .factories import PASSWORD

pytestmark = pytest.mark.django_db
LONG_EMAIL = "a" * 245 + "@example.com"  # 257 characters


def _fields(response) -> dict[str, list[str]]:
    body = response.json()
    assert response.status_code == 400, body
    assert set(body) == {"error"}
    assert body["error"]["code"] == "invalid"
    assert body["error"]["message"]
    return body["error"]["fields"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/auth/register", {"email": LONG_EMAIL, "password": "a-Good-password-1"}, "email"),
        ("/api/v1/auth/register", {"email": "new@example.com", "password": "x" * 129}, "password"),
        (
            "/api/v1/auth/register",
            {"email": "new@example.com", "password": "a-Good-password-1", "display_name": "d" * 65},
            "display_name",
        ),
        ("/api/v1/auth/register", {"email": "not-an-email", "password": "a-Good-password-1"}, "email"),
        ("/api/v1/auth/login", {"email": LONG_EMAIL, "password": "whatever"}, "email"),
        ("/api/v1/auth/login", {"email": "a@example.com", "password": "x" * 129}, "password"),
        ("/api/v1/auth/login", {"email": "a@example.com"}, "password"),
        ("/api/v1/auth/refresh", {"refresh": "x" * 2049}, "refresh"),
        ("/api/v1/auth/password/reset", {"email": LONG_EMAIL}, "email"),
        (
            "/api/v1/auth/password/reset/confirm",
            {"email": "a@example.com", "code": "12345", "new_password": "a-Good-password-1"},
            "code",
        ),
        (
            "/api/v1/auth/password/reset/confirm",
            {"email": "a@example.com", "code": "1234567", "new_password": "a-Good-password-1"},
            "code",
        ),
        (
            "/api/v1/auth/password/reset/confirm",
            {"email": "a@example.com", "code": "12a456", "new_password": "a-Good-password-1"},
            "code",
        ),
        (
            "/api/v1/auth/password/reset/confirm",
            {"email": "a@example.com", "code": "123456", "new_password": "x" * 129},
            "new_password",
        ),
    ],
)
def test_public_endpoints_refuse_invalid_input_with_field_errors(
    api: APIClient, path: str, body: dict, field: str
) -> None:
    assert field in _fields(api.post(path, body, format="json"))


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("patch", "/api/v1/me", {"display_name": "d" * 65}, "display_name"),
        ("post", "/api/v1/auth/verify-email", {"code": "١٢٣٤٥٦"}, "code"),  # Arabic-Indic digits are not 0-9
        ("post", "/api/v1/auth/verify-email", {"code": 123456}, "code"),
        ("post", "/api/v1/me/password", {"current_password": PASSWORD, "new_password": "x" * 129}, "new_password"),
        ("post", "/api/v1/me/delete", {"password": "x" * 129}, "password"),
    ],
)
def test_signed_in_endpoints_refuse_invalid_input_with_field_errors(
    user: User, signed_in, method: str, path: str, body: dict, field: str
) -> None:
    assert field in _fields(getattr(signed_in(user), method)(path, body, format="json"))


def test_a_too_weak_password_is_refused_by_the_password_rules(api: APIClient) -> None:
    fields = _fields(
        api.post("/api/v1/auth/register", {"email": "new@example.com", "password": "password"}, format="json")
    )

    assert "This password is too common." in fields["password"]


def test_a_password_like_the_email_is_refused(api: APIClient) -> None:
    body = {"email": "moby.dick.whale@example.com", "password": "moby.dick.whale"}

    assert "password" in _fields(api.post("/api/v1/auth/register", body, format="json"))


def test_a_null_character_is_refused_not_a_server_error(api: APIClient) -> None:
    assert "password" in _fields(
        api.post("/api/v1/auth/login", {"email": "a@example.com", "password": "a\x00b"}, format="json")
    )


def test_malformed_json_is_a_400_in_the_error_shape(api: APIClient) -> None:
    response = api.post("/api/v1/auth/login", data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_registering_a_taken_email_is_a_conflict_whatever_its_case(api: APIClient, user: User, committed) -> None:
    response = committed(
        api.post, "/api/v1/auth/register", {"email": user.email.upper(), "password": "a-Good-password-1"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"
    assert "email" in response.json()["error"]["fields"]
    assert User.objects.count() == 1
