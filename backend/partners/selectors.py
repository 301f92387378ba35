"""Reads for the partner API: a key from its secret, a user's keys, and their usage by day."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from accounts.selectors import user_may_authenticate
from common.errors import NotFound
from ratelimits.selectors import usage_days

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


def api_key_get(*, user: Any, key_id: Any) -> ApiKey:
    """One of the user's own keys (revoked ones too); 404 for anyone else's, as for one that does not exist."""
    key = ApiKey.objects.filter(id=key_id, user_id=user.pk).first()
    if key is None:
        raise NotFound("API key not found.")
    return key


USAGE_FIELDS = ("prompt_tokens", "cached_tokens", "completion_tokens", "reasoning_tokens", "errors")


def api_key_usage_by_day(*, key: ApiKey, days: int, today: dt.date | None = None) -> list[dict[str, Any]]:
    """A key's usage on each of its last `days` UTC days, newest first, days without use as zeros.

    `requests` are the completions that settled that day (done, cancelled or failed); `errors` the
    failed ones. Requests refused before they started (a 4xx, a 429) are in neither."""
    until = today or timezone.now().date()
    since = until - dt.timedelta(days=days - 1)
    rows = {row.date: row for row in usage_days(user=key.user, since=since, until=until, api_key_id=key.id)}
    result = []
    for offset in range(days):
        date = until - dt.timedelta(days=offset)
        row = rows.get(date)
        counts = {name: int(getattr(row, name)) if row else 0 for name in USAGE_FIELDS}
        requests = (row.turns + row.errors) if row else 0
        result.append({"date": date, "requests": requests, **counts})
    return result


def api_key_end_user_usage(*, key: ApiKey, days: int, limit: int = 20) -> list[dict[str, Any]]:
    """A key's busiest end users (`user` / `metadata.user_id`) over its last `days` UTC days, by tokens:
    requests, prompt and completion tokens, errors. Completions without an end user are left out."""
    from .models import Completion

    since = timezone.now() - dt.timedelta(days=days)
    rows = (
        Completion.objects.filter(api_key=key, created_at__gte=since)
        .exclude(end_user="")
        .values("end_user")
        .annotate(
            requests=Count("id"),
            tokens=Sum(F("turn__prompt_tokens") + F("turn__completion_tokens")),
            prompt=Sum("turn__prompt_tokens"),
            completion=Sum("turn__completion_tokens"),
            errors=Count("id", filter=Q(turn__status=Completion.Status.FAILED)),
        )
        .order_by("-tokens", "end_user")[:limit]
    )
    return [
        {
            "end_user": row["end_user"],
            "requests": row["requests"],
            "prompt_tokens": row["prompt"] or 0,
            "completion_tokens": row["completion"] or 0,
            "errors": row["errors"],
        }
        for row in rows
    ]
