"""The Django admin: users found by email with the password never editable as text; email codes read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import EmailCode, User

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for_staff(client: Client) -> Client:
    admin = User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client.force_login(admin)
    return client


def test_users_are_searchable_by_email(admin_client_for_staff: Client) -> None:
    UserFactory(email="findme@example.com")
    UserFactory(email="other@example.com")

    response = admin_client_for_staff.get("/admin/accounts/user/", {"q": "findme"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "findme@example.com" in content
    assert "other@example.com" not in content


def test_the_user_page_shows_no_password_hash_input(admin_client_for_staff: Client) -> None:
    user = UserFactory()

    response = admin_client_for_staff.get(f"/admin/accounts/user/{user.pk}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="password"' not in content
    assert user.password not in content


def test_an_admin_can_create_a_user_with_a_lower_cased_email(admin_client_for_staff: Client) -> None:
    response = admin_client_for_staff.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Person@Example.com",
            "usable_password": "true",
            "password1": "a-Good-pass-1",
            "password2": "a-Good-pass-1",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(email="new.person@example.com").check_password("a-Good-pass-1")


def test_email_codes_are_read_only_in_the_admin(admin_client_for_staff: Client) -> None:
    user = UserFactory()
    code = EmailCode.objects.create(
        user=user, purpose="verify_email", code_hash="secret-hash", expires_at=user.date_joined
    )

    assert admin_client_for_staff.get("/admin/accounts/emailcode/").status_code == 200
    assert admin_client_for_staff.get("/admin/accounts/emailcode/add/").status_code == 403
    detail = admin_client_for_staff.get(f"/admin/accounts/emailcode/{code.pk}/change/")
    assert detail.status_code == 200
    assert "secret-hash" not in detail.content.decode()
    assert 'name="attempts"' not in detail.content.decode()
