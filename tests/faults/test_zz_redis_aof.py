"""Redis with AOF persistence (`appendonly yes`) restarted mid-turn: the turn goes on, and a client that
resumes afterwards with its cursor gets every event written before the restart, and the rest, exactly once.

Runs last in the suite (the file name), as it leaves the shared private Redis persistent while it runs."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import redis

from .conftest import FaultStack, User, record, until

pytestmark = [pytest.mark.faults, pytest.mark.vllm, pytest.mark.stack]


@pytest.fixture
def persistent_redis(fault_stack: FaultStack) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(fault_stack.redis.url, decode_responses=True)
    client.config_set("appendonly", "yes")
    fault_stack.redis.appendonly = True  # and so on restart
    until(lambda: int(client.info("persistence")["aof_rewrite_in_progress"]) == 0, 30, "the AOF to be written")
    yield client
    fault_stack.redis.appendonly = False
    with contextlib.suppress(redis.RedisError):
        redis.Redis.from_url(fault_stack.redis.url).config_set("appendonly", "no")
    client.close()


def test_a_resume_after_an_aof_restart_gets_every_event_exactly_once(
    fault_stack: FaultStack, fault_user: User, persistent_redis: redis.Redis
) -> None:
    turn_id = fault_user.turn(deepthink=False)
    first = fault_user.events(turn_id, stop=lambda frames: sum(f["type"] == "content" for f in frames) >= 5)
    events_key = f"{fault_stack.running.prefix}:turn:{turn_id}:events"
    written = [entry_id for entry_id, _ in persistent_redis.xrange(events_key)]

    fault_stack.redis.restart(down_seconds=1.0)  # SHUTDOWN flushes the AOF first
    back = time.monotonic()

    frames = list(first.frames)
    while True:  # a client coming back with its cursor, as often as the stream ends early
        assert time.monotonic() - back < 60, "the turn did not finish after the restart"
        try:
            stream = fault_user.events(turn_id, after=frames[-1]["id"])
        except (httpx.HTTPError, AssertionError):
            time.sleep(0.5)
            continue
        frames.extend(stream.frames)
        if stream.ended:
            break
        time.sleep(0.5)
    finished = time.monotonic() - back

    stream_ids = Counter(frame["id"].split(".")[0] for frame in frames)
    assert all(stream_ids[entry_id] == 1 for entry_id in written), (
        "an event written before the restart was lost or doubled"
    )
    assert max(stream_ids.values()) == 1  # and nothing after it twice either
    assert frames[-1]["type"] == "done"
    content = "".join(f["data"].get("delta", "") for f in frames if f["type"] == "content")
    saved = until(
        lambda: (
            fault_stack.sql(
                "SELECT t.status FROM chat_message m JOIN turns_turn t ON t.id = m.turn_id WHERE m.id = %s", turn_id
            )[0][0]
            == "done"
        ),
        30,
        "the save",
    )
    assert fault_stack.sql("SELECT content FROM chat_message WHERE id = %s", turn_id)[0][0] == content
    assert all(code is None for code in fault_stack.all_alive().values()), fault_stack.all_alive()
    record("redis_restart_aof", turn_finished_after_seconds=round(finished, 1), saved_seconds=round(saved, 1))
