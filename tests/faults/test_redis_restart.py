"""Redis (no persistence) killed and restarted mid-turn, three times: every process of the stack survives,
the turns in flight end `done` or `failed` within the bound, a new turn completes within 30 s of Redis
returning, and nothing answers 500 meanwhile (503 in the error shape is right)."""

from __future__ import annotations

import time

import httpx
import pytest

from .conftest import FaultStack, Prober, User, record, until

pytestmark = [pytest.mark.faults, pytest.mark.vllm, pytest.mark.stack]

# The documented bound (docs/operations.md): a turn Redis lost ends when the reaper finds its lease
# gone (15 s lease, a 5 s reaper pass) after Redis is back.
IN_FLIGHT_BOUND_SECONDS = 45
NEW_TURN_BOUND_SECONDS = 30


def _turn_status(stack: FaultStack, turn_id: str) -> tuple[str, str]:
    rows = stack.sql(
        "SELECT t.status, t.error_code FROM chat_message m JOIN turns_turn t ON t.id = m.turn_id WHERE m.id = %s",
        turn_id,
    )
    return rows[0][0], rows[0][1]


def _a_new_turn_completes(user: User, deadline: float) -> None:
    """What a user does after an outage: send until it is accepted (503 while the service reconnects), then read."""
    while True:
        assert time.monotonic() < deadline, "no new turn was accepted in time"
        try:
            response = user.send(deepthink=True)  # DeepThink: the vLLM worker with the demo model
        except httpx.HTTPError:
            response = None
        if response is not None and response.status_code == 202:
            break
        assert response is None or response.status_code == 503, response.text
        time.sleep(0.5)
    turn_id = str(response.json()["assistant_message"]["id"])
    while True:
        assert time.monotonic() < deadline, "the new turn did not finish in time"
        try:
            stream = user.events(turn_id)
        except (httpx.HTTPError, AssertionError):
            time.sleep(0.5)
            continue
        if stream.ended:
            assert stream.ended == "done", stream.frames[-1]
            assert stream.text("content")
            return
        time.sleep(0.5)  # the stream ended early (Redis unavailable): come back, as a client does


def test_three_redis_restarts_mid_turn_are_survived(fault_stack: FaultStack, fault_user: User) -> None:
    for attempt in range(3):
        turns = [fault_user.turn(deepthink=False) for _ in range(3)]  # long answers (the simulated worker)
        fault_user.events(turns[0], stop=lambda frames: any(f["type"] == "content" for f in frames))

        with Prober(fault_stack, fault_user) as prober:
            fault_stack.redis.kill()  # no persistence: every stream, lease and queued task is gone
            time.sleep(1.0)
            fault_stack.redis.start()
            back = time.monotonic()
            _a_new_turn_completes(fault_user, back + NEW_TURN_BOUND_SECONDS)
            new_turn = time.monotonic() - back
            ended = until(
                lambda turns=turns: all(
                    _turn_status(fault_stack, t)[0] in ("done", "failed", "cancelled") for t in turns
                ),
                IN_FLIGHT_BOUND_SECONDS,
                "the turns in flight to end",
            )
            in_flight = time.monotonic() - back
        outcomes = [_turn_status(fault_stack, t) for t in turns]
        assert all(status in ("done", "failed") for status, _ in outcomes), outcomes
        assert prober.server_errors() == [], prober.server_errors()
        assert all(code is None for code in fault_stack.all_alive().values()), fault_stack.all_alive()
        record(
            "redis_restart_no_persistence",
            attempt=attempt + 1,
            new_turn_done_seconds=round(new_turn, 1),
            in_flight_ended_seconds=round(in_flight, 1),
            waited=round(ended, 1),
            outcomes=",".join(sorted(f"{s}:{c or ''}" for s, c in outcomes)),
            statuses=",".join(sorted({str(s) for _, s in prober.statuses})),
        )
