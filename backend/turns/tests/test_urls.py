"""turns.urls: the HTTP routes reach their views under /api/v1/, and an id of the wrong shape is the JSON 404."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from turns import api, sse

ID = uuid.uuid4()

ROUTES = [
    ("models", {}, "/api/v1/models", api.ModelListView),
    ("turns-events", {"turn_id": ID}, f"/api/v1/turns/{ID}/events", sse.TurnEventsView),
    ("user-events", {}, "/api/v1/events", sse.UserEventsView),
]


@pytest.mark.parametrize(("name", "kwargs", "path", "view"), ROUTES)
def test_each_route_reaches_its_view_with_its_id(name: str, kwargs: dict[str, Any], path: str, view: type) -> None:
    assert reverse(name, kwargs=kwargs) == path
    match = resolve(path)
    assert match.func.view_class is view  # type: ignore[attr-defined]
    assert match.kwargs == kwargs


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/conversations/not-a-uuid/messages"),
        ("post", "/api/v1/messages/12345/regenerate"),
        ("post", "/api/v1/turns/not-a-uuid/cancel"),
        ("get", "/api/v1/turns/not-a-uuid/events"),
        ("get", f"/api/v1/turns/{ID}"),
    ],
)
def test_an_id_of_the_wrong_shape_is_the_json_404(api: APIClient, method: str, path: str) -> None:
    response = getattr(api, method)(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
