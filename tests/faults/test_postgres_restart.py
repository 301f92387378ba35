"""Postgres restarted mid-turn, with `-m fast` (sessions ended cleanly) and `-m immediate` (a crash): every
answer is saved once, the day's usage equals the sum of the messages' usage exactly, and nothing answers
500 meanwhile. The answers end while Postgres is down, so their settlement fails and is retried."""

from __future__ import annotations

import time

import pytest

from .conftest import FaultStack, Prober, record, until

pytestmark = [pytest.mark.faults, pytest.mark.vllm, pytest.mark.stack]

TURNS = 6
STAGGER_SECONDS = 0.5
SIMULATED_TURN_SECONDS = 8.0  # conftest.SLOW_ENGINE: 200 words at 40 ms
DOWN_SECONDS = 2.5


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_postgres_restart_mid_turn_loses_no_answer_and_no_usage(fault_stack: FaultStack, mode: str) -> None:
    user = fault_stack.register()
    turns = []
    for _ in range(TURNS):
        turns.append(user.turn(deepthink=False))
        time.sleep(STAGGER_SECONDS)
    turns.append(user.turn(deepthink=True))  # and one on vLLM
    first = user.events(turns[0], stop=lambda frames: any(f["type"] == "content" for f in frames))
    assert first.frames

    # Down while the first answers end: their saves fail and come back.
    time.sleep(max(0.0, SIMULATED_TURN_SECONDS - 1.5 - TURNS * STAGGER_SECONDS))
    with Prober(fault_stack, user) as prober:
        fault_stack.postgres.restart(mode=mode, down_seconds=DOWN_SECONDS)
        ready = fault_stack.wait_ready()
        settled = until(
            lambda: (
                fault_stack.sql(
                    "SELECT count(*) FROM chat_message m JOIN turns_turn t ON t.id = m.turn_id"
                    " WHERE m.id = ANY(%s::uuid[]) AND t.status IN ('done', 'failed', 'cancelled')",
                    turns,
                )[0][0]
                == len(turns)
            ),
            60,
            "every turn to be saved",
        )

    rows = fault_stack.sql(
        "SELECT t.status, length(m.content), t.prompt_tokens, t.completion_tokens, t.reasoning_tokens"
        " FROM chat_message m JOIN turns_turn t ON t.id = m.turn_id WHERE m.id = ANY(%s::uuid[])",
        turns,
    )
    assert [status for status, *_ in rows] == ["done"] * len(turns), rows
    assert all(length > 0 for _, length, *_ in rows)
    # Saved once: one answer per question, no duplicate rows (each conversation has its one turn).
    counts = fault_stack.sql(
        "SELECT count(*) FROM chat_message m JOIN chat_conversation c ON c.id = m.conversation_id"
        " JOIN accounts_user u ON u.id = c.user_id WHERE u.email = %s AND m.role = 'assistant'"
        " AND m.id = ANY(%s::uuid[])",
        user.email,
        turns,
    )
    assert counts[0][0] == len(turns)
    # One statement, so a turn the prober started cannot settle between the two reads.
    messages, usage = fault_stack.sql(
        "SELECT count(*) FILTER (WHERE t.status IN ('done', 'cancelled')), sum(t.prompt_tokens),"
        " sum(t.completion_tokens), sum(t.reasoning_tokens)"
        " FROM chat_message m JOIN turns_turn t ON t.id = m.turn_id"
        " JOIN chat_conversation c ON c.id = m.conversation_id JOIN accounts_user u ON u.id = c.user_id"
        " WHERE u.email = %s AND m.role = 'assistant' AND t.status IN ('done', 'cancelled', 'failed')"
        " UNION ALL"
        " SELECT sum(d.turns), sum(d.prompt_tokens), sum(d.completion_tokens), sum(d.reasoning_tokens)"
        " FROM ratelimits_usageday d JOIN accounts_user u ON u.id = d.user_id WHERE u.email = %s",
        user.email,
        user.email,
    )
    assert tuple(int(v or 0) for v in usage) == tuple(int(v or 0) for v in messages)
    assert prober.server_errors() == [], prober.server_errors()
    assert all(code is None for code in fault_stack.all_alive().values()), fault_stack.all_alive()
    record(
        f"postgres_restart_{mode}",
        down_seconds=DOWN_SECONDS,
        ready_after_restart_seconds=round(ready, 1),
        all_saved_seconds=round(ready + settled, 1),
        statuses=",".join(sorted({str(s) for _, s in prober.statuses})),
    )
