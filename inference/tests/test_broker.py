"""Our broker transport: a channel whose kombu Connection was closed under it can still reach Redis.

When the broker drops with an `acks_late` task in flight, Celery 5.7's consumer collects the
connection (which sets `transport.client = None`) and then closes it; closing restores the
unacknowledged message through that channel, and the task's later ack goes through it too. Both
build a Redis pool from `Channel._connparams()`, which reads `transport.client.hostname`. The fault
suite (tests/faults/test_broker_loss.py) restarts a real Redis under real workers.
"""

from __future__ import annotations

import pytest
from kombu import Connection

from inference import broker

from .conftest import REDIS_URL


def _detached_channel(transport: str) -> object:
    connection = Connection(REDIS_URL, transport=transport)
    channel = connection.channel()
    connection.transport.client = None  # what Connection.collect() leaves behind
    return channel


def test_a_detached_channel_still_knows_where_redis_is() -> None:
    channel = _detached_channel(broker.TRANSPORT)

    params = channel._connparams()  # type: ignore[attr-defined]

    assert (params["host"], params["port"]) == ("127.0.0.1", int(REDIS_URL.rsplit(":", 1)[1].split("/")[0]))
    with channel.conn_or_acquire() as client:  # type: ignore[attr-defined]
        assert client.ping()


def test_kombus_own_transport_still_has_the_defect_we_work_around() -> None:
    """When this fails, kombu has fixed it: drop inference/broker.py and pin that release."""
    channel = _detached_channel("redis")

    with pytest.raises(AttributeError, match="hostname"):
        channel._connparams()  # type: ignore[attr-defined]


def test_only_plain_redis_urls_get_our_transport() -> None:
    assert broker.transport_for("redis://127.0.0.1:6379/0") == broker.TRANSPORT
    assert broker.transport_for("rediss://example.com:6380/0") is None
    assert broker.transport_for("amqp://guest@localhost//") is None
