"""Django's middlewares on the event loop: one thread hop per API request, and the admin still signs in."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from asgiref.sync import SyncToAsync
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from accounts.models import User
from common.inline_middleware import InlineMessageMiddleware, InlineMiddlewareASGIHandler, InlineSessionMiddleware

PASSWORD = "x-Good-pass-1"


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the functions handed to the sync thread during the test."""
    seen: list[str] = []
    real = SyncToAsync.__call__

    async def counting(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting)
    yield seen


def asgi_client() -> httpx.AsyncClient:
    """A client of the handler config/asgi.py serves, over ASGI as uvicorn calls it."""
    transport = httpx.ASGITransport(app=InlineMiddlewareASGIHandler())
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")


@pytest.mark.django_db(transaction=True)
def test_an_api_request_hands_only_its_view_to_the_sync_thread(hops: list[str]) -> None:
    async def get() -> httpx.Response:
        async with asgi_client() as client:
            return await client.get("/api/v1/models")

    response = asyncio.run(get())

    assert response.status_code == 401  # through every middleware, DRF's view, and the error shape
    assert response.json()["error"]["code"] == "not_authenticated"
    # Django's MiddlewareMixin made 13 hops here: process_request, process_view and process_response each.
    # What is left is the handler's own: the request signals, the view, DRF's render, the 4xx log line.
    assert not [name for name in hops if "process_" in name], hops
    assert len(hops) <= 5, hops


@pytest.mark.django_db(transaction=True)
def test_the_admin_signs_in_over_asgi_with_its_session_saved_through_the_thread() -> None:
    User.objects.create_superuser(email="staff@example.com", password=PASSWORD)

    async def sign_in() -> tuple[int, int, int]:
        async with asgi_client() as client:
            page = await client.get("/admin/login/")
            token = page.cookies["csrftoken"]
            form = {"username": "staff@example.com", "password": PASSWORD}
            refused = await client.post("/admin/login/", data=form)
            signed_in = await client.post(
                "/admin/login/?next=/admin/",
                data={**form, "csrfmiddlewaretoken": token},
                headers={"Referer": "http://127.0.0.1:8000/admin/login/"},
            )
            index = await client.get("/admin/")
            return refused.status_code, signed_in.status_code, index.status_code

    refused, signed_in, index = asyncio.run(sign_in())

    assert refused == 403  # the CSRF check still runs on the loop
    assert signed_in == 302
    assert index == 200  # the session was saved, and read back on the next request


def test_a_message_added_by_the_view_is_stored_through_the_thread(settings: Any) -> None:
    settings.MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

    async def view(request: HttpRequest) -> HttpResponse:
        messages.info(request, "Saved.")
        return HttpResponse("ok")

    request = RequestFactory().get("/admin/")
    request.user = AnonymousUser()
    middleware = InlineSessionMiddleware(InlineMessageMiddleware(view))
    response = asyncio.run(middleware(request))

    assert middleware.response_needs_thread(request) is False  # the session was never touched
    stored = RequestFactory().get("/admin/", HTTP_COOKIE=f"messages={response.cookies['messages'].value}")
    assert [str(message) for message in CookieStorage(stored)] == ["Saved."]
