"""The whole life of an account through the API, from registration to deletion."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User

from .conftest import bearer, last_code

pytestmark = pytest.mark.django_db


def test_an_account_lives_from_registration_to_deletion(api: APIClient, committed) -> None:
    email = "whale.fan@example.com"

    # Register: signed in straight away, with a code in the mailbox.
    response = committed(
        api.post,
        "/api/v1/auth/register",
        {"email": "Whale.Fan@Example.com", "password": "first-Secret-42"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["user"]["email"] == email
    assert body["user"]["email_verified"] is False
    assert set(body) == {"user", "access", "refresh"}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [email]

    # Verify with the emailed code.
    code = last_code(email)
    response = api.post("/api/v1/auth/verify-email", {"code": code}, format="json", **bearer(body["access"]))
    assert response.status_code == 200, response.json()
    assert response.json()["user"]["email_verified"] is True

    # Log in from a second device.
    response = api.post("/api/v1/auth/login", {"email": email, "password": "first-Secret-42"}, format="json")
    assert response.status_code == 200
    phone = response.json()

    # Refresh rotates: the new pair works, the old refresh token is rejected from then on.
    response = api.post("/api/v1/auth/refresh", {"refresh": phone["refresh"]}, format="json")
    assert response.status_code == 200
    rotated = response.json()
    assert set(rotated) == {"access", "refresh"} and rotated["refresh"] != phone["refresh"]
    assert api.post("/api/v1/auth/refresh", {"refresh": phone["refresh"]}, format="json").status_code == 401
    assert api.get("/api/v1/me", **bearer(rotated["access"])).status_code == 200

    # Logout revokes that refresh token.
    assert api.post("/api/v1/auth/logout", {"refresh": rotated["refresh"]}, format="json").status_code == 204
    assert api.post("/api/v1/auth/refresh", {"refresh": rotated["refresh"]}, format="json").status_code == 401

    # A password change signs every other session out, access tokens included, and hands back a fresh pair.
    laptop = api.post("/api/v1/auth/login", {"email": email, "password": "first-Secret-42"}, format="json").json()
    response = api.post(
        "/api/v1/me/password",
        {"current_password": "first-Secret-42", "new_password": "second-Secret-43"},
        format="json",
        **bearer(body["access"]),
    )
    assert response.status_code == 200, response.json()
    fresh = response.json()
    assert api.get("/api/v1/me", **bearer(laptop["access"])).status_code == 401
    assert api.get("/api/v1/me", **bearer(body["access"])).status_code == 401
    assert api.post("/api/v1/auth/refresh", {"refresh": laptop["refresh"]}, format="json").status_code == 401
    assert api.post("/api/v1/auth/refresh", {"refresh": body["refresh"]}, format="json").status_code == 401
    assert api.get("/api/v1/me", **bearer(fresh["access"])).status_code == 200
    login = {"email": email, "password": "first-Secret-42"}
    assert api.post("/api/v1/auth/login", login, format="json").status_code == 401

    # Forgot it: reset by an emailed code, which signs everyone out again.
    assert committed(api.post, "/api/v1/auth/password/reset", {"email": email}, format="json").status_code == 202
    reset = {"email": email, "code": last_code(email), "new_password": "third-Secret-44"}
    assert api.post("/api/v1/auth/password/reset/confirm", reset, format="json").status_code == 204
    assert api.post("/api/v1/auth/refresh", {"refresh": fresh["refresh"]}, format="json").status_code == 401
    response = api.post("/api/v1/auth/login", {"email": email, "password": "third-Secret-44"}, format="json")
    assert response.status_code == 200
    final = response.json()

    # Delete: gone for good; its tokens no longer work.
    response = api.post("/api/v1/me/delete", {"password": "third-Secret-44"}, format="json", **bearer(final["access"]))
    assert response.status_code == 204
    assert not User.objects.filter(email=email).exists()
    assert api.get("/api/v1/me", **bearer(final["access"])).status_code == 401
    assert api.post("/api/v1/auth/refresh", {"refresh": final["refresh"]}, format="json").status_code == 401
    assert (
        api.post("/api/v1/auth/login", {"email": email, "password": "third-Secret-44"}, format="json").status_code
        == 401
    )
