"""Rate-limit headers: Anthropic's anthropic-ratelimit-* carry the same numbers as OpenAI's x-ratelimit-*."""

from __future__ import annotations

import datetime as dt

from ratelimits.headers import anthropic_headers, openai_headers
from ratelimits.store import Counters

from .factories import limits


def test_anthropics_headers_say_limit_remaining_and_the_moment_of_reset() -> None:
    now = dt.datetime(2026, 12, 2, 13, 30, 15, tzinfo=dt.UTC)
    counters = Counters(
        requests_this_minute=3,
        turns_today=1,
        reasoning_turns_today=0,
        tokens_today=1_500,
        in_flight=1,
        seconds_to_next_minute=45,
        seconds_to_next_day=37_785,
    )
    set_ = limits(requests_per_minute=20, tokens_per_day=10_000)

    headers = anthropic_headers(set_, counters, now=now)

    assert headers == {
        "anthropic-ratelimit-requests-limit": "20",
        "anthropic-ratelimit-requests-remaining": "17",
        "anthropic-ratelimit-requests-reset": "2026-12-02T13:31:00Z",
        "anthropic-ratelimit-tokens-limit": "10000",
        "anthropic-ratelimit-tokens-remaining": "8500",
        "anthropic-ratelimit-tokens-reset": "2026-12-03T00:00:00Z",
    }
    assert openai_headers(set_, counters)["x-ratelimit-remaining-requests"] == "17"
    assert anthropic_headers(limits(), counters, now=now) == {}  # unlimited: nothing to announce
