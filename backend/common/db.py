"""Database connection hygiene for long responses under ASGI."""

from __future__ import annotations

from django.db import connection


def release_connection() -> None:
    """Gives this thread's connection back (to the pool, or closes it) before a response that lasts minutes.

    Under ASGI a request's sync code keeps its connection until the response finishes, so every
    open stream would otherwise hold one, and a process could serve only as many streams as its
    pool. Inside a transaction (tests wrap each test in one) there is nothing to give back yet.
    """
    if not connection.in_atomic_block:
        connection.close()
