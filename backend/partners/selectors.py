"""Reads for the partner API: a key from its secret, a user's keys, and usage rows for the CSV export."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.db.models import QuerySet

from accounts.selectors import user_may_authenticate

from .models import ApiKey

SECRET_PREFIX = "sk-"  # noqa: S105 (the visible start of every key, not a secret)
PREFIX_LENGTH = 12  # hex characters after "sk-": what lists and the admin show
MAX_SECRET_LENGTH = 128


def secret_hash(secret: str) -> str:
    # The secret holds 256 random bits, so a fast hash is enough: nobody can guess their way back.
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_authenticate(*, secret: str) -> ApiKey | None:
    """The usable key this secret belongs to, or None (unknown, revoked, expired, or its owner inactive or suspended)."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > MAX_SECRET_LENGTH:
        return None
    prefix = secret[len(SECRET_PREFIX) : len(SECRET_PREFIX) + PREFIX_LENGTH]
    key = ApiKey.objects.select_related("user", "tier").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.secret_hash, secret_hash(secret)):
        return None
    if not key.is_usable() or not user_may_authenticate(key.user):
        return None
    return key


def api_key_list(*, user: Any) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user_id=user.pk).order_by("-created_at")


def api_key_names(*, user: Any) -> dict[str, tuple[str, str]]:
    """Key id → (prefix, name) of all a user's keys, revoked ones included (for usage rows)."""
    return {str(key.id): (key.prefix, key.name) for key in ApiKey.objects.filter(user_id=user.pk)}
