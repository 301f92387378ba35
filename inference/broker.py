"""The Redis broker transport of both our Celery apps: kombu's own, mended so a Redis restart mid-task is survived.

The defect (Celery 5.7.0 with kombu 5.7.0, the newest of both): when the broker connection drops,
Celery's consumer calls `connection.collect()`, which detaches the transport from its kombu
`Connection` (`transport.client = None`), and then `connection.close()`. Closing the default
channel restores the unacknowledged messages (`acks_late` tasks still running), and the restore
builds a new Redis pool from `Channel._connparams()`, which reads `self.connection.client.hostname`:
`AttributeError: 'NoneType' object has no attribute 'hostname'`. That is not a connection error,
so `ignore_errors` lets it through and the worker stops with "Unrecoverable error". With no task
in flight there is nothing to restore and the restart is survived. A task that finishes after the
reconnect acks its message through the same old channel and hits the same error.

The connection settings never change for a channel, so a detached channel takes its own back:
the restore then fails (Redis is down) with a connection error that Celery ignores, and the late
ack removes the message from the unacked index once Redis is back, as it should.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis

TRANSPORT = "inference.broker:Transport"


class Channel(kombu_redis.Channel):
    def __init__(self, connection: Any, *args: Any, **kwargs: Any) -> None:
        self._connection_info = connection.client  # the kombu Connection whose settings this channel uses
        super().__init__(connection, *args, **kwargs)

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:  # detached by Connection.collect() or close()
            self.connection.client = self._connection_info
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]
        return params


class Transport(kombu_redis.Transport):
    Channel = Channel


def transport_for(url: str) -> str | None:
    """The transport to configure for a broker URL: ours for plain Redis, kombu's choice for anything else."""
    return TRANSPORT if url.startswith("redis://") else None
