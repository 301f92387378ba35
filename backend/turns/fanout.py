"""One Redis reader per event loop: a single blocking XREAD over every turn stream open in the process, its
entries fanned out to local subscribers (asyncio queues), instead of one blocking read, and one pooled
connection, per open stream.

The reader runs while anyone subscribes. A subscriber that joins while the reader is blocked wakes it
with an entry on the reader's own wake stream, so its first events wait for no one. When Redis fails,
every subscriber gets the error (its stream ends with StreamUnavailable, as with a read of its own) and
the reader stops; the next subscriber starts a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from inference.protocol import stream_id_position

logger = logging.getLogger(__name__)

Entry = tuple[str, dict[str, str]]
# The reader's blocking read returns at least this often even when nothing is written; subscribers
# keep their own keep-alive clocks, and joining wakes it, so this only bounds an idle read.
BLOCK_MS = 10_000
READ_COUNT = 512  # entries per stream per read, as a single stream's reader read them
WAKE_TTL_SECONDS = 60
# After a read that found entries, the reader waits a moment before its next one, so that one XREAD (whose
# cost grows with the streams it names) gathers the writes of many turns instead of one: 0.1 ms per open
# stream, at most 20 ms. A few streams wait next to nothing; 128 wait 12.8 ms, against a flush interval of
# 50-200 ms. A subscriber joining meanwhile needs no wake: the next read names it.
GATHER_SECONDS_PER_STREAM = 0.0001
GATHER_SECONDS_MAX = 0.02
GATHER_MIN_STREAMS = 8


@dataclass(eq=False)
class Subscription:
    """One reader of one stream: entries after `last_id` arrive on `queue` as lists (or a RedisError)."""

    key: str
    last_id: str
    client: Any  # the reader's Redis client, for the subscriber's own occasional EXISTS
    queue: asyncio.Queue[list[Entry] | RedisError] = field(default_factory=asyncio.Queue)

    async def get(self) -> list[Entry]:
        item = await self.queue.get()
        if isinstance(item, RedisError):
            raise item
        return item


class StreamReader:
    """Tails the streams of every subscription of one event loop with one XREAD at a time."""

    def __init__(self, *, client_factory: Callable[[], Any], wake_key: str) -> None:
        self.client_factory = client_factory
        self.wake_key = wake_key
        self.subscriptions: dict[str, set[Subscription]] = {}
        self.client: Any = None
        self.task: asyncio.Task[None] | None = None
        self.blocked: asyncio.Task[None] | None = None  # the task in a blocking read now: a new subscriber wakes it
        self.wake_id = "0-0"

    async def subscribe(self, key: str, last_id: str) -> Subscription:
        if self.task is None or self.task.done():
            self.client = self.client_factory()
            self.task = asyncio.get_running_loop().create_task(self._run(self.client))
            wake = False
        else:
            wake = self.blocked is self.task
        subscription = Subscription(key=key, last_id=last_id, client=self.client)
        self.subscriptions.setdefault(key, set()).add(subscription)
        if wake:
            try:
                async with self.client.pipeline(transaction=False) as pipe:
                    pipe.xadd(self.wake_key, {"w": "1"}, maxlen=1)
                    pipe.expire(self.wake_key, WAKE_TTL_SECONDS)
                    await pipe.execute()
            except RedisError:
                pass  # the reader's own read fails too, and tells every subscriber
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self.subscriptions.get(subscription.key)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self.subscriptions[subscription.key]
        if not self.subscriptions and self.task is not None:
            # Nobody left: stop the blocked read (redis-py drops that connection; the pool opens another).
            self.task.cancel()
            self.task = None

    def _positions(self) -> dict[str, str]:
        positions = {
            key: min((s.last_id for s in subscribers), key=stream_id_position)
            for key, subscribers in self.subscriptions.items()
        }
        positions[self.wake_key] = self.wake_id
        return positions

    async def _run(self, client: Any) -> None:
        me = asyncio.current_task()
        while self.subscriptions and self.task is me:
            self.blocked = me
            positions = self._positions()
            try:
                response = await client.xread(positions, count=READ_COUNT, block=BLOCK_MS)
            except RedisError as exc:
                if self.task is me:
                    self._fail(exc)
                return
            finally:
                if self.blocked is me:
                    self.blocked = None
            if self.task is not me:
                return
            delivered = False
            for key, entries in response or ():
                if key == self.wake_key:
                    self.wake_id = entries[-1][0]
                    continue
                self._deliver(key, entries, positions[key])
                delivered = True
            if delivered:
                await self._gather()

    async def _gather(self) -> None:
        streams = len(self.subscriptions)
        if streams >= GATHER_MIN_STREAMS:
            await asyncio.sleep(min(GATHER_SECONDS_MAX, streams * GATHER_SECONDS_PER_STREAM))

    def _deliver(self, key: str, entries: list[Entry], read_after: str) -> None:
        after = stream_id_position(read_after)
        for subscription in self.subscriptions.get(key, ()):
            seen = stream_id_position(subscription.last_id)
            if seen < after:
                # It joined behind this read (a client resuming from an earlier event while the server's
                # reader of its dropped connection is still subscribed): these entries start past a gap.
                # The next read starts at its position, and brings it everything in order.
                continue
            new = [entry for entry in entries if stream_id_position(entry[0]) > seen]
            if new:
                subscription.last_id = new[-1][0]
                subscription.queue.put_nowait(new)

    def _fail(self, exc: RedisError) -> None:
        everyone = [s for subscribers in self.subscriptions.values() for s in subscribers]
        self.subscriptions.clear()
        self.task = None
        for subscription in everyone:
            subscription.queue.put_nowait(exc)


_readers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StreamReader] = weakref.WeakKeyDictionary()


def reader(*, client_factory: Callable[[], Any], prefix: str) -> StreamReader:
    """This event loop's reader (a Redis client and its pool belong to one loop)."""
    loop = asyncio.get_running_loop()
    found = _readers.get(loop)
    if found is None:
        found = StreamReader(client_factory=client_factory, wake_key=f"{prefix}:reader:{uuid.uuid4().hex}:wake")
        _readers[loop] = found
    found.client_factory = client_factory  # a reader started from now on uses the caller's client
    return found


@contextlib.asynccontextmanager
async def subscribed(*, client_factory: Callable[[], Any], prefix: str, key: str, last_id: str) -> Any:
    """A subscription to `key` after `last_id` for the block's duration."""
    stream_reader = reader(client_factory=client_factory, prefix=prefix)
    subscription = await stream_reader.subscribe(key, last_id)
    try:
        yield subscription
    finally:
        stream_reader.unsubscribe(subscription)
