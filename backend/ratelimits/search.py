"""Search turns per day: one Redis counter per subject and UTC day, taken atomically when a turn searches.

rl:<subject>:search:<YYYY-MM-DD>  search turns taken today (expires after the day)

A spent allowance refuses the send with 429 search_turns_per_day_exceeded (turns/preparing.py takes it).
"""

from __future__ import annotations

import time

from common.redis import get_redis, key

from .selectors import Limits
from .store import DAY_SECONDS, UNLIMITED, _clock

TAKE_LUA = """
local limit = tonumber(ARGV[1])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if limit >= 0 and used >= limit then return -1 end
used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return used
"""
GIVE_BACK_LUA = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


def search_key(subject: str, now: float | None = None) -> str:
    _, day, _, _ = _clock(time.time() if now is None else now)
    return key("rl", subject, "search", day.isoformat())


def search_turn_take(*, limits: Limits, now: float | None = None) -> bool:
    """Counts one search turn for today if the allowance has room; False (nothing counted) when it is spent."""
    limit = UNLIMITED if limits.search_turns_per_day is None else int(limits.search_turns_per_day)
    taken = get_redis().eval(TAKE_LUA, 1, search_key(limits.subject, now), limit, DAY_SECONDS + 3600)
    return int(taken) >= 0  # type: ignore[arg-type]


def search_turn_give_back(*, subject: str, now: float | None = None) -> None:
    """Returns a search turn that never searched (the research step was not run)."""
    get_redis().eval(GIVE_BACK_LUA, 1, search_key(subject, now))


def search_turns_today(subject: str, now: float | None = None) -> int:
    value = get_redis().get(search_key(subject, now))
    return int(value) if value else 0  # type: ignore[arg-type]
