"""Shared Redis clients (sync and asyncio) built from settings.REDIS_URL, one pool per process."""

from __future__ import annotations

import functools

import redis
import redis.asyncio as aredis
from django.conf import settings


@functools.cache
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True, socket_connect_timeout=2, socket_timeout=5)


_async_clients: dict[int, aredis.Redis] = {}


def get_async_redis() -> aredis.Redis:
    """One asyncio client per event loop: a pool must not be shared across loops."""
    import asyncio

    loop = asyncio.get_running_loop()
    client = _async_clients.get(id(loop))
    if client is None:
        client = aredis.Redis.from_url(settings.REDIS_URL, decode_responses=True, socket_connect_timeout=2)
        _async_clients[id(loop)] = client
    return client


def key(*parts: object) -> str:
    return ":".join([settings.WHALE_REDIS_PREFIX, *(str(p) for p in parts)])
