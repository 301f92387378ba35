"""Account reads: users by id or email, pending email codes, and the full export of a user's data."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone

from .hooks import export_sections
from .models import EmailCode, User

EXPORT_FORMAT_VERSION = 1


def user_get(*, user_id: object) -> User | None:
    try:
        return User.objects.filter(pk=str(user_id)).first()
    except (DjangoValidationError, ValueError, TypeError):  # not a UUID
        return None


def user_may_authenticate(user: object) -> bool:
    """The one check every authenticator makes: the account exists, is active and is not suspended.

    Suspension also clears is_active (accounts.services.user_suspend), so Django's session backend and
    simplejwt refuse a suspended account too; this check covers an account whose flags were edited apart.
    """
    return user is not None and bool(getattr(user, "is_active", False)) and getattr(user, "suspended_at", None) is None


def user_get_by_email(*, email: str) -> User | None:
    """`email` must already be normalised (accounts.models.normalize_email)."""
    return User.objects.filter(email=email).first()


def email_code_pending(*, user: User, purpose: str) -> EmailCode | None:
    return (
        EmailCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )


def user_export(*, user: User) -> dict[str, Any]:
    """Everything we hold about the user: the profile, and each section the apps above registered
    (accounts.hooks): chat's conversations, with every message of every branch, and share links."""
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now(),
        "user": user,
        **{section.name: section.read(user) for section in export_sections()},
    }
