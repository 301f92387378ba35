"""The counters in Redis, changed only by Lua scripts so every check-and-take is atomic across processes.

Per subject ("user:<id>" or "key:<id>"):
  rl:<subject>:rpm:<unix minute>  requests this minute (fixed window)
  rl:<subject>:day:<YYYY-MM-DD>   hash: turns, reasoning, tokens (settled plus reserved), for the UTC day
  rl:<subject>:inflight           sorted set of turn ids in flight, scored by when the slot lapses anyway
Per turn:
  rl:resv:<turn id>               hash: what admission reserved, deleted by the one settle that wins

Plain single-instance Redis: the settle script reaches keys named inside the reservation.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass
from typing import Any

from redis.commands.core import Script

from common.redis import get_redis, key

DAY_SECONDS = 86_400
UNLIMITED = -1

ADMIT_LUA = """
local now = tonumber(ARGV[1])
local function limit(i) local v = tonumber(ARGV[i]); if v < 0 then return nil end; return v end
local rpm_limit, turns_limit, reasoning_limit = limit(2), limit(3), limit(4)
local tokens_limit, concurrent_limit = limit(5), limit(6)
local is_turn, is_reasoning = ARGV[7] == '1', ARGV[8] == '1'
local prompt, max_completion, min_completion = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])

local rpm = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local inflight = redis.call('ZCARD', KEYS[3])
local turns = tonumber(redis.call('HGET', KEYS[2], 'turns') or '0')
local reasoning = tonumber(redis.call('HGET', KEYS[2], 'reasoning') or '0')
local tokens = tonumber(redis.call('HGET', KEYS[2], 'tokens') or '0')
local function refuse(which) return {which, 0, rpm, turns, reasoning, tokens, inflight} end

if rpm_limit and rpm + 1 > rpm_limit then return refuse('requests_per_minute') end
local granted = 0
if is_turn then
  if concurrent_limit and inflight + 1 > concurrent_limit then return refuse('concurrent_turns') end
  if turns_limit and turns + 1 > turns_limit then return refuse('turns_per_day') end
  if is_reasoning and reasoning_limit and reasoning + 1 > reasoning_limit then
    return refuse('reasoning_turns_per_day')
  end
  granted = max_completion
  if tokens_limit then
    local left = tokens_limit - tokens - prompt
    if left < min_completion then return refuse('tokens_per_day') end
    if left < granted then granted = left end
  end
  local reserved = prompt + granted
  redis.call('ZADD', KEYS[3], tonumber(ARGV[13]), ARGV[12])
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[14]))
  turns = redis.call('HINCRBY', KEYS[2], 'turns', 1)
  if is_reasoning then reasoning = redis.call('HINCRBY', KEYS[2], 'reasoning', 1) end
  tokens = redis.call('HINCRBY', KEYS[2], 'tokens', reserved)
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[15]))
  inflight = inflight + 1
  redis.call('HSET', KEYS[4], 'subject', ARGV[16], 'day', KEYS[2], 'inflight', KEYS[3],
    'reserved', reserved, 'reasoning', is_reasoning and '1' or '0', 'user_id', ARGV[17], 'api_key_id', ARGV[18],
    'date', ARGV[19])
  redis.call('EXPIRE', KEYS[4], tonumber(ARGV[14]))
end
rpm = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 120)
return {'ok', granted, rpm, turns, reasoning, tokens, inflight}
"""

# ARGV[1] the turn id, ARGV[2] the tokens actually used, ARGV[3] '1' to also give back the turn itself.
SETTLE_LUA = """
local r = redis.call('HGETALL', KEYS[1])
if #r == 0 then return false end
local resv = {}
for i = 1, #r, 2 do resv[r[i]] = r[i + 1] end
redis.call('DEL', KEYS[1])
redis.call('ZREM', resv['inflight'], ARGV[1])
if redis.call('EXISTS', resv['day']) == 1 then
  redis.call('HINCRBY', resv['day'], 'tokens', tonumber(ARGV[2]) - tonumber(resv['reserved']))
  if ARGV[3] == '1' then
    redis.call('HINCRBY', resv['day'], 'turns', -1)
    if resv['reasoning'] == '1' then redis.call('HINCRBY', resv['day'], 'reasoning', -1) end
  end
end
return {resv['user_id'], resv['api_key_id'], resv['date'], resv['reasoning'], resv['reserved']}
"""


@functools.cache
def _script(source: str) -> Script:
    return get_redis().register_script(source)


@dataclass(frozen=True)
class Counters:
    """A subject's counters right after a check (including what this request took, when admitted)."""

    requests_this_minute: int
    turns_today: int
    reasoning_turns_today: int
    tokens_today: int
    in_flight: int
    seconds_to_next_minute: int
    seconds_to_next_day: int


@dataclass(frozen=True)
class TakeResult:
    refused: str | None  # the limit that refused, or None when admitted
    granted_tokens: int
    counters: Counters


@dataclass(frozen=True)
class Reservation:
    user_id: str
    api_key_id: str | None
    date: dt.date
    reasoning: bool
    reserved_tokens: int


def _clock(now: float) -> tuple[int, dt.date, int, int]:
    minute = int(now // 60)
    day = dt.datetime.fromtimestamp(now, dt.UTC).date()
    to_minute = 60 - int(now % 60)
    to_day = DAY_SECONDS - int(now % DAY_SECONDS)
    return minute, day, to_minute, to_day


def subject_keys(subject: str, now: float | None = None) -> tuple[str, str, str]:
    minute, day, _, _ = _clock(time.time() if now is None else now)
    return key("rl", subject, "rpm", minute), key("rl", subject, "day", day.isoformat()), key("rl", subject, "inflight")


def reservation_key(turn_id: object) -> str:
    return key("rl", "resv", turn_id)


def _limit(value: int | None) -> int:
    return UNLIMITED if value is None else int(value)


def take(
    *,
    subject: str,
    limits: dict[str, int | None],
    turn_id: object | None = None,
    reasoning: bool = False,
    prompt_tokens: int = 0,
    max_completion_tokens: int = 0,
    min_completion_tokens: int = 1,
    hold_seconds: int = 600,
    user_id: str = "",
    api_key_id: str | None = None,
) -> TakeResult:
    """Checks every limit and, only if all pass, takes one request (and, with `turn_id`, one turn,
    a slot in flight and the tokens) in one atomic step. A turn's tokens are reserved as its prompt
    plus the completion tokens granted (at most `max_completion_tokens`, fewer near the day's end)."""
    now = time.time()
    _, day, to_minute, to_day = _clock(now)
    rpm_key, day_key, inflight_key = subject_keys(subject, now)
    result: list[Any] = _script(ADMIT_LUA)(
        keys=[rpm_key, day_key, inflight_key, reservation_key(turn_id or "none")],
        args=[
            f"{now:.3f}",
            _limit(limits.get("requests_per_minute")),
            _limit(limits.get("turns_per_day")),
            _limit(limits.get("reasoning_turns_per_day")),
            _limit(limits.get("tokens_per_day")),
            _limit(limits.get("concurrent_turns")),
            "1" if turn_id is not None else "0",
            "1" if reasoning else "0",
            max(0, int(prompt_tokens)),
            max(0, int(max_completion_tokens)),
            max(1, int(min_completion_tokens)),
            str(turn_id or ""),
            f"{now + hold_seconds:.3f}",
            hold_seconds + 120,
            2 * DAY_SECONDS,
            subject,
            user_id,
            api_key_id or "",
            day.isoformat(),
        ],
    )
    status, granted, rpm, turns, reasoning_count, tokens, inflight = result
    return TakeResult(
        refused=None if status == "ok" else str(status),
        granted_tokens=int(granted),
        counters=Counters(int(rpm), int(turns), int(reasoning_count), int(tokens), int(inflight), to_minute, to_day),
    )


def read(subject: str) -> Counters:
    """The counters without taking anything (for GET /me/usage)."""
    now = time.time()
    _, _, to_minute, to_day = _clock(now)
    rpm_key, day_key, inflight_key = subject_keys(subject, now)
    pipe = get_redis().pipeline(transaction=False)
    pipe.get(rpm_key)
    pipe.hmget(day_key, ["turns", "reasoning", "tokens"])
    pipe.zcount(inflight_key, f"({now:.3f}", "+inf")
    rpm, (turns, reasoning, tokens), inflight = pipe.execute()
    return Counters(
        int(rpm or 0), int(turns or 0), int(reasoning or 0), int(tokens or 0), int(inflight), to_minute, to_day
    )


def inflight_turn_ids(subject: str, now: float | None = None) -> list[str]:
    """The turns holding one of the subject's concurrency slots now."""
    _, _, inflight_key = subject_keys(subject, now)
    moment = time.time() if now is None else now
    members: list[Any] = get_redis().zrangebyscore(inflight_key, f"({moment:.3f}", "+inf")  # type: ignore[assignment]
    return [member.decode() if isinstance(member, bytes) else str(member) for member in members]


def slots_free(subject: str, turn_ids: list[str]) -> None:
    """Gives back the slots of turns that have ended, ahead of their settlement (which still settles their
    tokens: it finds the reservation, and the slot already gone)."""
    if turn_ids:
        _, _, inflight_key = subject_keys(subject)
        get_redis().zrem(inflight_key, *turn_ids)


def _reservation(user_id: object, api_key_id: object, date: object, reasoning: object, reserved: object) -> Reservation:
    return Reservation(
        user_id=str(user_id),
        api_key_id=str(api_key_id) or None,
        date=dt.date.fromisoformat(str(date)),
        reasoning=str(reasoning) == "1",
        reserved_tokens=int(str(reserved)),
    )


def reservation(turn_id: object) -> Reservation | None:
    """What admission reserved for a turn, without touching it; None once settled, lapsed or lost."""
    fields: dict[str, str] = get_redis().hgetall(reservation_key(turn_id))  # type: ignore[assignment]
    if not fields:
        return None
    return _reservation(
        fields.get("user_id", ""),
        fields.get("api_key_id", ""),
        fields["date"],
        fields.get("reasoning"),
        fields["reserved"],
    )


def settle(*, turn_id: object, used_tokens: int, give_back_turn: bool = False) -> Reservation | None:
    """Ends a turn's reservation: frees its slot and replaces the reserved tokens by `used_tokens`.
    Returns the reservation to the one caller that settled it; None to every other (exactly once)."""
    result = _script(SETTLE_LUA)(
        keys=[reservation_key(turn_id)], args=[str(turn_id), max(0, int(used_tokens)), "1" if give_back_turn else "0"]
    )
    if not result:
        return None
    return _reservation(*result)
