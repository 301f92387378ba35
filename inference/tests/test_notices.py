"""inference.notices: a worker's notices go alone while few turns run, grouped into one task while many do."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from redis.asyncio import Redis

from inference import notices, protocol
from inference.engines.simulated import SimulatedEngine
from inference.notices import NoticeSender
from inference.turns import TurnRunner

from .conftest import RecordingSender, make_turn
from .test_turns import queue_turn, read_events, redis_client  # noqa: F401 (a fixture)


class Running:
    def __init__(self, count: int) -> None:
        self.count = count

    def __call__(self) -> int:
        return self.count


async def test_with_few_turns_running_each_notice_is_its_own_task_sent_at_once(sender: RecordingSender) -> None:
    notice_sender = NoticeSender(sender, running=Running(notices.GATHER_MIN_TURNS - 1))
    await asyncio.gather(
        notice_sender.send(protocol.TASK_TURN_STARTED, ["a", "t"], "backend"),
        notice_sender.send(protocol.TASK_FINALIZE_TURN, ["b"], "backend"),
    )
    assert sorted(sender.sent) == [
        (protocol.TASK_FINALIZE_TURN, ["b"], "backend"),
        (protocol.TASK_TURN_STARTED, ["a", "t"], "backend"),
    ]
    assert notice_sender.grouped == 0


async def test_with_many_turns_running_the_notices_sent_together_go_as_one_task_per_queue(
    sender: RecordingSender,
) -> None:
    notice_sender = NoticeSender(sender, running=Running(64))
    await asyncio.gather(
        notice_sender.send(protocol.TASK_TURN_STARTED, ["a", "t"], "backend"),
        notice_sender.send(protocol.TASK_FINALIZE_TURN, ["b"], "backend"),
        notice_sender.send(protocol.TASK_FINALIZE_TURN, ["c", "partner"], "backend"),
        notice_sender.send(protocol.TASK_FINALIZE_TURN, ["d"], "other"),
    )
    assert sorted(sender.sent) == [
        (protocol.TASK_FINALIZE_TURN, ["d"], "other"),  # alone on its queue: the task it always was
        (
            protocol.TASK_TURN_NOTICES,
            [
                [
                    [protocol.TASK_TURN_STARTED, ["a", "t"]],
                    [protocol.TASK_FINALIZE_TURN, ["b"]],
                    [protocol.TASK_FINALIZE_TURN, ["c", "partner"]],
                ]
            ],
            "backend",
        ),
    ]
    assert notice_sender.grouped == 1


async def test_a_notice_sent_while_a_group_is_on_its_way_goes_with_the_next_one() -> None:
    sent: list[tuple[str, list[Any], str]] = []
    first_on_its_way, let_it_go = threading.Event(), threading.Event()

    def slow_sender(name: str, args: list[Any], queue: str) -> None:
        if not sent:
            first_on_its_way.set()
            let_it_go.wait(5)
        sent.append((name, args, queue))

    notice_sender = NoticeSender(slow_sender, running=Running(64))
    first = asyncio.create_task(notice_sender.send(protocol.TASK_FINALIZE_TURN, ["a"], "q"))
    await asyncio.to_thread(first_on_its_way.wait, 5)
    later = [asyncio.create_task(notice_sender.send(protocol.TASK_FINALIZE_TURN, [turn], "q")) for turn in "bc"]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in later)
    let_it_go.set()
    await asyncio.gather(first, *later)
    assert sent == [
        (protocol.TASK_FINALIZE_TURN, ["a"], "q"),
        (
            protocol.TASK_TURN_NOTICES,
            [[[protocol.TASK_FINALIZE_TURN, ["b"]], [protocol.TASK_FINALIZE_TURN, ["c"]]]],
            "q",
        ),
    ]


async def test_a_failed_grouped_send_fails_every_notice_in_it() -> None:
    def broken(name: str, args: list[Any], queue: str) -> None:
        raise ConnectionError("broker away")

    notice_sender = NoticeSender(broken, running=Running(64))
    results = await asyncio.gather(
        notice_sender.send(protocol.TASK_FINALIZE_TURN, ["a"], "q"),
        notice_sender.send(protocol.TASK_FINALIZE_TURN, ["b"], "q"),
        return_exceptions=True,
    )
    assert [type(result) for result in results] == [ConnectionError, ConnectionError]


async def test_many_turns_on_one_runner_tell_the_backend_everything_in_fewer_tasks(
    redis_client: Redis,  # noqa: F811 (the fixture)
    sync_redis: Any,
    sender: RecordingSender,
) -> None:
    turns = [make_turn() for _ in range(16)]
    for task in turns:
        queue_turn(sync_redis, task)
    engine = SimulatedEngine(first_token_delay=0.0, inter_token_delay=0.001, tokens=8, reasoning_tokens=2)
    turn_runner = TurnRunner(engine=engine, redis=redis_client, send_task=sender, worker_id="worker-a")

    assert await asyncio.gather(*(turn_runner.run_turn(task) for task in turns)) == ["done"] * len(turns)

    told: list[tuple[str, list[Any]]] = []
    for name, args, queue in sender.sent:
        assert queue == turns[0].finalize_queue
        told.extend((n, a) for n, a in args[0]) if name == protocol.TASK_TURN_NOTICES else told.append((name, args))
    started = sorted(args[0] for name, args in told if name == protocol.TASK_TURN_STARTED)
    finalized = sorted(args for name, args in told if name == protocol.TASK_FINALIZE_TURN)
    assert started == sorted(task.turn_id for task in turns)
    assert finalized == sorted([task.turn_id] for task in turns)
    assert len(sender.sent) < 2 * len(turns) and turn_runner.notices.grouped > 0
    assert all(read_events(sync_redis, task)[-1][0] == "done" for task in turns)
