"""Open streams must not hold database connections: a process serves far more streams than its pool."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.db import connection

from chat import sends
from chat.models import Conversation
from config.asgi import application

from .conftest import access_token

pytestmark = pytest.mark.django_db(transaction=True)


def http_scope(path: str, token: str) -> dict[str, Any]:
    """A request exactly as an ASGI server hands it over, so each runs in its own request thread."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def open_request(path: str, token: str) -> tuple[ApplicationCommunicator, dict[str, Any]]:
    request = ApplicationCommunicator(application, http_scope(path, token))
    await request.send_input({"type": "http.request", "body": b"", "more_body": False})
    return request, await request.receive_output(15)


def connections_to_this_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


@pytest.mark.skipif(not settings.DATABASE_IS_POSTGRES, reason="counts Postgres sessions")
async def test_open_streams_do_not_hold_database_connections(user: Any) -> None:
    conversation = await Conversation.objects.acreate(user=user)
    # No worker serves this run's queue, so the turn stays queued and its stream stays open.
    created = await sync_to_async(sends.turn_send)(
        user=user, conversation_id=conversation.id, content="q", deepthink=True
    )
    token = await sync_to_async(access_token)(user)
    before = await sync_to_async(connections_to_this_database)()
    many = max(settings.DB_POOL_MAX_SIZE, 4) + 4
    streams: list[ApplicationCommunicator] = []
    try:
        for index in range(many):
            path = f"/api/v1/turns/{created.assistant_message.id}/events" if index % 2 else "/api/v1/events"
            stream, start = await open_request(path, token)
            streams.append(stream)
            assert start["status"] == 200
            assert b"retry:" in (await stream.receive_output(15))["body"]

        during = await sync_to_async(connections_to_this_database)()
        request, start = await open_request("/api/v1/conversations", token)
        assert start["status"] == 200, "a plain request still gets a connection while the streams are open"
        await request.receive_output(15)
    finally:
        for stream in streams:
            await stream.send_input({"type": "http.disconnect"})
            with contextlib.suppress(BaseException):
                await stream.wait(5)

    assert during - before < many / 2, f"{many} open streams held {during - before} connections"
