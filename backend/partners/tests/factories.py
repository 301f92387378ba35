"""Test helpers for the partner API: keys with a tier and overrides."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from partners.services import CreatedKey, api_key_create
from ratelimits.selectors import tier_get


def make_key(user: User, *, tier: str | None = "partner", name: str = "test key", **overrides: Any) -> CreatedKey:
    tier_row = None
    if tier:
        tier_row = tier_get(tier)
        if tier_row.pk is None:
            tier_row.save()
    created = api_key_create(user=user, name=name, tier=tier_row)
    for field, value in overrides.items():
        setattr(created.key, field, value)
    created.key.save()
    return created
