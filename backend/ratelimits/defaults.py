"""The tiers' built-in limits: what the seed migration wrote, and the fallback when a tier row is missing."""

from __future__ import annotations

from typing import Any

DEFAULT_TIERS: list[dict[str, Any]] = [
    {
        "slug": "free",
        "files_per_day": 50,
        "file_bytes_per_day": 524288000,
        "file_storage_bytes": 2147483648,
        "name": "Free",
        "requests_per_minute": 20,
        "turns_per_day": 200,
        "reasoning_turns_per_day": 50,
        "search_turns_per_day": 50,
        "tokens_per_day": 200_000,
        "concurrent_turns": 1,
        "max_message_chars": 8_000,
        "max_context_tokens": 8_192,
        "priority": 6,
    },
    {
        "slug": "pro",
        "files_per_day": 500,
        "file_bytes_per_day": 5368709120,
        "file_storage_bytes": 21474836480,
        "name": "Pro",
        "requests_per_minute": 60,
        "turns_per_day": 2_000,
        "reasoning_turns_per_day": 500,
        "search_turns_per_day": 500,
        "tokens_per_day": 2_000_000,
        "concurrent_turns": 3,
        "max_message_chars": 16_000,
        "max_context_tokens": 32_768,
        "priority": 3,
    },
    {
        "slug": "partner",
        "files_per_day": None,
        "file_bytes_per_day": None,
        "file_storage_bytes": None,
        "name": "Partner",
        "requests_per_minute": 600,
        "turns_per_day": None,
        "reasoning_turns_per_day": None,
        "search_turns_per_day": None,
        "tokens_per_day": 10_000_000,
        "concurrent_turns": 32,
        "max_message_chars": 64_000,
        "max_context_tokens": 65_536,
        "priority": 3,
    },
    {
        "slug": "staff",
        "files_per_day": None,
        "file_bytes_per_day": None,
        "file_storage_bytes": None,
        "name": "Staff",
        "requests_per_minute": None,
        "turns_per_day": None,
        "reasoning_turns_per_day": None,
        "search_turns_per_day": None,
        "tokens_per_day": None,
        "concurrent_turns": 8,
        "max_message_chars": 64_000,
        "max_context_tokens": None,
        "priority": 0,
    },
]

DEFAULT_TIER_BY_SLUG: dict[str, dict[str, Any]] = {tier["slug"]: tier for tier in DEFAULT_TIERS}
