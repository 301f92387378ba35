"""The worker's notices to the backend about its turns (one started, one ended), sent as Celery tasks, and
grouped when many turns run.

With few turns running, every notice is its own task (`whale.turn_started`, `whale.finalize_turn`), sent
at once. With many, each Celery message cost both sides more than the notice itself (the backend worker's
consumer and tracing were about half of its CPU at 128 turns in flight), so the notices that arrive while
one send is on its way, or within a short gather (0.1 ms per running turn, at most 20 ms), go as one
`whale.turn_notices` task: a list of [task name, args] that the backend handles one by one, as it would
the single tasks. A lone turn waits for nothing. Each caller still gets its own notice's outcome.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any

from inference import protocol

# (task name, args, queue): sends a Celery task by name to the backend. Blocking; called off the loop.
TaskSender = Callable[[str, list[Any], str], None]

GATHER_MIN_TURNS = 8  # below this many running turns, each notice goes alone and at once
GATHER_SECONDS_PER_TURN = 0.0001
GATHER_SECONDS_MAX = 0.02

_Queued = tuple[str, list[Any], "asyncio.Future[None]"]


class NoticeSender:
    """Sends notices through `send_task`, grouped per queue while `running()` turns are many."""

    def __init__(self, send_task: TaskSender, running: Callable[[], int]) -> None:
        self.send_task = send_task
        self.running = running
        self._queued: dict[str, list[_Queued]] = {}
        self._drain: asyncio.Task[None] | None = None
        self.grouped = 0  # whale.turn_notices tasks sent so far (for the tests)

    async def send(self, name: str, args: list[Any], queue: str) -> None:
        """Sends one notice; raises what the send raised."""
        if self.running() < GATHER_MIN_TURNS and not self._queued:
            await asyncio.to_thread(self.send_task, name, args, queue)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.setdefault(queue, []).append((name, args, future))
        if self._drain is None or self._drain.done():
            # In a context of its own: a grouped task's headers name no one turn (the backend logs each notice's).
            self._drain = asyncio.create_task(self._run(), name="whale-notices", context=contextvars.Context())
        await future

    async def _run(self) -> None:
        while self._queued:
            running = self.running()
            if running >= GATHER_MIN_TURNS:
                await asyncio.sleep(min(GATHER_SECONDS_MAX, running * GATHER_SECONDS_PER_TURN))
            batches, self._queued = self._queued, {}
            for queue, notices in batches.items():
                await self._send(queue, notices)

    async def _send(self, queue: str, notices: list[_Queued]) -> None:
        try:
            if len(notices) == 1:
                name, args, _ = notices[0]
                await asyncio.to_thread(self.send_task, name, args, queue)
            else:
                grouped = [[name, args] for name, args, _ in notices]
                await asyncio.to_thread(self.send_task, protocol.TASK_TURN_NOTICES, [grouped], queue)
                self.grouped += 1
        except BaseException as exc:
            for _, _, future in notices:
                if not future.done():
                    future.set_exception(
                        exc if isinstance(exc, Exception) else RuntimeError("the send was interrupted")
                    )
            if not isinstance(exc, Exception):
                raise
            return
        for _, _, future in notices:
            if not future.done():
                future.set_result(None)
