"""Database connection hygiene for long responses under ASGI, the readiness probe's ping, and the few hot-path
writes built by hand from the models' own fields (several tables in one statement on Postgres)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
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


def insert_rows(rows: Sequence[models.Model]) -> tuple[str, list[Any]]:
    """An INSERT of new rows of one model and its parameters, every concrete column as bulk_create writes it
    (each field's pre_save, then its database value), for a statement of several writes. The rows count as
    saved from then on (`_state`), as after bulk_create; call it only for a statement that is then run."""
    model = type(rows[0])
    fields = model._meta.concrete_fields
    params = [field.get_db_prep_save(field.pre_save(row, True), connection) for row in rows for field in fields]
    for row in rows:
        row._state.adding, row._state.db = False, connection.alias
    return _insert_text(model, len(rows)), params


@functools.cache
def _insert_text(model: type[models.Model], count: int) -> str:
    fields = model._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Only the model's own table and column names go into the text; every value is a parameter.
    return f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES " + ", ".join(  # noqa: S608
        [row] * count
    )


def update_row(row: models.Model, names: Sequence[str]) -> tuple[str, list[Any]]:
    """An UPDATE of one saved row's fields `names` (as save(update_fields=names) writes them) and its parameters."""
    model = type(row)
    fields: list[Any] = [model._meta.get_field(name) for name in names]
    pk: Any = model._meta.pk
    params = [field.get_db_prep_save(field.pre_save(row, False), connection) for field in fields]
    assigned = ", ".join(f"{quoted_column(model, name)} = %s" for name in names)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"UPDATE {table} SET {assigned} WHERE {quoted_column(model, pk.name)} = %s"  # noqa: S608
    return sql, [*params, pk.get_db_prep_value(row.pk, connection)]


def execute_together(statements: Sequence[tuple[str, list[Any]]]) -> None:
    """Several INSERT and UPDATE statements (insert_rows, update_row) as one, on Postgres: every one but the last
    in a data-modifying CTE. Foreign keys are checked at commit (Django's are deferred), so a row may point to
    one inserted beside it. Elsewhere (SQLite) they run one after the other."""
    if not writes_in_one_statement():
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
        return
    *first, (last_sql, last_params) = statements
    ctes = ", ".join(f"w{index} AS ({sql})" for index, (sql, _) in enumerate(first))
    params = [param for _, statement_params in first for param in statement_params]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {ctes} {last_sql}" if first else last_sql, [*params, *last_params])
