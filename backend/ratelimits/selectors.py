"""Reads: the limits that apply to a user or an API key (tier, then overrides), and usage per day."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, FilteredRelation, Q, Sum
from django.utils import timezone

from .defaults import DEFAULT_TIER_BY_SLUG
from .models import FILE_LIMIT_FIELDS, LIMIT_FIELDS, Tier, UsageDay, UserLimit


@dataclass(frozen=True)
class Limits:
    """The limits of one subject (a user through the app, or one API key); None means unlimited."""

    subject: str  # "user:<id>" or "key:<id>": the Redis counters' owner
    user_id: str
    api_key_id: str | None
    tier: str
    priority: int
    requests_per_minute: int | None
    turns_per_day: int | None
    reasoning_turns_per_day: int | None
    tokens_per_day: int | None
    concurrent_turns: int | None
    max_message_chars: int | None
    max_context_tokens: int | None
    search_turns_per_day: int | None = None  # turns with Search a day (web research)
    files_per_day: int | None = None
    file_bytes_per_day: int | None = None
    file_storage_bytes: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in LIMIT_FIELDS}


def tier_get(slug: str) -> Tier:
    """The tier row, or an unsaved one with the built-in defaults when the row is missing."""
    return Tier.objects.filter(slug=slug).first() or _built_in_tier(slug)


def _built_in_tier(slug: str) -> Tier:
    return Tier(**DEFAULT_TIER_BY_SLUG.get(slug, DEFAULT_TIER_BY_SLUG["free"]))


def default_tier_slug(user: Any) -> str:
    return "staff" if getattr(user, "is_staff", False) else "free"


def _merge(tier: Tier, *overrides: Any) -> dict[str, int | None]:
    names = (*LIMIT_FIELDS, *FILE_LIMIT_FIELDS)
    values: dict[str, int | None] = {name: getattr(tier, name) for name in names}
    for override in overrides:
        if override is None:
            continue
        for name in names:
            value = getattr(override, name, None)  # API keys have no file limits: the tier's apply
            if value is not None:
                values[name] = value
    return values


_OVERRIDE_FIELDS = ("id", *LIMIT_FIELDS, *FILE_LIMIT_FIELDS)


def _user_tier_and_override(user: Any) -> tuple[Tier, UserLimit | None]:
    """The user's assigned tier and overrides, else the default tier: one query either way (it runs on every
    send). Its rows are the default tier and the assigned one, the user's assignment joined to the latter."""
    default = default_tier_slug(user)
    rows = list(Tier.objects.raw(_tier_and_override_sql(), [_user_id_param(user.pk), default]))
    for tier in rows:
        if tier.mine_id is not None:  # type: ignore[attr-defined]
            values = {name: getattr(tier, f"mine_{name}") for name in _OVERRIDE_FIELDS}
            return tier, UserLimit(user_id=user.pk, tier=tier, **values)
    return (rows[0] if rows else _built_in_tier(default)), None


@functools.cache
def _tier_and_override_sql() -> str:
    """The ORM's SQL for that read, compiled once: compiling its join and 17 columns cost more CPU than the two
    simple queries it replaces. Its two parameters are the user's id and the default tier's slug."""
    user_id, slug = uuid.UUID(int=0), "\x00slug"
    mine = FilteredRelation("user_limits", condition=Q(user_limits__user_id=user_id))
    query = (
        Tier.objects.annotate(mine=mine)
        .filter(Q(mine__isnull=False) | Q(slug=slug))
        .annotate(**{f"mine_{name}": F(f"mine__{name}") for name in _OVERRIDE_FIELDS})
    ).query
    sql, params = query.sql_with_params()
    assert list(params) == [_user_id_param(user_id), slug], params
    return sql


def _user_id_param(user_id: Any) -> Any:
    """A user id as the compiled query carries it (a UUID on Postgres, its hex on SQLite)."""
    return UserLimit._meta.get_field("user").get_db_prep_value(user_id, connection)


def limits_for_user(*, user: Any) -> Limits:
    """Read on every send, never cached: a limit an operator lowers (or a plan change) applies to the next
    send in every process (docs/benchmarks.md: a per-process cache bought nothing measurable)."""
    tier, override = _user_tier_and_override(user)
    return Limits(
        subject=f"user:{user.pk}",
        user_id=str(user.pk),
        api_key_id=None,
        tier=tier.slug,
        priority=tier.priority,
        **_merge(tier, override),  # type: ignore[arg-type]
    )


def limits_for_api_key(*, api_key: Any) -> Limits:
    """A key's own tier (else its owner's), then the key's overrides; a key does not inherit user overrides."""
    tier = api_key.tier if api_key.tier_id else _user_tier_and_override(api_key.user)[0]
    return Limits(
        subject=f"key:{api_key.pk}",
        user_id=str(api_key.user_id),
        api_key_id=str(api_key.pk),
        tier=tier.slug,
        priority=tier.priority,
        **_merge(tier, api_key),  # type: ignore[arg-type]
    )


def usage_days(
    *, user: Any, since: dt.date, until: dt.date, api_key_id: Any = ..., only_keys: bool = False
) -> list[UsageDay]:
    """Usage rows of a user between two dates (inclusive): all, one key's (None: the app's), or every key's."""
    rows = UsageDay.objects.filter(user_id=user.pk, date__gte=since, date__lte=until)
    if only_keys:
        rows = rows.filter(api_key_id__isnull=False)
    elif api_key_id is not ...:
        rows = rows.filter(api_key_id=api_key_id)
    return list(rows.order_by("date", "api_key_id"))


def usage_totals(*, user: Any, date: dt.date | None = None) -> dict[str, int]:
    """A user's settled usage on one day (today by default), over the app and all keys."""
    day = date or timezone.now().date()
    totals = UsageDay.objects.filter(user_id=user.pk, date=day).aggregate(
        turns=Sum("turns"),
        reasoning_turns=Sum("reasoning_turns"),
        search_turns=Sum("search_turns"),
        prompt_tokens=Sum("prompt_tokens"),
        completion_tokens=Sum("completion_tokens"),
        reasoning_tokens=Sum("reasoning_tokens"),
    )
    return {name: int(value or 0) for name, value in totals.items()}
