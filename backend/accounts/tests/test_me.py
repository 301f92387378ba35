"""The signed-in user's profile: reading it, renaming, changing the password."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_pair_issue

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_me_shows_exactly_the_documented_profile(user: User, signed_in) -> None:
    response = signed_in(user).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.id),
        "email": user.email,
        "display_name": user.display_name,
        "email_verified": True,
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
        "is_staff": False,
    }


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/me/export"])
def test_me_needs_an_access_token(api: APIClient, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_refresh_token_is_not_an_access_token(api: APIClient, user: User) -> None:
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=user).refresh}")

    assert api.get("/api/v1/me").status_code == 401


def test_i_can_change_my_display_name(user: User, signed_in) -> None:
    response = signed_in(user).patch("/api/v1/me", {"display_name": "  Moby  "}, format="json")

    assert response.status_code == 200
    assert response.json()["user"]["display_name"] == "Moby"
    user.refresh_from_db()
    assert user.display_name == "Moby"


def test_renaming_myself_leaves_others_alone(user: User, signed_in) -> None:
    other = UserFactory(display_name="Other")

    signed_in(user).patch("/api/v1/me", {"display_name": "Moby"}, format="json")

    other.refresh_from_db()
    assert other.display_name == "Other"


def test_a_password_change_needs_the_current_password(user: User, signed_in) -> None:
    response = signed_in(user).post(
        "/api/v1/me/password", {"current_password": "not-it", "new_password": "brand-New-pass-1"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "wrong_password"
    assert response.json()["error"]["fields"] == {"current_password": ["The password is not correct."]}
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_new_password_must_pass_the_password_rules(user: User, signed_in) -> None:
    response = signed_in(user).post(
        "/api/v1/me/password", {"current_password": PASSWORD, "new_password": "12345678"}, format="json"
    )

    assert response.status_code == 400
    assert "new_password" in response.json()["error"]["fields"]


def test_passwords_are_hashed_with_argon2(user: User, signed_in) -> None:
    signed_in(user).post(
        "/api/v1/me/password", {"current_password": PASSWORD, "new_password": "brand-New-pass-1"}, format="json"
    )

    user.refresh_from_db()
    assert user.password.startswith("argon2$")
