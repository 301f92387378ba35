"""Database connection hygiene for long responses under ASGI, the readiness probe's ping, and the quoted column
names the few hand-written hot-path statements are built from."""

from __future__ import annotations

from typing import Any

from django.db import connection, connections, models


def release_connection() -> None:
    """Gives this thread's connection back (to the pool, or closes it) before a response that lasts minutes.

    Under ASGI a request's sync code keeps its connection until the response finishes, so every
    open stream would otherwise hold one, and a process could serve only as many streams as its
    pool. Inside a transaction (tests wrap each test in one) there is nothing to give back yet.
    """
    if not connection.in_atomic_block:
        connection.close()


def database_ping(*, timeout: float) -> None:
    """`SELECT 1` on a connection of this thread's own, waiting at most `timeout` for the pool to give one."""
    conn = connections.create_connection("default")
    pool = getattr(conn, "pool", None)
    try:
        if pool is not None:
            pool.open()
            with pool.connection(timeout=timeout) as raw:
                raw.execute("SELECT 1")
            return
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        conn.close()


def quoted_column(model: type[models.Model], name: str) -> str:
    """The quoted database column of `model`'s field `name` (a foreign key's `..._id` column for its name)."""
    field: Any = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column
    return connection.ops.quote_name(field.column)


def writes_in_one_statement() -> bool:
    """Whether the database runs data-modifying CTEs (`WITH a AS (UPDATE ...) ...`), which the hot paths use to
    write several tables in one statement: Postgres does; SQLite, the embedded database of `make run`, does
    not, and gets the same writes as separate statements."""
    return connection.vendor == "postgresql"
