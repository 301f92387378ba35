"""Test helpers for limits: users with a tier and overrides, and Limits built by hand."""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from ratelimits.models import UserLimit
from ratelimits.selectors import Limits, tier_get

UNLIMITED: dict[str, Any] = {
    "requests_per_minute": None,
    "turns_per_day": None,
    "reasoning_turns_per_day": None,
    "search_turns_per_day": None,
    "tokens_per_day": None,
    "concurrent_turns": None,
    "max_message_chars": None,
    "max_context_tokens": None,
}


def make_user(email: str | None = None, **fields: Any) -> User:
    return User.objects.create_user(
        email=email or f"{uuid.uuid4().hex[:10]}@example.com", password="correct horse battery staple", **fields
    )


def set_limits(user: User, tier: str = "free", **overrides: Any) -> UserLimit:
    """Puts the user on `tier` with overrides; unnamed concurrency is lifted so tests can queue several turns."""
    tier_row = tier_get(tier)
    if tier_row.pk is None:
        tier_row.save()
    overrides.setdefault("concurrent_turns", 100)
    limit, _ = UserLimit.objects.update_or_create(user=user, defaults={"tier": tier_row, **overrides})
    return limit


def api_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def limits(priority: int = 6, **values: Any) -> Limits:
    return Limits(
        subject=f"user:{uuid.uuid4()}",
        user_id=str(uuid.uuid4()),
        api_key_id=None,
        tier="free",
        priority=priority,
        **{**UNLIMITED, **values},
    )
