"""chat.urls' send routes: the app's sends and the stop button reach their views under /api/v1/ (an id of the
wrong shape is the JSON 404: turns/tests/test_urls.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.urls import resolve, reverse

from chat import send_api as api

ID = uuid.uuid4()

ROUTES = [
    ("messages-send-first", {}, "/api/v1/messages", api.FirstMessageView),
    ("messages-send", {"conversation_id": ID}, f"/api/v1/conversations/{ID}/messages", api.SendMessageView),
    ("messages-regenerate", {"message_id": ID}, f"/api/v1/messages/{ID}/regenerate", api.RegenerateView),
    ("turns-cancel", {"turn_id": ID}, f"/api/v1/turns/{ID}/cancel", api.CancelView),
]


@pytest.mark.parametrize(("name", "kwargs", "path", "view"), ROUTES)
def test_each_route_reaches_its_view_with_its_id(name: str, kwargs: dict[str, Any], path: str, view: type) -> None:
    assert reverse(name, kwargs=kwargs) == path
    match = resolve(path)
    assert match.func.view_class is view  # type: ignore[attr-defined]
    assert match.kwargs == kwargs
