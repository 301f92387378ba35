"""Response headers that let a client see a limit coming: IETF RateLimit-Policy/RateLimit, OpenAI's x-ratelimit-*
and Anthropic's anthropic-ratelimit-*.

The IETF fields follow draft-ietf-httpapi-ratelimit-headers (structured-field lists of named
policies, `q` quota, `w` window in seconds, `r` remaining, `t` seconds until the quota resets).
"""

from __future__ import annotations

import datetime as dt

from .selectors import Limits
from .store import DAY_SECONDS, Counters


def _policies(limits: Limits, counters: Counters) -> list[tuple[str, int, int, int, int, str]]:
    """(name, quota, window, remaining, reset, quota unit) for every limit that is set."""
    rows: list[tuple[str, int, int, int, int, str]] = []
    if limits.requests_per_minute is not None:
        q = limits.requests_per_minute
        rows.append(("minute", q, 60, q - counters.requests_this_minute, counters.seconds_to_next_minute, ""))
    if limits.turns_per_day is not None:
        q = limits.turns_per_day
        rows.append(("day", q, DAY_SECONDS, q - counters.turns_today, counters.seconds_to_next_day, ""))
    if limits.reasoning_turns_per_day is not None:
        q = limits.reasoning_turns_per_day
        rows.append(("deepthink", q, DAY_SECONDS, q - counters.reasoning_turns_today, counters.seconds_to_next_day, ""))
    if limits.tokens_per_day is not None:
        q = limits.tokens_per_day
        rows.append(("tokens", q, DAY_SECONDS, q - counters.tokens_today, counters.seconds_to_next_day, "tokens"))
    if limits.concurrent_turns is not None:
        q = limits.concurrent_turns
        rows.append(("concurrent", q, 0, q - counters.in_flight, 0, "concurrent-requests"))
    return rows


def ietf_headers(limits: Limits, counters: Counters) -> dict[str, str]:
    rows = _policies(limits, counters)
    if not rows:
        return {}
    policy = ", ".join(
        f'"{name}";q={q}' + (f";w={w}" if w else "") + (f';qu="{unit}"' if unit else "")
        for name, q, w, _r, _t, unit in rows
    )
    state = ", ".join(f'"{name}";r={max(0, r)};t={t}' for name, _q, _w, r, t, _unit in rows)
    return {"RateLimit-Policy": policy, "RateLimit": state}


def duration(seconds: int) -> str:
    """OpenAI's reset format: 1s, 6m0s, 3h12m5s."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def openai_headers(limits: Limits, counters: Counters) -> dict[str, str]:
    headers: dict[str, str] = {}
    if limits.requests_per_minute is not None:
        q = limits.requests_per_minute
        headers["x-ratelimit-limit-requests"] = str(q)
        headers["x-ratelimit-remaining-requests"] = str(max(0, q - counters.requests_this_minute))
        headers["x-ratelimit-reset-requests"] = duration(counters.seconds_to_next_minute)
    if limits.tokens_per_day is not None:
        q = limits.tokens_per_day
        headers["x-ratelimit-limit-tokens"] = str(q)
        headers["x-ratelimit-remaining-tokens"] = str(max(0, q - counters.tokens_today))
        headers["x-ratelimit-reset-tokens"] = duration(counters.seconds_to_next_day)
    return headers


def _moment(seconds: int, now: dt.datetime | None) -> str:
    """Anthropic's reset format: the RFC 3339 moment the limit is whole again."""
    moment = (now or dt.datetime.now(dt.UTC)) + dt.timedelta(seconds=max(0, int(seconds)))
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def anthropic_headers(limits: Limits, counters: Counters, *, now: dt.datetime | None = None) -> dict[str, str]:
    """anthropic-ratelimit-requests-* (requests per minute) and -tokens-* (tokens per day), as Anthropic sends them."""
    headers: dict[str, str] = {}
    if limits.requests_per_minute is not None:
        q = limits.requests_per_minute
        headers["anthropic-ratelimit-requests-limit"] = str(q)
        headers["anthropic-ratelimit-requests-remaining"] = str(max(0, q - counters.requests_this_minute))
        headers["anthropic-ratelimit-requests-reset"] = _moment(counters.seconds_to_next_minute, now)
    if limits.tokens_per_day is not None:
        q = limits.tokens_per_day
        headers["anthropic-ratelimit-tokens-limit"] = str(q)
        headers["anthropic-ratelimit-tokens-remaining"] = str(max(0, q - counters.tokens_today))
        headers["anthropic-ratelimit-tokens-reset"] = _moment(counters.seconds_to_next_day, now)
    return headers


def rate_limit_headers(limits: Limits, counters: Counters, *, openai: bool = False) -> dict[str, str]:
    headers = ietf_headers(limits, counters)
    if openai:
        headers.update(openai_headers(limits, counters))
    return headers
