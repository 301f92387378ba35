"""`manage.py ensure_dev_admin`: creates or updates the development superuser from settings (idempotent)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services import dev_admin_ensure


class Command(BaseCommand):
    help = "Create or update the superuser WHALE_DEV_ADMIN_EMAIL with WHALE_DEV_ADMIN_PASSWORD."

    def handle(self, *args: Any, **options: Any) -> None:
        email = settings.WHALE_DEV_ADMIN_EMAIL
        password = settings.WHALE_DEV_ADMIN_PASSWORD
        if not email or not password:
            raise CommandError("Set WHALE_DEV_ADMIN_EMAIL and WHALE_DEV_ADMIN_PASSWORD.")
        if settings.ENVIRONMENT == "production" and password == "whale-admin":  # noqa: S105 - the dev default
            raise CommandError("Refusing to create an admin with the dev password in production.")
        user, created = dev_admin_ensure(email=email, password=password)
        self.stdout.write(
            self.style.SUCCESS(f"{'Created' if created else 'Updated'} the superuser {user.email}.")
            + f"\nLog in at /admin/ (e.g. http://127.0.0.1:8000/admin/) with email {user.email} and the password "
            "in WHALE_DEV_ADMIN_PASSWORD" + (" (the dev default: whale-admin)." if password == "whale-admin" else ".")  # noqa: S105
        )
