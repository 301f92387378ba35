"""One Redis reader per event loop: every subscriber of a stream gets each entry once, a late joiner is not
held up by the reader's blocking read, and a Redis failure reaches every subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import redis.asyncio as aredis
from django.conf import settings
from redis.exceptions import RedisError

from common.redis import get_async_redis
from turns import fanout


def stream_key() -> str:
    return f"{settings.WHALE_REDIS_PREFIX}:fanout-test:{uuid.uuid4().hex}"


async def test_two_subscribers_of_one_stream_each_get_every_entry_once() -> None:
    client = get_async_redis()
    key = stream_key()
    first_id = await client.xadd(key, {"n": "1"})
    async with (
        fanout.subscribed(client_factory=get_async_redis, prefix="t", key=key, last_id="0") as a,
        fanout.subscribed(client_factory=get_async_redis, prefix="t", key=key, last_id=first_id) as b,
    ):
        assert [fields["n"] for _, fields in await asyncio.wait_for(a.get(), 5)] == ["1"]
        await client.xadd(key, {"n": "2"})
        got_a = [fields["n"] for _, fields in await asyncio.wait_for(a.get(), 5)]
        got_b = [fields["n"] for _, fields in await asyncio.wait_for(b.get(), 5)]
    assert got_a == got_b == ["2"]
    assert a.queue.empty() and b.queue.empty()
    await client.delete(key)


async def test_a_subscriber_joining_a_blocked_reader_wakes_it() -> None:
    client = get_async_redis()
    quiet, busy = stream_key(), stream_key()
    await client.xadd(busy, {"n": "1"})
    async with fanout.subscribed(client_factory=get_async_redis, prefix="t", key=quiet, last_id="0"):
        await asyncio.sleep(0.2)  # the reader is now in its blocking read (BLOCK_MS is 10 s)
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with fanout.subscribed(client_factory=get_async_redis, prefix="t", key=busy, last_id="0") as late:
            entries = await asyncio.wait_for(late.get(), 5)
        waited = loop.time() - started
    assert [fields["n"] for _, fields in entries] == ["1"]
    assert waited < fanout.BLOCK_MS / 1000 / 2  # woken, not left until the block ran out
    await client.delete(quiet, busy)


class FailingRedis:
    """A client of a Redis that is not there: every read fails as during a restart."""

    def __init__(self) -> None:
        self.gone = aredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)

    async def xread(self, *args: Any, **kwargs: Any) -> Any:
        return await self.gone.xread(*args, **kwargs)


async def test_a_redis_failure_reaches_every_subscriber_and_the_next_one_gets_a_new_reader() -> None:
    async with (
        fanout.subscribed(client_factory=FailingRedis, prefix="t", key=stream_key(), last_id="0") as a,
        fanout.subscribed(client_factory=FailingRedis, prefix="t", key=stream_key(), last_id="0") as b,
    ):
        for subscription in (a, b):
            try:
                await asyncio.wait_for(subscription.get(), 5)
            except RedisError:
                pass
            else:
                raise AssertionError("the failure did not reach a subscriber")
    key = stream_key()
    await get_async_redis().xadd(key, {"n": "1"})
    async with fanout.subscribed(client_factory=get_async_redis, prefix="t", key=key, last_id="0") as again:
        assert len(await asyncio.wait_for(again.get(), 5)) == 1
    await get_async_redis().delete(key)


async def test_the_reader_stops_when_its_last_subscriber_leaves() -> None:
    async with fanout.subscribed(client_factory=get_async_redis, prefix="t", key=stream_key(), last_id="0"):
        reader = fanout.reader(client_factory=get_async_redis, prefix="t")
        task = reader.task
        assert task is not None and not task.done()
    await asyncio.sleep(0)
    assert reader.task is None
    await asyncio.sleep(0.05)
    assert task.done()


class CountingRedis:
    """The real client, counting the reader's XREADs."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.xreads = 0

    async def xread(self, *args: Any, **kwargs: Any) -> Any:
        self.xreads += 1
        return await self.client.xread(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


async def test_with_many_streams_open_one_read_gathers_the_writes_of_many_turns() -> None:
    counting = CountingRedis(get_async_redis())
    writer = get_async_redis()
    keys = [stream_key() for _ in range(100)]  # the reader waits 10 ms after each read that found entries
    async with contextlib.AsyncExitStack() as stack:
        subscriptions = [
            await stack.enter_async_context(
                fanout.subscribed(client_factory=lambda: counting, prefix="t", key=key, last_id="0")
            )
            for key in keys
        ]
        await asyncio.sleep(0.2)  # the reader is in its blocking read
        before = counting.xreads
        for n, key in enumerate(keys):  # one turn's flush after another, a millisecond apart
            await writer.xadd(key, {"n": str(n)})
            await asyncio.sleep(0.001)
        got = [await asyncio.wait_for(s.get(), 5) for s in subscriptions]
        reads = counting.xreads - before
    assert [[fields["n"] for _, fields in entries] for entries in got] == [[str(n)] for n in range(len(keys))]
    assert all(s.queue.empty() for s in subscriptions)
    assert reads <= len(keys) // 3, f"{reads} reads for {len(keys)} writes"  # without the wait: about one each
    await writer.delete(*keys)


class HeldRedis:
    """The real client, whose XREAD answer is held back until the test lets it through."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.answered = asyncio.Event()
        self.release = asyncio.Event()

    async def xread(self, *args: Any, **kwargs: Any) -> Any:
        response = await self.client.xread(*args, **kwargs)
        if response and not self.release.is_set():
            self.answered.set()
            await self.release.wait()
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


async def test_a_subscriber_that_joins_behind_a_read_in_flight_gets_every_entry_after_its_own_position() -> None:
    # A client resuming a turn joins with an earlier position than the server's reader of its dropped
    # connection, which is still subscribed. The read in flight started after the later position; what it
    # brings back must not reach the resumer as if nothing lay between.
    held = HeldRedis(get_async_redis())
    writer = get_async_redis()
    key = stream_key()
    ids = [await writer.xadd(key, {"n": str(n)}) for n in range(1, 6)]
    async with fanout.subscribed(client_factory=lambda: held, prefix="t", key=key, last_id=ids[-1]) as ahead:
        await asyncio.sleep(0.2)  # the reader is in its blocking read after entry 5
        await writer.xadd(key, {"n": "6"})
        await asyncio.wait_for(held.answered.wait(), 5)  # entry 6 is read, not yet delivered
        async with fanout.subscribed(client_factory=lambda: held, prefix="t", key=key, last_id=ids[0]) as behind:
            held.release.set()
            got: list[str] = []
            while "6" not in got:
                got += [fields["n"] for _, fields in await asyncio.wait_for(behind.get(), 5)]
        assert [fields["n"] for _, fields in await asyncio.wait_for(ahead.get(), 5)] == ["6"]
    assert got == ["2", "3", "4", "5", "6"]
    assert behind.queue.empty() and ahead.queue.empty()
    await writer.delete(key)
