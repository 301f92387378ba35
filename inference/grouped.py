"""Group commit for the running turns' flushes: the ones that arrive together go to Redis in one pipeline.

Every running turn writes its new text, renews its lease and looks at its cancel key once per coalescing
interval. With a pipeline per turn, 128 turns made 128 round trips, each with its own pipeline object,
connection checkout and socket write (the GPU worker's largest cost outside the engine, docs/profile.md).
Here a flush that arrives while a pipeline is on its way waits for the next one, which carries every
flush queued meanwhile. Each caller gets its own commands' results, or the error that failed them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

# A caller's commands: queued on the shared pipeline by `build`, which returns how many it queued.
Build = Callable[[Pipeline], int]


class GroupedPipeline:
    """Runs callers' commands in shared pipelines, one at a time, each carrying all that queued meanwhile."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._queued: list[tuple[Build, asyncio.Future[list[Any]]]] = []
        self._drain: asyncio.Task[None] | None = None
        self.pipelines = 0  # executed so far (for the metrics and the tests)

    async def execute(self, build: Build) -> list[Any]:
        """Queues the caller's commands on the next pipeline; returns their results in order."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._queued.append((build, future))
        if self._drain is None or self._drain.done():
            self._drain = asyncio.create_task(self._run(), name="whale-grouped-flush")
        return await future

    async def _run(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            batch = [(build, future) for build, future in batch if not future.done()]  # a caller gone meanwhile
            if batch:
                await self._execute(batch)

    async def _execute(self, batch: list[tuple[Build, asyncio.Future[list[Any]]]]) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                counts = [build(pipe) for build, _ in batch]
                results = await pipe.execute(raise_on_error=False)
        except (RedisError, OSError) as exc:  # the connection failed: everyone's flush failed
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:
            for _, future in batch:
                if not future.done():
                    future.set_exception(RedisError("the flush was interrupted"))
            raise
        finally:
            self.pipelines += 1
        offset = 0
        for (_, future), count in zip(batch, counts, strict=True):
            mine, offset = results[offset : offset + count], offset + count
            if future.done():
                continue
            failed = next((result for result in mine if isinstance(result, Exception)), None)
            if failed is not None:
                future.set_exception(failed)
            else:
                future.set_result(mine)
