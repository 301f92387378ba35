"""turns.routing: the WebSocket routes reach their consumers, through the project's ASGI application too."""

from __future__ import annotations

import uuid

import pytest
from channels.testing.websocket import WebsocketCommunicator

from config.asgi import application
from config.routing import NO_ROUTE_CLOSE_CODE
from config.routing import websocket_urlpatterns as project_routes
from turns import consumers
from turns.routing import websocket_urlpatterns


def _consumer(path: str) -> tuple[type, dict[str, object]]:
    for route in websocket_urlpatterns:
        match = route.resolve(path)
        if match is not None:
            return match.func.consumer_class, match.kwargs
    raise AssertionError(f"no route for {path}")


def test_a_turns_socket_reaches_the_turn_consumer_with_its_id() -> None:
    turn_id = uuid.uuid4()
    assert _consumer(f"ws/turns/{turn_id}/") == (consumers.TurnConsumer, {"turn_id": turn_id})


def test_the_users_socket_reaches_the_user_events_consumer() -> None:
    assert _consumer("ws/events/") == (consumers.UserEventsConsumer, {})


def test_the_project_serves_every_turns_route() -> None:
    assert [str(route.pattern) for route in websocket_urlpatterns] == ["ws/turns/<uuid:turn_id>/", "ws/events/"]
    assert all(route in project_routes for route in websocket_urlpatterns)


@pytest.mark.parametrize("path", ["/ws/turns/not-a-uuid/", "/ws/turns/", f"/ws/turns/{uuid.uuid4()}", "/ws/nothing/"])
async def test_a_socket_on_no_route_is_refused_before_any_consumer_runs(path: str) -> None:
    socket = WebsocketCommunicator(application, path)
    connected, code = await socket.connect()
    assert (connected, code) == (False, NO_ROUTE_CLOSE_CODE)  # refused, not an exception in the app
