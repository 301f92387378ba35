"""The Redis counters under a concurrent burst: however many requests race, no limit is overshot."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ratelimits import store

from .factories import limits

RACERS = 50


def race(attempt: Any) -> list[Any]:
    """Runs `attempt` in RACERS threads released at the same instant."""
    barrier = threading.Barrier(RACERS)

    def run(_: int) -> Any:
        barrier.wait()
        return attempt()

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(run, range(RACERS)))


def take_turn(limit: Any, **kwargs: Any) -> store.TakeResult:
    return store.take(subject=limit.subject, limits=limit.as_dict(), turn_id=uuid.uuid4(), **kwargs)


def test_fifty_requests_racing_for_the_last_turn_of_the_day_admit_exactly_one() -> None:
    limit = limits(turns_per_day=10)
    for _ in range(9):
        assert take_turn(limit).refused is None

    results = race(lambda: take_turn(limit).refused)

    assert results.count(None) == 1
    assert results.count("turns_per_day") == RACERS - 1
    assert store.read(limit.subject).turns_today == 10


def test_a_burst_never_holds_more_turns_in_flight_than_allowed() -> None:
    limit = limits(concurrent_turns=5)

    results = race(lambda: take_turn(limit).refused)

    assert results.count(None) == 5
    assert store.read(limit.subject).in_flight == 5


def test_a_burst_never_reserves_more_tokens_than_the_day_allows() -> None:
    limit = limits(tokens_per_day=1_000)

    results = race(lambda: take_turn(limit, max_completion_tokens=100, min_completion_tokens=100).refused)

    assert results.count(None) == 10
    assert store.read(limit.subject).tokens_today == 1_000


def test_a_burst_of_requests_gets_exactly_the_minutes_allowance() -> None:
    limit = limits(requests_per_minute=7)

    results = race(lambda: store.take(subject=limit.subject, limits=limit.as_dict()).refused)

    assert results.count(None) == 7
    assert store.read(limit.subject).requests_this_minute == 7


def test_the_last_tokens_of_the_day_grant_a_shorter_answer_not_an_overshoot() -> None:
    limit = limits(tokens_per_day=500)

    first = take_turn(limit, prompt_tokens=100, max_completion_tokens=300)
    second = take_turn(limit, prompt_tokens=50, max_completion_tokens=300)
    third = take_turn(limit, prompt_tokens=50, max_completion_tokens=300, min_completion_tokens=16)

    assert first.granted_tokens == 300
    assert second.granted_tokens == 50  # 500 - 400 reserved - 50 prompt
    assert third.refused == "tokens_per_day"
    assert store.read(limit.subject).tokens_today == 500


def test_settling_a_reservation_twice_counts_it_once() -> None:
    limit = limits(tokens_per_day=1_000)
    turn_id = uuid.uuid4()
    store.take(
        subject=limit.subject, limits=limit.as_dict(), turn_id=turn_id, prompt_tokens=10, max_completion_tokens=200
    )

    results = race(lambda: store.settle(turn_id=turn_id, used_tokens=42))

    assert sum(1 for r in results if r is not None) == 1
    counters = store.read(limit.subject)
    assert counters.tokens_today == 42
    assert counters.in_flight == 0


def test_a_slot_held_past_its_deadline_lapses_by_itself() -> None:
    limit = limits(concurrent_turns=1)
    assert take_turn(limit, hold_seconds=-1).refused is None  # a turn whose worker vanished without settling

    assert take_turn(limit).refused is None
