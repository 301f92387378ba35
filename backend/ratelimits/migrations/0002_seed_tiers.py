"""Seeds the four tiers with defaults an operator can edit in the admin."""

from __future__ import annotations

from typing import Any

from django.db import migrations

# A frozen copy: later edits to ratelimits.defaults must not change what this migration seeded.
TIERS: list[dict[str, Any]] = [
    {
        "slug": "free",
        "name": "Free",
        "requests_per_minute": 20,
        "turns_per_day": 200,
        "reasoning_turns_per_day": 50,
        "tokens_per_day": 200_000,
        "concurrent_turns": 1,
        "max_message_chars": 8_000,
        "max_context_tokens": 8_192,
        "priority": 6,
    },
    {
        "slug": "pro",
        "name": "Pro",
        "requests_per_minute": 60,
        "turns_per_day": 2_000,
        "reasoning_turns_per_day": 500,
        "tokens_per_day": 2_000_000,
        "concurrent_turns": 3,
        "max_message_chars": 16_000,
        "max_context_tokens": 32_768,
        "priority": 3,
    },
    {
        "slug": "partner",
        "name": "Partner",
        "requests_per_minute": 600,
        "turns_per_day": None,
        "reasoning_turns_per_day": None,
        "tokens_per_day": 10_000_000,
        "concurrent_turns": 32,
        "max_message_chars": 64_000,
        "max_context_tokens": 65_536,
        "priority": 3,
    },
    {
        "slug": "staff",
        "name": "Staff",
        "requests_per_minute": None,
        "turns_per_day": None,
        "reasoning_turns_per_day": None,
        "tokens_per_day": None,
        "concurrent_turns": 8,
        "max_message_chars": 64_000,
        "max_context_tokens": None,
        "priority": 0,
    },
]


def seed(apps: Any, schema_editor: Any) -> None:
    Tier = apps.get_model("ratelimits", "Tier")
    for tier in TIERS:
        Tier.objects.update_or_create(slug=tier["slug"], defaults=tier)


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("ratelimits", "Tier").objects.filter(slug__in=[t["slug"] for t in TIERS]).delete()


class Migration(migrations.Migration):
    dependencies = [("ratelimits", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
