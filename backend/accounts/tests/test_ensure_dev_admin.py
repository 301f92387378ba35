"""`manage.py ensure_dev_admin` creates or repairs the development superuser and says how to log in."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import User

pytestmark = pytest.mark.django_db


@override_settings(WHALE_DEV_ADMIN_EMAIL="Boss@Example.com", WHALE_DEV_ADMIN_PASSWORD="dev-admin-pass")
def test_it_creates_the_superuser_once_and_repairs_it_later() -> None:
    out = StringIO()
    call_command("ensure_dev_admin", stdout=out)

    admin = User.objects.get(email="boss@example.com")
    assert admin.is_superuser and admin.is_staff and admin.email_verified
    assert admin.check_password("dev-admin-pass")
    assert "/admin/" in out.getvalue() and "boss@example.com" in out.getvalue()

    User.objects.filter(pk=admin.pk).update(is_staff=False, is_superuser=False, is_active=False)
    admin.set_password("changed-meanwhile")
    admin.save()
    call_command("ensure_dev_admin", stdout=StringIO())

    assert User.objects.count() == 1
    admin.refresh_from_db()
    assert admin.is_superuser and admin.is_staff and admin.is_active
    assert admin.check_password("dev-admin-pass")


@override_settings(ENVIRONMENT="production", WHALE_DEV_ADMIN_PASSWORD="whale-admin")
def test_it_refuses_the_dev_password_in_production() -> None:
    with pytest.raises(CommandError):
        call_command("ensure_dev_admin", stdout=StringIO())
    assert not User.objects.exists()
